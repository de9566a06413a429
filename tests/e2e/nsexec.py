"""Run one command in a private mount namespace that looks like a fresh machine.

    unshare -m --propagation private python3 nsexec.py ROOT -- COMMAND...

ROOT holds ``pam.d``, ``run`` and ``log``; they are mounted over /etc/pam.d,
/run (so /var/run) and /var/log, so the command sees empty accounting files
and our PAM services, and the machine's own are never touched.  /dev is a
private copy with a /dev/log socket whose lines are appended to
ROOT/syslog.  Exits with the command's status.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True)


def private_dev(root: str) -> None:
    """/dev with the usual nodes and the host's ptys, plus our own /dev/log."""
    old = os.path.join(root, "olddev")
    os.makedirs(old, exist_ok=True)
    mount("--rbind", "/dev", old)
    mount("-t", "tmpfs", "-o", "mode=755", "sandboxdev", "/dev")
    for name in DEVICES:
        open(f"/dev/{name}", "w").close()
        mount("--bind", f"{old}/{name}", f"/dev/{name}")
    for name in ("pts", "shm"):
        os.mkdir(f"/dev/{name}")
        mount("--rbind", f"{old}/{name}", f"/dev/{name}")
    os.symlink("pts/ptmx", "/dev/ptmx")
    os.symlink("/proc/self/fd", "/dev/fd")
    for n, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{n}", f"/dev/{name}")


class SyslogCollector:
    """Appends every datagram sent to /dev/log to ROOT/syslog, one per line."""

    def __init__(self, root: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("/dev/log")
        os.chmod("/dev/log", 0o666)
        self.sock.settimeout(0.05)
        self.out = open(os.path.join(root, "syslog"), "ab", buffering=0)  # noqa: SIM115
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.pump, daemon=True)
        self.thread.start()

    def pump(self) -> None:
        while True:
            try:
                self.out.write(self.sock.recv(65536) + b"\n")
            except TimeoutError:
                if self.done.is_set():
                    return  # the command is gone and the queue is empty

    def close(self) -> None:
        self.done.set()
        self.thread.join()
        self.out.close()


def main() -> int:
    root = os.path.abspath(sys.argv[1])
    command = sys.argv[sys.argv.index("--") + 1 :]
    for name in ("pam.d", "run", "log"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
    mount("--bind", f"{root}/pam.d", "/etc/pam.d")
    mount("--bind", f"{root}/run", "/run")
    mount("--bind", f"{root}/log", "/var/log")
    private_dev(root)
    collector = SyslogCollector(root)
    try:
        return subprocess.run(command).returncode
    finally:
        collector.close()


if __name__ == "__main__":
    sys.exit(main())

"""Run one command in a private mount namespace that looks like a fresh machine.

    unshare -m --propagation private python3 nsexec.py ROOT -- COMMAND...

ROOT holds ``pam.d``, ``run`` and ``log``; they are mounted over /etc/pam.d,
/run (so /var/run) and /var/log, so the command sees empty accounting files
and our PAM services, and the machine's own are never touched.  When ROOT
has ``etc/passwd``, ``etc/shadow``, ``etc/group`` or ``etc/gshadow``, each is
mounted over its /etc namesake (the sandbox's own users), and ROOT/home, when
present, over /home.  ROOT's copies of pam-auth-update's state, profiles and
debconf database (``pamlib``, ``pamconfigs``, ``debconf``), when present, are
mounted over the machine's, so that pam-auth-update may run in the namespace.
/dev is a private copy with a /dev/log socket whose lines are appended to
ROOT/syslog.  ROOT/lib/wtmpdb and ROOT/lib/lastlog are mounted over
/var/lib/wtmpdb and /var/lib/lastlog where the machine has them (Debian 13's
wtmpdb and lastlog2 databases).  Exits with the command's status; a
SIGTERM is passed on to the command.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
ACCOUNT_FILES = ("passwd", "shadow", "group", "gshadow")
# Where wtmpdb and lastlog2 keep their databases outside /var/log (under /var/lib).
STATE_DIRS = ("wtmpdb", "lastlog")
# What pam-auth-update reads and writes besides /etc/pam.d (see Sandbox.enable_profile).
PAM_AUTH_UPDATE_DIRS = {"pamlib": "/var/lib/pam", "pamconfigs": "/usr/share/pam-configs",
                        "debconf": "/var/cache/debconf"}


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


def run_passing_sigterm(command: list[str]) -> int:
    children: list[subprocess.Popen[bytes]] = []
    terminated = threading.Event()

    def on_sigterm(signum: int, frame: object) -> None:
        terminated.set()
        for child in children:
            child.terminate()

    signal.signal(signal.SIGTERM, on_sigterm)
    children.append(subprocess.Popen(command))
    if terminated.is_set():
        children[0].terminate()
    return children[0].wait()


def main() -> int:
    root = os.path.abspath(sys.argv[1])
    command = sys.argv[sys.argv.index("--") + 1 :]
    for name in ("pam.d", "run", "log"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
    mount("--bind", f"{root}/pam.d", "/etc/pam.d")
    mount("--bind", f"{root}/run", "/run")
    mount("--bind", f"{root}/log", "/var/log")
    for name in ACCOUNT_FILES:
        if os.path.isfile(f"{root}/etc/{name}"):
            mount("--bind", f"{root}/etc/{name}", f"/etc/{name}")
    for name in STATE_DIRS:
        if os.path.isdir(f"{root}/lib/{name}") and os.path.isdir(f"/var/lib/{name}"):
            mount("--bind", f"{root}/lib/{name}", f"/var/lib/{name}")
    if os.path.isdir(f"{root}/home"):
        mount("--bind", f"{root}/home", "/home")
    for name, machine in PAM_AUTH_UPDATE_DIRS.items():
        if os.path.isdir(f"{root}/{name}"):
            mount("--bind", f"{root}/{name}", machine)
    private_dev(root)
    collector = SyslogCollector(root)
    try:
        return run_passing_sigterm(command)
    finally:
        collector.close()


if __name__ == "__main__":
    sys.exit(main())

"""Run a command on a new pseudo-terminal and talk to it like a person would.

    python3 ptydrive.py STEPS_JSON TIMEOUT -- COMMAND...

STEPS_JSON is a list of ["send", text] and ["expect", text] steps, taken in
order: "send" types the text, "expect" waits until the text has appeared in
the output (after what earlier expects matched).  The command is the session
leader of the terminal, which is its controlling tty.  When the steps are done
the output is read until the terminal closes (every process holding it has
gone).  Prints one JSON object: the terminal's name, all output with "\\r"
removed, the command's exit status (-N for signal N), whether TIMEOUT seconds
ran out (every process of the terminal's session is then killed) and the steps
not taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import struct
import sys
import termios
import time


def spawn(command: list[str]) -> tuple[int, int, str]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    tty = os.ttyname(slave)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(master)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.close(slave)
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    os.close(slave)
    return pid, master, tty


def converse(master: int, pending: list[list[str]], deadline: float) -> tuple[bytes, bool]:
    """Feed the steps (``pending`` keeps those not taken), then read until the
    terminal closes; False if the deadline came first."""
    output = b""
    matched = 0  # where the next expect starts looking
    while True:
        while pending:
            kind, text = pending[0]
            if kind == "send":
                os.write(master, text.encode())
            else:
                found = output.replace(b"\r", b"").find(text.encode(), matched)
                if found < 0:
                    break
                matched = found + len(text.encode())
            pending.pop(0)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return output, False
        ready, _, _ = select.select([master], [], [], remaining)
        if not ready:
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: no process holds the terminal
            data = b""
        if not data:
            if not pending:
                return output, True
            # Steps remain: util-linux login hangs the terminal up (vhangup) and
            # opens it again, so no process holds it for a moment.
            time.sleep(0.05)
            continue
        output += data


def session_members(sid: int) -> list[int]:
    """The processes of the terminal's session (the command and all it started
    that kept it), the command first."""
    members = [sid]
    for stat in os.listdir("/proc"):
        if not stat.isdigit() or int(stat) == sid:
            continue
        try:
            with open(f"/proc/{stat}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # the session id
            members.append(int(stat))
    return members


def reap(pid: int, deadline: float) -> int | None:
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    return None


def main() -> int:
    steps = json.loads(sys.argv[1])
    timeout = float(sys.argv[2])
    command = sys.argv[sys.argv.index("--") + 1 :]
    deadline = time.monotonic() + timeout
    pid, master, tty = spawn(command)
    output, closed = converse(master, steps, deadline)
    status = reap(pid, deadline if closed else time.monotonic())
    if status is None:
        closed = False
        for member in session_members(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGKILL)
        status = reap(pid, time.monotonic() + 5)
    os.close(master)
    json.dump({
        "tty": tty,
        "output": output.decode("utf-8", "replace").replace("\r", ""),
        "status": status,
        "timed_out": not closed,
        "steps_left": steps,
    }, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

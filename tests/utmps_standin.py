"""A stand-in for skarnet's utmps-utmpd and utmps-wtmpd behind s6-ipcserver, for the
tests: Debian does not package utmps.

    python3 utmps_standin.py utmpd SOCKET DIR [--egid GID] [--io-timeout S] [--max-conn N]
    python3 utmps_standin.py wtmpd SOCKET DIR [--file PATH] [--io-timeout S] [--max-conn N]

It follows the rules of /work/shared/utmps-protocol/README.txt (matching, access and
timeouts) and nothing else; tests/test_utmps_transcripts.py checks it against the
captured transcripts byte for byte.  As s6-ipcserver does, it listens on SOCKET (mode
0777), takes each client's euid and egid with SO_PEERCRED at accept, and serves each
connection in a process of its own (fork), which keeps its own file position; at most
N connections at once, later ones wait unserved in the backlog.  The daemons work in
DIR ("utmp", "wtmp" there, or --file for wtmpd).  --egid sets the effective group
before listening, as `s6-setuidgid utmp` does before s6-ipcserver: utmpd lets write
who has euid 0 or that egid.  A newline on stdout says it is ready (s6-ipcserver -1).
SIGTERM ends it and the connections it serves.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import os
import pwd
import select
import signal
import socket
import struct
import sys
import time

# The packed utmpx of README.txt (x86_64, little endian).  Written out here rather
# than taken from pam_pyutmp.utmps, so that the client is not checked against itself.
UTMPX = struct.Struct("<h2xi32s4s32s256shhi4xqq16s20s4x")
SIZE = UTMPX.size
assert SIZE == 400
EMPTY, RUN_LVL, BOOT_TIME, NEW_TIME, OLD_TIME = 0, 1, 2, 3, 4
INIT_PROCESS, LOGIN_PROCESS, USER_PROCESS, DEAD_PROCESS = 5, 6, 7, 8
BUFFER_SIZE = 512  # skalibs' buffer_0small: a read takes whatever is there, up to this
UCRED = struct.Struct("iII")


class Exit(Exception):
    """The daemon process ends here, with this status (no reply unless sent before)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Stdio:
    """The daemon's stdin and stdout: the connection, read through a buffer."""

    def __init__(self, sock: socket.socket, io_timeout: float) -> None:
        self.sock = sock
        self.io_timeout = io_timeout
        self.buffer = b""

    def get(self, size: int, deadline: float | None) -> bytes:
        """``size`` bytes, or fewer at EOF or at the deadline (None: wait forever)."""
        while len(self.buffer) < size:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if wait == 0.0 or not select.select([self.sock], [], [], wait)[0]:
                break
            try:
                chunk = self.sock.recv(BUFFER_SIZE)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def payload(self, size: int) -> bytes:
        """What follows a command byte: within io_timeout, or the daemon dies silently."""
        data = self.get(size, time.monotonic() + self.io_timeout)
        if len(data) < size:
            raise Exit(111)
        return data

    def put(self, data: bytes) -> None:
        """A reply, flushed within io_timeout, or the daemon dies silently."""
        self.sock.settimeout(self.io_timeout)
        try:
            self.sock.sendall(data)
        except OSError:
            raise Exit(111) from None


def cstr(field: bytes, n: int) -> bytes:
    """The bytes strncmp(a, b, n) compares: up to n, up to the first NUL."""
    return field[:n].split(b"\0", 1)[0]


def idmatch(query_type: int, query_id: bytes, record: tuple) -> bool:  # type: ignore[type-arg]
    if query_type in (BOOT_TIME, OLD_TIME, NEW_TIME):
        return bool(record[0] == query_type)
    if query_type in (INIT_PROCESS, LOGIN_PROCESS, USER_PROCESS, DEAD_PROCESS):
        return record[0] in (INIT_PROCESS, LOGIN_PROCESS, USER_PROCESS, DEAD_PROCESS) and \
            cstr(query_id, 4) == cstr(record[3], 4)
    return False


class Utmpd:
    """One utmps-utmpd process: one connection, its own file position."""

    def __init__(self, io: Stdio, euid: int, egid: int) -> None:
        self.io = io
        self.euid = euid
        self.egid = egid
        self.fd = -1

    def answer(self, code: int) -> None:
        self.io.put(bytes([code & 0xFF]))

    def fatal(self, code: int, unlink: bool = False) -> None:
        if unlink:
            with contextlib.suppress(OSError):
                os.unlink("utmp")
        self.answer(code)
        raise Exit(111)

    def maybe_open(self) -> None:
        if self.fd < 0:
            mask = os.umask(0)
            try:
                self.fd = os.open("utmp", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as err:
                self.fatal(err.errno or errno.EIO)
            finally:
                os.umask(mask)

    def lock(self, exclusive: bool) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        except OSError as err:
            self.fatal(err.errno or errno.EIO, unlink=True)

    def unlock(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def read_entry(self) -> bytes | None:
        try:
            data = os.read(self.fd, SIZE)
        except OSError as err:
            self.fatal(err.errno or errno.EIO, unlink=True)
        if not data:
            return None
        if len(data) < SIZE:
            self.fatal(errno.EPIPE, unlink=True)  # a short read: the file is broken
        return data

    def serve(self) -> int:
        while True:
            command = self.io.get(1, None)  # no idle timeout (vector 20)
            if not command:
                return 0
            action = {b"e": self.getent, b"i": self.getid, b"l": self.getline,
                      b"E": self.putline, b"r": self.rewind}.get(command)
            if action is None:
                return 1  # "interpret stdin: Protocol error", no reply
            action()

    def rewind(self) -> None:
        self.maybe_open()
        os.lseek(self.fd, 0, os.SEEK_SET)
        self.answer(0)

    def getent(self) -> None:
        self.maybe_open()
        self.lock(False)
        entry = self.read_entry()
        self.unlock()
        if entry is None:
            self.answer(errno.ESRCH)
        else:
            self.io.put(b"\0" + entry)

    def scan(self, matches: object) -> None:
        """From the current position, the first record ``matches``; the position
        stays after it.  ESRCH at the end of the file."""
        self.maybe_open()
        self.lock(False)
        while True:
            entry = self.read_entry()
            if entry is None:
                self.unlock()
                self.answer(errno.ESRCH)
                return
            if matches(UTMPX.unpack(entry)):  # type: ignore[operator]
                break
        self.unlock()
        self.io.put(b"\0" + entry)

    def getid(self) -> None:
        query_type, query_id = struct.unpack(">H4s", self.io.payload(6))
        self.scan(lambda record: idmatch(query_type, query_id, record))

    def getline(self) -> None:
        line = cstr(self.io.payload(32), 32)
        self.scan(lambda record: record[0] in (LOGIN_PROCESS, USER_PROCESS)
                  and cstr(record[2], 32) == line)

    def putline(self) -> None:
        data = self.io.payload(SIZE)
        # Checked after the payload is read; the connection stays usable.
        if self.euid != 0 and self.egid != os.getegid():
            self.answer(errno.EPERM)
            return
        new = UTMPX.unpack(data)
        self.maybe_open()
        self.lock(True)
        with contextlib.suppress(OSError):  # at offset 0 there is no record before
            os.lseek(self.fd, -SIZE, os.SEEK_CUR)
        while True:
            entry = self.read_entry()
            if entry is None:
                break  # not found: append at the end, where the scan stopped
            old = UTMPX.unpack(entry)
            if idmatch(new[0], new[3], old) and cstr(new[2], 32) == cstr(old[2], 32):
                os.lseek(self.fd, -SIZE, os.SEEK_CUR)
                break
        try:
            written = os.write(self.fd, data)
            if written < SIZE:
                raise OSError(errno.EIO, "short write")
        except OSError as err:
            self.unlock()
            self.answer(err.errno or errno.EIO)
            raise Exit(111) from None
        os.fsync(self.fd)
        self.unlock()
        self.answer(0)


def wtmpd(io: Stdio, euid: int, path: str) -> int:
    """One utmps-wtmpd process: exactly one '+' request, within io_timeout in all."""
    deadline = time.monotonic() + io.io_timeout
    if io.get(1, deadline) != b"+":
        return 111  # EPROTO (or nothing came), no reply
    data = io.get(SIZE, deadline)
    if len(data) < SIZE:
        return 111
    user = cstr(UTMPX.unpack(data)[4], 31)  # ut_user[UTMPS_UT_NAMESIZE - 1] = 0
    if euid != 0:
        try:
            entry = pwd.getpwnam(os.fsdecode(user))
        except (KeyError, ValueError):
            io.put(bytes([errno.EPERM]))  # "no such user"
            return 1
        if entry.pw_uid != euid:
            io.put(bytes([errno.EPERM]))  # "uid mismatch"
            return 1
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.lseek(fd, 0, os.SEEK_END)
    except OSError as err:
        io.put(bytes([(err.errno or errno.EIO) & 0xFF]))
        return 111
    written = 0
    try:
        written = os.write(fd, data)
        if written < SIZE:
            raise OSError(errno.ENOSPC, "short write")
    except OSError as err:
        if written:  # a short write is truncated back: whole records only
            os.ftruncate(fd, os.fstat(fd).st_size - written)
        io.put(bytes([(err.errno or errno.EIO) & 0xFF]))
        return 111
    os.fsync(fd)
    fcntl.flock(fd, fcntl.LOCK_UN)
    io.put(b"\0")
    return 0


def serve_connection(args: argparse.Namespace, conn: socket.socket) -> int:
    _pid, euid, egid = UCRED.unpack(
        conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, UCRED.size))
    io = Stdio(conn, args.io_timeout)
    try:
        if args.daemon == "utmpd":
            return Utmpd(io, euid, egid).serve()
        return wtmpd(io, euid, args.file or "wtmp")
    except Exit as end:
        return end.code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("daemon", choices=("utmpd", "wtmpd"))
    parser.add_argument("socket")
    parser.add_argument("dir")
    parser.add_argument("--egid", type=int)
    parser.add_argument("--file", help="wtmpd: the wtmp file (argv[1] of utmps-wtmpd)")
    parser.add_argument("--io-timeout", type=float, default=30.0)
    parser.add_argument("--max-conn", type=int, default=40)
    args = parser.parse_args()

    if args.egid is not None:
        os.setegid(args.egid)
    os.chdir(args.dir)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(args.socket)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    listener.bind(args.socket)
    os.chmod(args.socket, 0o777)
    listener.listen(64)
    children: set[int] = set()

    def stop(signum: int, frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    sys.stdout.write("\n")
    sys.stdout.flush()
    while True:
        while children:
            pid, _status = os.waitpid(-1, os.WNOHANG)
            if not pid:
                break
            children.discard(pid)
        if len(children) >= args.max_conn or not select.select([listener], [], [], 0.05)[0]:
            time.sleep(0.01 if len(children) >= args.max_conn else 0)
            continue
        conn, _ = listener.accept()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            listener.close()
            code = 111
            try:
                code = serve_connection(args, conn)
            finally:
                os._exit(code)
        children.add(pid)
        conn.close()


if __name__ == "__main__":
    sys.exit(main())

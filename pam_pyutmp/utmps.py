"""A client of skarnet's utmps daemons (utmps-utmpd, utmps-wtmpd), in pure Python.

On musl systems (Alpine, Gentoo musl) utmp and wtmp belong to these daemons.
libutmps is no way to reach them from here: linked into a dlopen()ed object
(pam_python.so loads us) its pututxline()/updwtmpx() bind to the C library's
own functions, and its POSIX calls have no timeout, so a hung daemon would
hang the login.  This module speaks the daemons' wire protocol itself, the
bytes libutmps sends, with every wait bounded by a deadline.

The protocol: AF_UNIX stream sockets, fixed-size messages, no framing.
utmpd, one connection per setutxent..endutxent:
  'r'                      -> status                (setutxent)
  'e'                      -> status [+ record]     (getutxent)
  'i' + u16 type (BE) + id -> status [+ record]     (getutxid)
  'l' + line[32]           -> status [+ record]     (getutxline)
  'E' + record             -> status                (pututxline)
wtmpd, one request per connection: '+' + record -> status.
The status byte is an errno (0: success, ESRCH: no such record / end); an
EOF instead of an answer means the daemon died (EPIPE, as libutmps says).
"""

from __future__ import annotations

import errno
import os
import select
import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO, NoReturn

from pam_pyutmp import slots
from pam_pyutmp.errors import InvalidFieldError, PyutmpError, UtmpError, WtmpError
from pam_pyutmp.records import Record
from pam_pyutmp.stores import DEFAULT_UTMPS_TIMEOUT

# The daemons' record is the raw in-memory struct utmpx of <utmps/utmpx.h>
# (utmps_utmpx_pack() is a memcpy), native byte order, padding included.  Its
# layout is derived here from the C field list with this platform's C
# alignment rules (struct's native "@" mode); on LP64 that is 400 bytes with a
# 64-bit ut_tv at offset 344, not glibc's 384-byte struct.
#   struct exit_status { short e_termination, e_exit; };
#   struct utmpx { short ut_type; pid_t ut_pid; char ut_line[32]; char ut_id[4];
#     char ut_user[32]; char ut_host[256]; struct exit_status ut_exit;
#     pid_t ut_session; struct timeval ut_tv; uint32_t ut_addr_v6[4];
#     char _dummy[20]; };
_FIELDS = (
    ("type", "h"),
    ("pid", "i"),  # pid_t is int on Linux
    ("line", "32s"),
    ("id", "4s"),
    ("user", "32s"),
    ("host", "256s"),
    ("exit_termination", "h"),
    ("exit_exit", "h"),
    ("session", "i"),
    # struct timeval: musl's time_t and suseconds_t are 64-bit on every
    # architecture (musl >= 1.2), so both are "q"; with two such members the
    # nested struct is aligned as "q" is, so aligning its first one suffices.
    ("tv_sec", "q"),
    ("tv_usec", "q"),
    # uint32_t[4] holding the raw inet_pton() bytes: aligned as uint32_t ("0I"),
    # kept as bytes so that no byte order is applied to an address.
    ("addr_v6", "0I16s"),
    ("dummy", "20s"),
)
# "0q" pads the end to the struct's alignment, that of its widest member.
LAYOUT = struct.Struct("@" + "".join(code for _, code in _FIELDS) + "0q")
RECORD_SIZE = LAYOUT.size
LINE_SIZE, ID_SIZE, USER_SIZE, HOST_SIZE = 32, 4, 32, 256
_GETID = struct.Struct(">H4s")  # the one big-endian integer of the protocol
_UCRED = struct.Struct("iII")  # struct ucred: pid_t pid; uid_t uid; gid_t gid

# Status bytes with a meaning of their own in the protocol.
OK = 0
NOT_FOUND = errno.ESRCH


def _text(raw: bytes) -> str:
    # strncpy semantics: NUL-padded, not necessarily NUL-terminated.
    # surrogateescape keeps every byte, so a record round-trips.
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _field(name: str, value: str, size: int) -> bytes:
    data = value.encode("utf-8", "surrogateescape")
    if len(data) > size:
        # struct would cut it silently; a cut user or line names another session.
        raise InvalidFieldError(name, f"{len(data)} bytes, the utmps record holds {size}")
    return data


def pack(record: Record) -> bytes:
    """The daemons' 400-byte record (on LP64) for ``record``: strings NUL-padded
    without a forced terminator, ut_exit, padding and _dummy zero."""
    if len(record.addr_v6) != 16:
        raise InvalidFieldError("addr_v6", f"{len(record.addr_v6)} bytes, not 16")
    try:
        return LAYOUT.pack(
            record.type, record.pid,
            _field("line", record.line, LINE_SIZE), _field("id", record.id, ID_SIZE),
            _field("user", record.user, USER_SIZE), _field("host", record.host, HOST_SIZE),
            0, 0, record.session, record.tv_sec, record.tv_usec, record.addr_v6, b"",
        )
    except struct.error as err:
        raise InvalidFieldError("record", f"a number does not fit its field: {err}") from None


# utmps-wtmpd appends to "wtmp" in its working directory: /var/log in Alpine's service.
DEFAULT_WTMPD_FILE = "/var/log/wtmp"


def _read_records(wtmp: BinaryIO, chunk_records: int = 4096) -> Iterator[Record]:
    with wtmp:
        while True:
            data = wtmp.read(RECORD_SIZE * chunk_records)
            for offset in range(0, len(data) - RECORD_SIZE + 1, RECORD_SIZE):
                yield unpack(data[offset : offset + RECORD_SIZE])
            if len(data) < RECORD_SIZE * chunk_records:
                return


def unpack(raw: bytes) -> Record:
    """A record from the daemons' bytes (ut_exit and _dummy are not kept)."""
    (type_, pid, line, id_, user, host, _term, _exit, session, tv_sec, tv_usec,
     addr_v6, _dummy) = LAYOUT.unpack(raw)
    return Record(type_, pid, _text(line), _text(id_), _text(user), _text(host), session,
                  tv_sec, tv_usec, addr_v6)


class Link:
    """One connection to a daemon; every wait ends at ``deadline`` (time.monotonic()).

    Each request goes out whole with one send() where the socket takes it
    (MSG_NOSIGNAL: a dead daemon is an error, not a SIGPIPE in the host
    program); a request half sent when time runs out is abandoned by closing
    the connection, so the daemon never acts on it.
    """

    def __init__(self, daemon: str, path: str, timeout: float, deadline: float,
                 error: type[PyutmpError]) -> None:
        self.daemon = daemon
        self.path = path
        self.timeout = timeout
        self.deadline = deadline
        self.error = error
        self.sock = socket.socket(
            socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
        try:
            self._connect()
        except BaseException:
            self.sock.close()
            raise

    def fail(self, code: int, text: str) -> NoReturn:
        """Close the connection and raise; ``text`` is prefixed with the daemon's
        name unless it starts with it."""
        self.close()
        if not text.startswith(self.daemon + " "):
            text = f"{self.daemon}: {text}"
        raise self.error(code, text, self.path)

    def close(self) -> None:
        self.sock.close()

    def _wait(self, events: int) -> None:
        left = self.deadline - time.monotonic()
        if left > 0:
            poller = select.poll()
            poller.register(self.sock, events)
            if poller.poll(max(1, int(left * 1000 + 0.999))):
                return
        self._timed_out()

    def _timed_out(self) -> NoReturn:
        self.fail(errno.ETIMEDOUT,
                  f"no answer within {self.timeout:g} s (the daemon hangs, or serves as many "
                  "connections as it may; utmps_timeout= sets the wait)")

    def _connect(self) -> None:
        while True:
            try:
                self.sock.connect(self.path)
                return
            except BlockingIOError as err:
                if err.errno == errno.EINPROGRESS:
                    self._wait(select.POLLOUT)
                    code = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if code:
                        self._connect_failed(code)
                    return
                # EAGAIN: the listen backlog is full; the daemon may catch up.
                if time.monotonic() >= self.deadline:
                    self._timed_out()
                time.sleep(min(0.01, max(0.0, self.deadline - time.monotonic())))
            except OSError as err:
                self._connect_failed(err.errno or errno.EIO)

    def _connect_failed(self, code: int) -> NoReturn:
        why = {
            errno.ENOENT: f"no socket at {self.path} (is utmps-{self.daemon} running?)",
            errno.ECONNREFUSED: f"nothing listens on {self.path} "
                                f"(utmps-{self.daemon} is not running)",
            errno.EACCES: f"no permission to connect to {self.path}",
        }.get(code, os.strerror(code))
        self.fail(code, f"cannot connect: {why}")

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[self.sock.send(view, socket.MSG_NOSIGNAL):]
            except BlockingIOError:
                self._wait(select.POLLOUT)
            except (BrokenPipeError, ConnectionResetError):
                self._died("before taking the whole request")

    def receive(self, size: int, when: str) -> bytes:
        """Exactly ``size`` bytes; ``when`` says, for the message, where an EOF came."""
        data = bytearray()
        while len(data) < size:
            try:
                chunk = self.sock.recv(size - len(data))
            except BlockingIOError:
                self._wait(select.POLLIN)
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self._died(when)
            data += chunk
        return bytes(data)

    def _died(self, when: str) -> NoReturn:
        # libutmps reports EPIPE for an EOF: the daemon exited without an answer
        # (a request it does not know, a payload later than its 30 s) or was killed.
        self.fail(errno.EPIPE, f"the daemon closed the connection {when}")

    def ask(self, request: bytes, with_record: bool = False) -> tuple[int, bytes | None]:
        """Send one request; the status byte, and the record that follows a
        success when the request is one that returns a record."""
        self.send(request)
        status = self.receive(1, "instead of an answer")[0]
        if status != OK or not with_record:
            return status, None
        return status, self.receive(RECORD_SIZE, "in the middle of a reply (after its status)")

    def peer_gid(self) -> int | None:
        """The listening daemon's group (SO_PEERCRED: as it was at listen())."""
        try:
            creds = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
        except OSError:
            return None
        return int(_UCRED.unpack(creds)[2])


def _deadline(timeout: float) -> float:
    return time.monotonic() + timeout


class UtmpdSession:
    """One connection to utmpd: the libutmps calls from setutxent() to
    endutxent().  The daemon keeps a file position per connection."""

    def __init__(self, path: str, timeout: float = DEFAULT_UTMPS_TIMEOUT,
                 deadline: float | None = None) -> None:
        self.link = Link("utmpd", path, timeout,
                         _deadline(timeout) if deadline is None else deadline, UtmpError)

    def __enter__(self) -> UtmpdSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """endutxent()."""
        self.link.close()

    def _status(self, status: int, action: str) -> None:
        if status != OK:
            self.link.fail(status, f"{action}: {os.strerror(status)}")

    def _found(self, status: int, raw: bytes | None, action: str) -> Record | None:
        if status == NOT_FOUND:
            return None
        self._status(status, action)
        assert raw is not None
        return unpack(raw)

    def rewind(self) -> None:
        """setutxent(): back to the first record."""
        status, _ = self.link.ask(b"r")
        self._status(status, "cannot rewind utmp")

    def getent(self) -> Record | None:
        """getutxent(): the next record; None at the end."""
        return self._found(*self.link.ask(b"e", with_record=True), "cannot read utmp")

    def getid(self, type_: int, id_: str) -> Record | None:
        """getutxid(): the next record matching ``type_`` and ``id_`` (the daemon's
        rules: BOOT/OLD/NEW_TIME by type, INIT/LOGIN/USER/DEAD_PROCESS by id)."""
        try:
            request = b"i" + _GETID.pack(type_, _field("id", id_, ID_SIZE))
        except struct.error:
            raise InvalidFieldError("type", f"{type_} is no ut_type") from None
        return self._found(*self.link.ask(request, with_record=True), "cannot search utmp")

    def getline(self, line: str) -> Record | None:
        """getutxline(): the next LOGIN_PROCESS or USER_PROCESS record on ``line``."""
        request = b"l" + _field("line", line, LINE_SIZE).ljust(LINE_SIZE, b"\0")
        return self._found(*self.link.ask(request, with_record=True), "cannot search utmp")

    def putline(self, record: Record) -> None:
        """pututxline(): the daemon steps back one record, then overwrites the
        first record from there on with a matching id and the same line, or
        appends.  After a rewind that is the first such record of the file."""
        status, _ = self.link.ask(b"E" + pack(record))
        if status == errno.EPERM:
            self.link.fail(status, _refused_write(self.link.peer_gid()))
        self._status(status, "cannot write utmp")


def _refused_write(daemon_gid: int | None) -> str:
    group = "utmp"
    if daemon_gid:  # the listener's group; 0 says nothing about the daemon's own
        import grp  # only on this path

        try:
            group = grp.getgrgid(daemon_gid).gr_name
        except KeyError:
            group = str(daemon_gid)
    return (f"utmpd refused the write: needs root or effective group {group} "
            f"(chgrp {group} PROG; chmod g+s PROG, or run it under s6-setuidgid); "
            f"this process has euid {os.geteuid()}, egid {os.getegid()}, and supplementary "
            "groups do not count")


class UtmpdClient:
    """utmp held by utmps-utmpd, as a :class:`pam_pyutmp.stores.UtmpStore`.

    Each call is one connection with one deadline ``timeout`` seconds away,
    unless it runs inside :meth:`exclusive`, which holds one connection and
    one deadline for the whole step.
    """

    def __init__(self, socket_path: str, timeout: float = DEFAULT_UTMPS_TIMEOUT) -> None:
        self.name = socket_path
        self.timeout = timeout
        self._held: UtmpdSession | None = None

    @contextmanager
    def _session(self) -> Iterator[UtmpdSession]:
        if self._held is not None:
            yield self._held
            return
        with UtmpdSession(self.name, self.timeout) as session:
            yield session

    def read(self) -> list[Record]:
        with self._session() as session:
            session.rewind()
            records = []
            while (record := session.getent()) is not None:
                records.append(record)
            return records

    def put(self, record: Record) -> None:
        # Rewind first: putline searches only from the connection's current
        # record on, and without the rewind a slot before it would get a
        # duplicate appended instead of being replaced (vectors 16 and 17).
        with self._session() as session:
            session.rewind()
            session.putline(record)

    def login(self, record: Record, label: str, has_tty: bool) -> Record:
        with self.exclusive():
            snapshot = self.read()
            chosen = slots.choose(snapshot, record, label, has_tty, self.name)
            self.put(chosen)
            self._retire(snapshot, chosen)
            return chosen

    def logout(self, record: Record, logout: Record) -> bool:
        with self.exclusive():
            # The daemon overwrites only a record whose ut_line is the new one's
            # too (glibc's files: any record with the same ut_id).
            snapshot = self.read()
            if not slots.holds(snapshot, record, put_matches_line=True):
                return False
            self.put(logout)
            self._retire(snapshot, record)
            return True

    def _retire(self, snapshot: list[Record], taken: Record) -> None:
        for dead in slots.retired_stale(snapshot, taken):
            with suppress(PyutmpError):  # best effort: the login or logout itself is done
                self.put(dead)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """A read-decide-write step on one connection, under our writers' lock.

        utmpd has no lock that spans requests or connections.  The lock here
        serialises our own writers (every process using this module, in this
        network namespace) on the same socket path, so two of our logins never
        pick the same free slot.  What remains: a writer that is not ours
        (login or sshd through libutmps, or ours in another network namespace
        sharing the socket) may write between our read and our put; we may
        then overwrite a slot it took a moment ago, or it ours.
        """
        deadline = _deadline(self.timeout)
        lock = _writers_lock(self.name, deadline, self.timeout)
        try:
            with UtmpdSession(self.name, self.timeout, deadline) as session:
                self._held = session
                try:
                    yield
                finally:
                    self._held = None
        finally:
            lock.close()


def _writers_lock(path: str, deadline: float, timeout: float) -> socket.socket:
    """Our writers' lock for one utmpd socket: a name in the abstract unix socket
    namespace, which one socket at a time can be bound to and which the kernel
    frees when its holder closes it or dies, so a crash never leaves it held."""
    name = (b"\0pam_pyutmp-utmpd-lock:" + os.fsencode(os.path.abspath(path)))[:108]
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    pause = 0.001
    while True:
        try:
            lock.bind(name)
            return lock
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                lock.close()
                raise UtmpError(err.errno or errno.EIO,
                                f"utmpd: cannot take our writers' lock: {err.strerror}",
                                path) from None
        left = deadline - time.monotonic()
        if left <= 0:
            lock.close()
            raise UtmpError(errno.EAGAIN, f"utmpd: another of our processes held the writers' "
                                          f"lock for {timeout:g} s", path)
        # Back off with jitter, as the file store does, so waiters do not poll in step.
        time.sleep(min(left, pause * (0.5 + (time.monotonic_ns() % 1000) / 1000)))
        pause = min(2 * pause, 0.05)


class WtmpdClient:
    """wtmp held by utmps-wtmpd, as a :class:`pam_pyutmp.stores.WtmpStore`."""

    def __init__(self, socket_path: str, timeout: float = DEFAULT_UTMPS_TIMEOUT,
                 wtmp_file: str = DEFAULT_WTMPD_FILE) -> None:
        self.name = socket_path
        self.timeout = timeout
        self.wtmp_file = wtmp_file

    def records(self) -> Iterator[Record]:
        """wtmpd answers no reads: readers (`last` on Alpine) open its file, in
        the daemons' record layout.  A torn tail is left out."""
        try:
            wtmp = open(self.wtmp_file, "rb")  # noqa: SIM115 (closed by the generator)
        except OSError as err:
            raise WtmpError(err.errno or errno.EIO, f"cannot read wtmp: {err.strerror}",
                            self.wtmp_file) from None
        return _read_records(wtmp)

    def append(self, record: Record) -> None:
        """One connection, '+' and the record, one status byte (updwtmpx()).
        The daemon appends the whole record or truncates a short write away."""
        request = b"+" + pack(record)
        link = Link("wtmpd", self.name, self.timeout, _deadline(self.timeout), WtmpError)
        try:
            status, _ = link.ask(request)
            if status == errno.EPERM:
                link.fail(status, _refused_append(record))
            if status != OK:
                link.fail(status, f"cannot append to wtmp: {os.strerror(status)}")
        finally:
            link.close()


def _refused_append(record: Record) -> str:
    text = (f"wtmpd refused the record: needs root, or the record's user ({record.user!r}) "
            f"to be this process's own user (euid {os.geteuid()})")
    if not record.user:
        text += "; a logout record names no user, so only root may append it"
    return text

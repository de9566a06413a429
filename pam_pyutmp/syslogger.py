"""One log record per event, facility authpriv, ident pam_pyutmp.

Where the systemd journal's socket exists, a record goes there in the journal's
native protocol, with fields of its own (PYUTMP_USER, ...) and, for the events
(a session opened or closed, a failed login), a fixed MESSAGE_ID; otherwise it
is a syslog line with the same text, its fields as key=value pairs.  Written
straight to the socket rather than through openlog(3) or sd_journal_send():
openlog would change the ident of every later line the host program (sshd, su)
logs.  A record that cannot be delivered in time is counted in LOST_FILE, and
the next record delivered, by any process, says how many were lost.
"""

from __future__ import annotations

# socket's C half alone: the socket module imports enum and selectors, which a
# login would pay for at every start of Python.
import _socket

# os's C half, the very same functions: os itself would bring _collections_abc
# into every start of Python that runs a session.
import posix
import time

from pam_pyutmp.fields import CONTROLS

LOG_AUTHPRIV = 10 << 3
LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG = 3, 4, 5, 6, 7
IDENT = "pam_pyutmp"
SOCKET_PATH = "/dev/log"
JOURNAL_SOCKET = "/run/systemd/journal/socket"
# Records that could not be delivered, one byte each (appends are atomic); the
# next process that delivers one reports the count and empties the file.
LOST_FILE = "/run/pam_pyutmp/log-lost"

# The events, each with its journal MESSAGE_ID (`journalctl MESSAGE_ID=...`).
SESSION_OPENED = "session-opened"
SESSION_CLOSED = "session-closed"
LOGIN_FAILED = "login-failed"
MESSAGE_IDS = {
    SESSION_OPENED: "1d643436439243c692138f77e3146f6b",
    SESSION_CLOSED: "4b2f3198a60b4c6ab6dfad045545fec5",
    LOGIN_FAILED: "5512b37616fa469f872601d8a9f75b5b",
}

_ESCAPED = {ord(char): f"\\x{ord(char):02x}" for char in CONTROLS}
# The Unicode line and paragraph separators end a line for some log viewers (and
# for Python's str.splitlines): a value must not start a line of its own there.
_ESCAPED.update({0x2028: "\\u2028", 0x2029: "\\u2029"})

# Sizes a syslog relay carries: RFC 3164 allows a line of 1024 bytes, and
# relays cut or drop longer ones.  A field value is cut first, so that one
# long value (a 10,000-byte user name) leaves the others in the line; what is
# cut ends in CUT.
FIELD_MAX = 256
LINE_MAX = 1024
CUT = "[...]"


def escape(text: str) -> str:
    """Control characters, and bytes that were not UTF-8 (surrogate-escaped),
    as \\xNN, the Unicode line separators as \\u2028 and \\u2029: a log line
    must not carry terminal escapes, invalid text or a line break."""
    if text.isprintable():  # neither: the common case, decided at C speed
        return text
    text = text.translate(_ESCAPED)
    if not text.isprintable() and any("\udc80" <= char <= "\udcff" for char in text):
        text = "".join(f"\\x{ord(char) - 0xDC00:02x}" if "\udc80" <= char <= "\udcff" else char
                       for char in text)
    return text


def fields(**values: object) -> str:
    """``key=value`` pairs for log shippers; a value that is empty or has a space, quote,
    "=" or backslash is quoted, its backslashes and quotes escaped with a backslash."""
    texts = ["" if value is None else _capped(str(value)) for value in values.values()]
    joined = "".join(texts)
    # Printable text without a space, quote, "=" or backslash in any value: the common
    # case, checked once for the whole line at C speed.  Then only an empty value is quoted.
    if (joined.isprintable() and " " not in joined and '"' not in joined and "=" not in joined
            and "\\" not in joined):
        return " ".join([f"{key}={text or _EMPTY}" for key, text in zip(values, texts)])
    return " ".join([f"{key}={_value(text)}" for key, text in zip(values, texts)])


_EMPTY = '""'


def _capped(text: str) -> str:
    return text if len(text) <= FIELD_MAX else text[:FIELD_MAX] + CUT


def _value(value: str) -> str:
    text = escape(value)
    # One word exactly when it is not empty and has no whitespace (split() knows
    # the same whitespace as isspace(); printable text has no other than the
    # space), quote, "=" or backslash.  A backslash is quoted too (and so escaped):
    # a reader that takes \ as the escape character everywhere, as liblognorm's
    # string parser does, would otherwise drop the one of an escaped control
    # character (\x1b).
    one_word = " " not in text if text.isprintable() else len(text.split()) == 1
    if text and one_word and '"' not in text and "=" not in text and "\\" not in text:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def log(priority: int, message: str, pid: int | None = None, event: str | None = None,
        values: dict[str, object] | None = None) -> None:
    """Send one record, naming process ``pid`` (by default this one's): ``message``,
    and for an ``event`` its MESSAGE_ID and ``values`` as journal fields.  A missing
    or full log socket never fails a login: the record is counted as lost."""
    if pid is None:
        pid = posix.getpid()
    lost = _take_lost()
    if lost:
        message += f" lost={lost}"
    text = _cut(escape(message))
    delivered = _send_journal(_journal_record(priority, text, pid, event, values, lost))
    if not delivered:
        line = f"<{LOG_AUTHPRIV | priority}>{_timestamp()} {IDENT}[{pid}]: {text}"
        delivered = _send_syslog(_cut(line).encode("utf-8", "backslashreplace"))
    if not delivered:
        _count_lost(1 + lost)


def _cut(text: str) -> str:
    """``text`` within LINE_MAX bytes, cut on a character boundary and marked."""
    data = text.encode("utf-8", "backslashreplace")
    if len(data) <= LINE_MAX:
        return text
    return data[:LINE_MAX - len(CUT)].decode("utf-8", "ignore") + CUT


def _send_syslog(data: bytes) -> bool:
    if _send_datagram(data):
        return True
    try:
        sock = _connected(_socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        sock.sendall(data + b"\0")
        return True
    except OSError:
        return False
    finally:
        sock.close()


def _journal_record(priority: int, text: str, pid: int, event: str | None,
                    values: dict[str, object] | None, lost: int) -> bytes:
    """The journal's native protocol: one KEY=value line per field.  Every value is
    escaped and capped (no newline in any), so the plain form serves."""
    fields = {"MESSAGE": text, "PRIORITY": priority, "SYSLOG_FACILITY": LOG_AUTHPRIV >> 3,
              "SYSLOG_IDENTIFIER": IDENT, "SYSLOG_PID": pid}
    if event is not None:
        fields.update({"MESSAGE_ID": MESSAGE_IDS[event], "PYUTMP_EVENT": event})
        for key, value in (values or {}).items():
            fields["PYUTMP_" + key.upper()] = "" if value is None else escape(_capped(str(value)))
    if lost:
        fields["PYUTMP_LOST"] = lost
    return "".join(f"{key}={value}\n" for key, value in fields.items()).encode(
        "utf-8", "backslashreplace")


_stamp_second = -1
_stamp = ""


def _timestamp() -> str:
    """syslog's "Nov 26 16:20:05", made once per second: a host that runs many
    sessions would otherwise format the same stamp again and again."""
    global _stamp_second, _stamp
    second = int(time.time())
    if second != _stamp_second:
        _stamp, _stamp_second = time.strftime("%b %e %H:%M:%S", time.localtime(second)), second
    return _stamp


# How long a record may wait for room when the log daemon's queue is full (glibc's
# syslog(3) waits without a bound).  1000 logins at once through rsyslog, with the
# queue of 10 datagrams a new namespace has: 0.5 s lost up to 30 records in 2 of 5
# runs, 2 s none in 5 (tests/e2e/test_fleet_log.py, Debian 13).
SEND_TIMEOUT = 2.0

# The datagram socket lines go through, and the path it is connected to: a
# process that outlives its logins (pam_pyutmp.so keeps Python) keeps one.
_datagram: _socket.socket | None = None
_datagram_path = ""


def _connected(kind: int) -> _socket.socket:
    sock = _socket.socket(_socket.AF_UNIX, kind | _socket.SOCK_CLOEXEC)
    try:
        sock.settimeout(SEND_TIMEOUT)
        sock.connect(SOCKET_PATH)
    except OSError:
        sock.close()
        raise
    return sock


# The datagram socket records go through to the journal, kept as the syslog one is.
_journal: _socket.socket | None = None
_journal_path = ""


def _send_journal(data: bytes) -> bool:
    """Deliver a native-protocol record; False when there is no journal socket or
    it takes nothing in time (the caller falls back to syslog)."""
    global _journal, _journal_path
    if _journal is None or _journal_path != JOURNAL_SOCKET:
        if _journal is not None:
            _journal.close()
            _journal = None
        try:
            posix.stat(JOURNAL_SOCKET)
        except OSError:
            return False  # no journal here: the common case outside systemd
        _journal = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM | _socket.SOCK_CLOEXEC)
        _journal_path = JOURNAL_SOCKET
    try:
        _journal.settimeout(SEND_TIMEOUT)
        _journal.sendto(data, JOURNAL_SOCKET)
        return True
    except OSError:
        _journal.close()
        _journal = None
        return False


def _count_lost(count: int) -> None:
    """Add ``count`` records to the lost ones (best effort: the directory is made
    0755 by root; without it, nothing is counted)."""
    directory = LOST_FILE.rpartition("/")[0]
    try:  # noqa: SIM105 - contextlib would cost every start of Python its import
        posix.mkdir(directory, 0o755)
    except OSError:
        pass
    try:
        # 0600: no other user may open it, and so none may hold its lock.
        fd = posix.open(LOST_FILE, posix.O_WRONLY | posix.O_APPEND | posix.O_CREAT
                        | posix.O_NOFOLLOW | posix.O_CLOEXEC | posix.O_NONBLOCK, 0o600)
    except OSError:
        return
    try:
        import fcntl  # only when something was lost

        # Shared: adders do not wait for each other, only for a reporter between
        # its reading and its emptying of the count, which would drop this add.
        for _ in range(_LOCK_TRIES):
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                time.sleep(0.001)
        posix.write(fd, b"x" * count)  # held or not: counted as well as it can be
    except OSError:
        pass
    finally:
        posix.close(fd)


_LOCK_TRIES = 100  # a reporter holds the lock for a stat and a truncate


def _take_lost() -> int:
    """How many records were lost since the last report, emptying the count."""
    try:
        if posix.stat(LOST_FILE).st_size == 0:
            return 0  # the common case: one stat
        fd = posix.open(LOST_FILE, posix.O_RDWR | posix.O_NOFOLLOW | posix.O_CLOEXEC
                        | posix.O_NONBLOCK)
    except OSError:
        return 0
    try:
        import fcntl  # only when something was lost

        # Exclusive, never waited for: an adder or another reporter holds it, and a
        # later record reports.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        count = posix.fstat(fd).st_size
        posix.ftruncate(fd, 0)
        return count
    except OSError:
        return 0
    finally:
        posix.close(fd)


def _send_datagram(data: bytes) -> bool:
    global _datagram, _datagram_path
    for attempt in range(2):  # a kept socket fails once the log daemon restarts
        if attempt or _datagram is None or _datagram_path != SOCKET_PATH:
            if _datagram is not None:
                _datagram.close()
                _datagram = None
            try:
                _datagram, _datagram_path = _connected(_socket.SOCK_DGRAM), SOCKET_PATH
            except OSError:
                return False
            # Non-blocking: a send goes at once, without the poll(2) a socket with
            # a timeout makes before each; only a full queue waits, below.
            _datagram.setblocking(False)
        try:
            try:
                _datagram.send(data)
            except BlockingIOError:
                # The daemon's queue is full: wait up to SEND_TIMEOUT for room.
                _datagram.settimeout(SEND_TIMEOUT)
                try:
                    _datagram.send(data)
                finally:
                    _datagram.setblocking(False)
            return True
        except TimeoutError:
            return False  # the daemon lags: no second wait
        except OSError:
            continue
    return False

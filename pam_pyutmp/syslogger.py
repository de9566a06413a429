"""One syslog line per event, facility authpriv, ident pam_pyutmp.

Written straight to the log socket rather than through openlog(3): openlog
would change the ident of every later line the host program (sshd, su) logs.
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
    """``key=value`` pairs for log shippers; values with spaces or quotes are quoted."""
    texts = ["" if value is None else _capped(str(value)) for value in values.values()]
    joined = "".join(texts)
    # Printable text without a space, quote or "=" in any value: the common case,
    # checked once for the whole line at C speed.  Then only an empty value is quoted.
    if joined.isprintable() and " " not in joined and '"' not in joined and "=" not in joined:
        return " ".join([f"{key}={text or _EMPTY}" for key, text in zip(values, texts)])
    return " ".join([f"{key}={_value(text)}" for key, text in zip(values, texts)])


_EMPTY = '""'


def _capped(text: str) -> str:
    return text if len(text) <= FIELD_MAX else text[:FIELD_MAX] + CUT


def _value(value: str) -> str:
    text = escape(value)
    # One word exactly when it is not empty and has no whitespace (split() knows
    # the same whitespace as isspace(); printable text has no other than the
    # space), quote or "=".
    one_word = " " not in text if text.isprintable() else len(text.split()) == 1
    if text and one_word and '"' not in text and "=" not in text:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def log(priority: int, message: str, pid: int | None = None) -> None:
    """Send one line, naming process ``pid`` (by default this one's); a missing or
    full log socket never fails a login."""
    if pid is None:
        pid = posix.getpid()
    text = f"<{LOG_AUTHPRIV | priority}>{_timestamp()} {IDENT}[{pid}]: {escape(message)}"
    data = text.encode("utf-8", "backslashreplace")
    if len(data) > LINE_MAX:
        # Cut on a character boundary: the line stays valid UTF-8.
        kept = data[:LINE_MAX - len(CUT)].decode("utf-8", "ignore")
        data = (kept + CUT).encode("utf-8")
    if _send_datagram(data):
        return
    try:
        sock = _connected(_socket.SOCK_STREAM)
    except OSError:
        return
    try:
        sock.sendall(data + b"\0")
    except OSError:
        pass
    finally:
        sock.close()


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


# How long a line may wait for room when the log daemon's queue is full.
SEND_TIMEOUT = 0.5

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

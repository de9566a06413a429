"""Field rules: how user, tty, host and address become utmp fields.

The rules follow what login, sshd and utempter do, so our records sit beside
theirs: ``ut_line`` is the tty without ``/dev/``, ``ut_id`` its last four
bytes.  Text that only informs (the host) is cleaned and truncated; text that
identifies (user, tty) is refused when it is not exactly representable,
because a changed user name or line would describe another session.
"""

from __future__ import annotations

# socket's C half alone: the module would bring enum and selectors into every login.
import _socket as socket

from pam_pyutmp._typing import TYPE_CHECKING
from pam_pyutmp.errors import InvalidFieldError
from pam_pyutmp.system import HOST_SIZE, ID_SIZE, LINE_SIZE, USER_SIZE
from pam_pyutmp.values import Value

if TYPE_CHECKING:
    from typing import TypeAlias

# A string at run time (typing stays unimported); annotations alone use it.
Text: TypeAlias = "str | bytes"

# C0 controls, DEL and the C1 controls (U+0080..U+009F include CSI, the
# one-character ESC [ that some terminals honour).
CONTROLS = frozenset(map(chr, (*range(0x20), *range(0x7F, 0xA0))))
_TO_QUESTION_MARK = {ord(char): "?" for char in CONTROLS}


class Cleaned(Value):
    """Field bytes ready for a record, and what had to change to get them."""

    _fields = ("value", "notes")
    __slots__ = _fields

    def __init__(self, value: bytes, notes: tuple[str, ...]) -> None:
        self.value = value
        self.notes = notes


def _as_text(value: Text) -> tuple[str, bool]:
    """Decode to str; the flag says whether bytes were not valid UTF-8."""
    # Strings from os.fsdecode() carry undecodable bytes as surrogates.
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace").replace("\ufffd", "?"), True


def truncate_utf8(data: bytes, size: int) -> bytes:
    """At most ``size`` bytes of UTF-8 ``data``, never half a character."""
    if len(data) <= size:
        return data
    return data[:size].decode("utf-8", "ignore").encode("utf-8")


def clean_info(field: str, value: Text, size: int) -> Cleaned:
    """Clean an informative field: invalid bytes and controls become '?',
    then the text is cut to ``size`` bytes on a character boundary."""
    if isinstance(value, str) and value.isprintable():
        # The common case, decided at C speed: printable text has no controls and
        # no surrogates (bytes that were not UTF-8).
        data = value.encode("utf-8")
        if len(data) <= size:
            return Cleaned(data, ())
    text, invalid = _as_text(value)
    notes = []
    if invalid:
        notes.append(f"{field}: bytes that are not UTF-8 replaced by '?'")
    controls = sum(char in CONTROLS for char in text)
    if controls:
        text = text.translate(_TO_QUESTION_MARK)
        notes.append(f"{field}: {controls} control character(s) replaced by '?'")
    data = text.encode("utf-8")
    cut = truncate_utf8(data, size)
    if len(cut) != len(data):
        notes.append(f"{field}: {len(data)} bytes truncated to {len(cut)}")
    return Cleaned(cut, tuple(notes))


def clean_exact(field: str, value: Text, size: int) -> bytes:
    """An identifying field must already be clean UTF-8 that fits."""
    if isinstance(value, str) and value.isprintable():  # as in clean_info
        data = value.encode("utf-8")
        if len(data) <= size:
            return data
    text, invalid = _as_text(value)
    if invalid:
        raise InvalidFieldError(field, "not valid UTF-8")
    if not CONTROLS.isdisjoint(text):
        raise InvalidFieldError(field, f"control characters in {text!r}")
    data = text.encode("utf-8")
    if len(data) > size:
        raise InvalidFieldError(field, f"{len(data)} bytes, the record holds {size}")
    return data


def clean_user(user: Text) -> bytes:
    data = clean_exact("user", user, USER_SIZE)
    if not data:
        raise InvalidFieldError("user", "empty")
    return data


def clean_host(host: Text | None) -> Cleaned:
    return clean_info("host", host or "", HOST_SIZE)


def tty_line(tty: Text | None) -> bytes | None:
    """``ut_line`` for a tty ("/dev/pts/3" -> b"pts/3"); None when there is none."""
    if not tty:
        return None
    data = clean_exact("tty", tty, LINE_SIZE + len("/dev/"))
    if data.startswith(b"/dev/"):
        data = data[len(b"/dev/") :]
    if not data:
        return None
    if len(data) > LINE_SIZE:
        raise InvalidFieldError("tty", f"{len(data)} bytes, the record holds {LINE_SIZE}")
    return data


def line_id(line: bytes) -> bytes:
    """``ut_id``: the last four bytes of the line, as sshd and utempter do."""
    return line[-ID_SIZE:]


_V4_MAPPED_PREFIX = bytes(10) + b"\xff\xff"


def host_address(host: bytes) -> bytes:
    """``ut_addr_v6`` for a host that is an IP literal, else 16 zero bytes.

    IPv4 goes in the first word in network order; an IPv4-mapped IPv6
    address is stored as the IPv4 address it maps.
    """
    if not host:  # a local login: the common case
        return bytes(16)
    text = host.decode("utf-8", "replace")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]  # a scope id is not part of the address
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            packed = socket.inet_pton(family, text)
        except (OSError, ValueError):
            continue
        if packed[:12] == _V4_MAPPED_PREFIX:
            packed = packed[12:]
        return packed.ljust(16, b"\0")
    return bytes(16)


def address_text(addr_v6: bytes) -> str | None:
    """The IP stored in ``ut_addr_v6``, or None when none is stored."""
    if not any(addr_v6):
        return None
    if not any(addr_v6[4:]):
        return socket.inet_ntop(socket.AF_INET, addr_v6[:4])
    return socket.inet_ntop(socket.AF_INET6, addr_v6)

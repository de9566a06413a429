"""One utmp/wtmp record in Python, and its conversion to and from the C core."""

from __future__ import annotations

from pam_pyutmp._core import ffi, lib
from pam_pyutmp._typing import TYPE_CHECKING
from pam_pyutmp.fields import address_text
from pam_pyutmp.system import UTMPX_SIZE
from pam_pyutmp.values import Value

if TYPE_CHECKING:
    import datetime
    from typing import Any


def field_text(field: Any) -> str:
    # Fields are NUL-padded, not always NUL-terminated: ffi.string stops at
    # either.  surrogateescape keeps any byte, so a record round-trips.
    return bytes(ffi.string(field)).decode("utf-8", "surrogateescape")


def text_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class Record(Value):
    """A utmpx record.  Strings decode the raw field bytes losslessly."""

    _fields = ("type", "pid", "line", "id", "user", "host", "session", "tv_sec", "tv_usec",
               "addr_v6")
    __slots__ = _fields

    def __init__(self, type: int, pid: int, line: str, id: str, user: str, host: str,
                 session: int, tv_sec: int, tv_usec: int, addr_v6: bytes = bytes(16)) -> None:
        self.type = type
        self.pid = pid
        self.line = line
        self.id = id
        self.user = user
        self.host = host
        self.session = session
        self.tv_sec = tv_sec
        self.tv_usec = tv_usec
        self.addr_v6 = addr_v6

    @property
    def time(self) -> datetime.datetime:
        import datetime  # only readers need it, not the login path

        return datetime.datetime.fromtimestamp(
            self.tv_sec + self.tv_usec / 1e6, tz=datetime.timezone.utc
        )

    @property
    def address(self) -> str | None:
        return address_text(self.addr_v6)

    def to_c(self) -> Any:
        # One initializer: cffi fills the struct at C speed and NUL-pads each field.
        # A value longer than its field is a bug (the field rules size every value).
        try:
            return ffi.new("struct pyutmp_record *", {
                "type": self.type, "pid": self.pid, "session": self.session,
                "tv_sec": self.tv_sec, "tv_usec": self.tv_usec, "addr_v6": self.addr_v6,
                "line": text_bytes(self.line), "id": text_bytes(self.id),
                "user": text_bytes(self.user), "host": text_bytes(self.host),
            })
        except IndexError as err:
            raise ValueError(str(err)) from None

    @classmethod
    def from_c(cls, rec: Any) -> Record:
        return cls(
            type=rec.type,
            pid=rec.pid,
            line=field_text(rec.line),
            id=field_text(rec.id),
            user=field_text(rec.user),
            host=field_text(rec.host),
            session=rec.session,
            tv_sec=rec.tv_sec,
            tv_usec=rec.tv_usec,
            addr_v6=bytes(ffi.buffer(rec.addr_v6)),
        )

    @classmethod
    def decode(cls, raw: bytes) -> Record:
        """A record from the raw bytes of one utmpx-sized slot of a file."""
        out = ffi.new("struct pyutmp_record *")
        if lib.pyutmp_decode(raw, len(raw), out) != 0:
            raise ValueError(f"a utmpx record is {UTMPX_SIZE} bytes, not {len(raw)}")
        return cls.from_c(out)

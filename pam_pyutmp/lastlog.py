"""The lastlog file: one fixed-size record per uid, at ``uid * record size``."""

from __future__ import annotations

from pam_pyutmp._core import ffi, lib
from pam_pyutmp._typing import TYPE_CHECKING
from pam_pyutmp.errors import InvalidFieldError, LastlogError, UidAboveCapError, check
from pam_pyutmp.records import field_text, text_bytes
from pam_pyutmp.system import LOCK_TIMEOUT_MS, UID_LIMIT
from pam_pyutmp.values import Value

if TYPE_CHECKING:
    import datetime
    from typing import Any


class LastlogEntry(Value):
    """A user's last login: when (seconds since the epoch), on which line, from where."""

    _fields = ("time", "line", "host")
    __slots__ = _fields

    def __init__(self, time: int, line: str, host: str) -> None:
        self.time = time
        self.line = line
        self.host = host

    @property
    def datetime(self) -> datetime.datetime:
        import datetime  # only readers need it, not the login path

        return datetime.datetime.fromtimestamp(self.time, tz=datetime.timezone.utc)


def _check_uid(uid: int) -> None:
    if not 0 <= uid <= UID_LIMIT:
        raise InvalidFieldError("uid", f"{uid} is outside 0..{UID_LIMIT}")


def read(path: str, uid: int) -> LastlogEntry | None:
    """The entry of ``uid``; None when it never logged in or the file is absent."""
    _check_uid(uid)
    out = ffi.new("struct pyutmp_lastlog *")
    found = ffi.new("int *")
    check(lib.pyutmp_lastlog_read(path.encode(), uid, out, found), LastlogError,
          "cannot read lastlog", path)
    return _entry(out) if found[0] else None


def write(path: str, uid: int, entry: LastlogEntry, uid_max: int | None,
          lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> LastlogEntry | None:
    """Write the entry of ``uid``, creating the file (0644) when it is absent;
    return the entry it replaced (None: the uid never logged in).

    Above ``uid_max`` nothing is written: a uid near 2**32 would otherwise
    make a sparse file of over a terabyte that backups and copies trip on.
    """
    _check_uid(uid)
    if uid_max is not None and uid > uid_max:
        raise UidAboveCapError(uid, uid_max, path)
    try:  # one initializer: cffi fills the struct at C speed and NUL-pads the fields
        rec = ffi.new("struct pyutmp_lastlog *", {
            "time": entry.time, "line": text_bytes(entry.line), "host": text_bytes(entry.host)})
    except IndexError as err:  # a value longer than its field: a bug of the field rules
        raise ValueError(str(err)) from None
    previous = ffi.new("struct pyutmp_lastlog *")
    found = ffi.new("int *")
    check(lib.pyutmp_lastlog_write(path.encode(), uid, rec, lock_timeout_ms, previous, found),
          LastlogError, "cannot write lastlog", path)
    return _entry(previous) if found[0] else None


def _entry(rec: Any) -> LastlogEntry:
    return LastlogEntry(time=rec.time, line=field_text(rec.line), host=field_text(rec.host))

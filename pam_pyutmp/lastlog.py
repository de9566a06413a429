"""The lastlog file: one fixed-size record per uid, at ``uid * record size``."""

from __future__ import annotations

from pam_pyutmp._core import ffi, lib
from pam_pyutmp._typing import TYPE_CHECKING, NamedTuple
from pam_pyutmp.errors import InvalidFieldError, LastlogError, UidAboveCapError, check
from pam_pyutmp.records import field_text, fill_field, text_bytes
from pam_pyutmp.system import UID_LIMIT

if TYPE_CHECKING:
    import datetime

LOCK_TIMEOUT_MS = 2000


class LastlogEntry(NamedTuple):
    """A user's last login: when (seconds since the epoch), on which line, from where."""

    time: int
    line: str
    host: str

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
    if not found[0]:
        return None
    return LastlogEntry(time=out.time, line=field_text(out.line), host=field_text(out.host))


def write(path: str, uid: int, entry: LastlogEntry, uid_max: int | None,
          lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> None:
    """Write the entry of ``uid``, creating the file (0644) when it is absent.

    Above ``uid_max`` nothing is written: a uid near 2**32 would otherwise
    make a sparse file of over a terabyte that backups and copies trip on.
    """
    _check_uid(uid)
    if uid_max is not None and uid > uid_max:
        raise UidAboveCapError(uid, uid_max, path)
    rec = ffi.new("struct pyutmp_lastlog *")
    rec.time = entry.time
    fill_field(rec.line, text_bytes(entry.line))
    fill_field(rec.host, text_bytes(entry.host))
    check(lib.pyutmp_lastlog_write(path.encode(), uid, rec, lock_timeout_ms), LastlogError,
          "cannot write lastlog", path)

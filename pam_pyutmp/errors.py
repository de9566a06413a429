"""The exceptions of pam_pyutmp: one small hierarchy, all ``OSError``.

Each carries ``errno``, a message naming what failed and, where a file was
involved, ``filename``; ``str()`` of any of them is a complete log line.
"""

from __future__ import annotations

import errno as errno_codes

# os's C half, the very same functions: os itself would bring _collections_abc
# into every start of Python that runs a session.
import posix


class PyutmpError(OSError):
    """Base of every error this package raises."""


class InvalidFieldError(PyutmpError, ValueError):
    """An input (user, tty, host, uid) that no record may hold."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(errno_codes.EINVAL, f"invalid {field}: {reason}")
        self.field = field


class UnknownUserError(PyutmpError, LookupError):
    """The user has no passwd entry, so it has no uid for lastlog."""

    def __init__(self, user: str) -> None:
        super().__init__(errno_codes.ENOENT, f"unknown user {user!r}")
        self.user = user


class UtmpError(PyutmpError):
    """Writing or reading the utmp database failed."""


class WtmpError(PyutmpError):
    """Appending to or reading the wtmp file failed."""


class BtmpError(PyutmpError):
    """Appending to or reading the btmp file (failed logins) failed."""


class LastlogError(PyutmpError):
    """Reading or writing the lastlog file failed."""


class DatabaseError(PyutmpError):
    """Writing or reading a SQLite accounting database (wtmpdb, lastlog2) failed."""


class WtmpdbError(DatabaseError):
    """Writing or reading the wtmpdb database failed."""


class Lastlog2Error(DatabaseError):
    """Writing or reading the lastlog2 database failed."""


class UidAboveCapError(LastlogError):
    """The uid lies above the lastlog cap; nothing is written for it."""

    def __init__(self, uid: int, uid_max: int, path: str) -> None:
        super().__init__(
            errno_codes.EFBIG,
            f"uid {uid} is above the lastlog cap {uid_max} (LASTLOG_UID_MAX); not recorded",
            path,
        )
        self.uid = uid
        self.uid_max = uid_max


def check(code: int, error: type[PyutmpError], action: str, path: str | None) -> None:
    """Raise ``error`` for a non-zero errno ``code`` returned by the C core."""
    if not code:
        return
    if code == errno_codes.EAGAIN:
        reason = "the file stayed locked by another process"
    elif code == errno_codes.ELOOP:
        reason = "refusing to follow a symbolic link"
    elif code == errno_codes.EOVERFLOW:
        reason = f"the time is past the last one the record holds, {_last_second()}"
    elif code == errno_codes.EINVAL:
        reason = "not a regular file or not a valid record"
    else:
        reason = posix.strerror(code)
    raise error(code, f"{action}: {reason}", path)


def _last_second() -> str:
    """The last second of utmp, wtmp and lastlog records, in words."""
    import time

    from pam_pyutmp.system import UTMP_TIME_MAX

    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(UTMP_TIME_MAX))

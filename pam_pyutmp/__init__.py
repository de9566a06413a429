"""pam_pyutmp: login-session accounting in utmp, wtmp and lastlog.

The library API for programs that give shell access; the PAM session module
is built on the same calls.
"""

from pam_pyutmp.api import (
    UtmpEntry,
    last_login,
    login_session,
    put_lastlog_entry,
    put_utmp,
    unput_utmp,
)
from pam_pyutmp.errors import (
    InvalidFieldError,
    LastlogError,
    PyutmpError,
    UidAboveCapError,
    UnknownUserError,
    UtmpError,
    WtmpError,
)
from pam_pyutmp.host import get_host
from pam_pyutmp.lastlog import LastlogEntry
from pam_pyutmp.records import Record

__version__ = "0.1.0"

__all__ = [
    "InvalidFieldError",
    "LastlogEntry",
    "LastlogError",
    "PyutmpError",
    "Record",
    "UidAboveCapError",
    "UnknownUserError",
    "UtmpEntry",
    "UtmpError",
    "WtmpError",
    "get_host",
    "last_login",
    "login_session",
    "put_lastlog_entry",
    "put_utmp",
    "unput_utmp",
]

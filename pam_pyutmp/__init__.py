"""pam_pyutmp: login-session accounting in utmp, wtmp and lastlog.

The library API for programs that give shell access; the PAM session module
is built on the same calls.
"""

from __future__ import annotations

from pam_pyutmp._typing import TYPE_CHECKING

__version__ = "0.1.0"

# Where each public name lives.  Names are imported on first use, so the PAM
# module, which pays for every import at every login, loads only what a
# session needs (get_host alone would bring threads and DNS).
_PUBLIC = {
    "UtmpEntry": "api",
    "last_login": "api",
    "login_session": "session",
    "put_lastlog_entry": "api",
    "put_utmp": "api",
    "put_btmp": "api",
    "unput_utmp": "api",
    "BtmpError": "errors",
    "InvalidFieldError": "errors",
    "LastlogError": "errors",
    "PyutmpError": "errors",
    "UidAboveCapError": "errors",
    "UnknownUserError": "errors",
    "UtmpError": "errors",
    "WtmpError": "errors",
    "get_host": "host",
    "Lastlog2Entry": "databases",
    "WtmpdbRow": "databases",
    "iter_lastlog2": "databases",
    "iter_wtmpdb": "databases",
    "last_login2": "databases",
    "put_lastlog2_entry": "databases",
    "put_wtmpdb": "databases",
    "unput_wtmpdb": "databases",
    "unput_wtmpdb_open": "databases",
    "DatabaseError": "errors",
    "Lastlog2Error": "errors",
    "WtmpdbError": "errors",
    "LastlogEntry": "lastlog",
    "Record": "records",
}

__all__ = [
    "BtmpError",
    "DatabaseError",
    "InvalidFieldError",
    "Lastlog2Entry",
    "Lastlog2Error",
    "LastlogEntry",
    "LastlogError",
    "PyutmpError",
    "Record",
    "UidAboveCapError",
    "UnknownUserError",
    "UtmpEntry",
    "UtmpError",
    "WtmpError",
    "WtmpdbError",
    "WtmpdbRow",
    "get_host",
    "iter_lastlog2",
    "iter_wtmpdb",
    "last_login",
    "last_login2",
    "login_session",
    "put_btmp",
    "put_lastlog2_entry",
    "put_lastlog_entry",
    "put_utmp",
    "put_wtmpdb",
    "unput_utmp",
    "unput_wtmpdb",
    "unput_wtmpdb_open",
]


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'pam_pyutmp' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"pam_pyutmp.{_PUBLIC[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


if TYPE_CHECKING:
    from pam_pyutmp.api import (
        UtmpEntry,
        last_login,
        put_btmp,
        put_lastlog_entry,
        put_utmp,
        unput_utmp,
    )
    from pam_pyutmp.databases import (
        Lastlog2Entry,
        WtmpdbRow,
        iter_lastlog2,
        iter_wtmpdb,
        last_login2,
        put_lastlog2_entry,
        put_wtmpdb,
        unput_wtmpdb,
        unput_wtmpdb_open,
    )
    from pam_pyutmp.errors import (
        BtmpError,
        DatabaseError,
        InvalidFieldError,
        Lastlog2Error,
        LastlogError,
        PyutmpError,
        UidAboveCapError,
        UnknownUserError,
        UtmpError,
        WtmpdbError,
        WtmpError,
    )
    from pam_pyutmp.host import get_host
    from pam_pyutmp.lastlog import LastlogEntry
    from pam_pyutmp.records import Record
    from pam_pyutmp.session import login_session

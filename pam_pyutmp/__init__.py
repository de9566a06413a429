"""pam_pyutmp: login-session accounting in utmp, wtmp and lastlog.

The library API for programs that give shell access; the PAM session module
is built on the same calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Where each public name lives.  Names are imported on first use, so the PAM
# module, which pays for every import at every login, loads only what a
# session needs (get_host alone would bring threads and DNS).
_PUBLIC = {
    "UtmpEntry": "api",
    "last_login": "api",
    "login_session": "api",
    "put_lastlog_entry": "api",
    "put_utmp": "api",
    "unput_utmp": "api",
    "InvalidFieldError": "errors",
    "LastlogError": "errors",
    "PyutmpError": "errors",
    "UidAboveCapError": "errors",
    "UnknownUserError": "errors",
    "UtmpError": "errors",
    "WtmpError": "errors",
    "get_host": "host",
    "LastlogEntry": "lastlog",
    "Record": "records",
}

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

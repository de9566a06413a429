"""The library API: what a program that gives shell access calls.

Named after goutmp's ``GetHost``/``Put_utmp``/``Unput_utmp``/
``Put_lastlog_entry``, with wtmp written, the tty (not the program name) as
the lastlog line, and uids up to 2**32-2.
"""

from __future__ import annotations

import os
import pwd
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple, Optional, Union

from pam_pyutmp import lastlog, utmpfile
from pam_pyutmp.errors import PyutmpError, UnknownUserError
from pam_pyutmp.fields import Text, clean_host, clean_user, host_address, line_id, tty_line
from pam_pyutmp.lastlog import LastlogEntry
from pam_pyutmp.records import Record
from pam_pyutmp.system import (
    DEFAULT_LASTLOG,
    DEFAULT_UTMP,
    DEFAULT_WTMP,
    LOGIN_DEFS,
    USER_PROCESS,
    lastlog_uid_max,
    path_or_default,
)

PathArg = Optional[Union[str, "os.PathLike[str]"]]
NOTTY_LABEL = "notty"
# The cap is read from login.defs unless a caller passes one (None: no cap).
FROM_LOGIN_DEFS = -1


class UtmpEntry(NamedTuple):
    """A session written by :func:`put_utmp`; hand it to :func:`unput_utmp`."""

    record: Record
    utmp_path: str | None
    wtmp_path: str | None
    notes: tuple[str, ...] = ()  # what the field rules had to change

    @property
    def user(self) -> str:
        return self.record.user

    @property
    def line(self) -> str:
        return self.record.line

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def host(self) -> str:
        return self.record.host


def _now() -> tuple[int, int]:
    ns = time.time_ns()
    return ns // 1_000_000_000, ns // 1000 % 1_000_000


def put_utmp(
    user: Text,
    tty: Text | None = "",
    host: Text | None = "",
    *,
    service: str = "",
    pid: int | None = None,
    session: int | None = None,
    utmp_path: PathArg = None,
    wtmp_path: PathArg = None,
    utmp: bool = True,
    wtmp: bool = True,
) -> UtmpEntry:
    """Record a login: a USER_PROCESS slot in utmp and a login record in wtmp.

    ``tty`` may be "/dev/pts/3", "pts/3" or ":0"; empty for a session without
    one, which then gets a slot of its own, with a line named after
    ``service`` ("su/0"), as does a session on a tty that a live session of
    another process holds (su on a logged-in terminal).

    All or nothing: when wtmp cannot be written, the utmp slot is closed
    again before the error is raised.
    """
    user_bytes = clean_user(user)
    line = tty_line(tty)
    cleaned_host = clean_host(host)
    pid = os.getpid() if pid is None else pid
    session = os.getsid(0) if session is None else session
    tv_sec, tv_usec = _now()
    label = service or NOTTY_LABEL
    record = Record(
        type=USER_PROCESS,
        pid=pid,
        line=line.decode() if line else utmpfile.notty_line(label, pid % utmpfile.NOTTY_SLOTS),
        id=line_id(line).decode("utf-8", "surrogateescape") if line
        else utmpfile.notty_id(pid % utmpfile.NOTTY_SLOTS),
        user=user_bytes.decode(),
        host=cleaned_host.value.decode(),
        session=session,
        tv_sec=tv_sec,
        tv_usec=tv_usec,
        addr_v6=host_address(cleaned_host.value),
    )
    utmp_file = path_or_default(utmp_path, DEFAULT_UTMP) if utmp else None
    wtmp_file = path_or_default(wtmp_path, DEFAULT_WTMP) if wtmp else None
    if utmp_file is not None:
        record = utmpfile.put_session(utmp_file, record, label, has_tty=line is not None)
    entry = UtmpEntry(record, utmp_file, wtmp_file, cleaned_host.notes)
    if wtmp_file is not None:
        try:
            utmpfile.append_wtmp(wtmp_file, record)
        except OSError:
            if utmp_file is not None:
                utmpfile.put(utmp_file, utmpfile.dead(record, *_now()))
            raise
    return entry


def unput_utmp(entry: UtmpEntry, *, utmp_path: PathArg = None, wtmp_path: PathArg = None) -> bool:
    """Record the logout of ``entry``: its very slot becomes DEAD_PROCESS in
    utmp and a logout record (same line) is appended to wtmp, so `last`
    pairs it with the login.

    Paths default to where :func:`put_utmp` wrote.  Returns False, writing
    nothing, when the session was already closed or its slot now belongs to a
    newer login.
    """
    utmp_file = entry.utmp_path if utmp_path is None else os.fspath(utmp_path)
    wtmp_file = entry.wtmp_path if wtmp_path is None else os.fspath(wtmp_path)
    logout = utmpfile.dead(entry.record, *_now())
    utmp_error: PyutmpError | None = None
    if utmp_file is not None:
        try:
            if not utmpfile.close_slot(utmp_file, entry.record, logout):
                return False
        except PyutmpError as err:
            utmp_error = err  # wtmp still gets its logout: the login is there
    if wtmp_file is not None:
        utmpfile.append_wtmp(wtmp_file, logout)
    if utmp_error is not None:
        raise utmp_error
    return True


def user_uid(user: str) -> int:
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        raise UnknownUserError(user) from None


def put_lastlog_entry(
    app: str,
    user: Text,
    tty: Text | None,
    host: Text | None,
    *,
    lastlog_path: PathArg = None,
    uid: int | None = None,
    uid_max: int | None = FROM_LOGIN_DEFS,
    login_defs: str = LOGIN_DEFS,
) -> LastlogEntry | None:
    """Record ``user``'s login in lastlog; return the login it replaces.

    ``app`` names the service (kept for databases keyed by service); it is
    never stored as the line.  ``uid_max`` caps the uids written: by default
    LASTLOG_UID_MAX from login.defs, None for no cap.
    """
    del app  # the classic lastlog record has no field for it
    name = clean_user(user).decode()
    line = tty_line(tty) or b""
    cleaned_host = clean_host(host)
    path = path_or_default(lastlog_path, DEFAULT_LASTLOG)
    uid = user_uid(name) if uid is None else uid
    cap = lastlog_uid_max(login_defs) if uid_max == FROM_LOGIN_DEFS else uid_max
    previous = lastlog.read(path, uid)
    entry = LastlogEntry(int(time.time()), line.decode(), cleaned_host.value.decode())
    lastlog.write(path, uid, entry, cap)
    return previous


def last_login(user: Text, *, lastlog_path: PathArg = None, uid: int | None = None
               ) -> LastlogEntry | None:
    """``user``'s last recorded login, or None."""
    name = clean_user(user).decode()
    path = path_or_default(lastlog_path, DEFAULT_LASTLOG)
    return lastlog.read(path, user_uid(name) if uid is None else uid)


@contextmanager
def login_session(
    user: Text,
    tty: Text | None = "",
    host: Text | None = "",
    *,
    service: str = "",
    utmp_path: PathArg = None,
    wtmp_path: PathArg = None,
    lastlog_path: PathArg = None,
    lastlog_entry: bool = True,
) -> Iterator[UtmpEntry]:
    """A whole session: login records on entry, logout records on exit."""
    entry = put_utmp(user, tty, host, service=service, utmp_path=utmp_path, wtmp_path=wtmp_path)
    try:
        if lastlog_entry:
            put_lastlog_entry(service, user, entry.line, host, lastlog_path=lastlog_path)
        yield entry
    finally:
        unput_utmp(entry)


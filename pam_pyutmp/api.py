"""The library API: what a program that gives shell access calls.

Named after goutmp's ``GetHost``/``Put_utmp``/``Unput_utmp``/
``Put_lastlog_entry``, with wtmp written, the tty (not the program name) as
the lastlog line, and uids up to 2**32-2.
"""

from __future__ import annotations

# os's C half, the very same functions: os itself would bring _collections_abc
# into every start of Python that runs a session.
import posix
import pwd
import time

from pam_pyutmp import lastlog, slots, utmpfile
from pam_pyutmp._typing import TYPE_CHECKING
from pam_pyutmp.errors import PyutmpError, UnknownUserError
from pam_pyutmp.fields import (
    Text,
    clean_host,
    clean_info,
    clean_user,
    host_address,
    line_id,
    tty_line,
)
from pam_pyutmp.lastlog import LastlogEntry
from pam_pyutmp.records import Record
from pam_pyutmp.stores import UtmpFile, UtmpStore, WtmpFile, WtmpStore, utmp_store, wtmp_store
from pam_pyutmp.system import (
    DEFAULT_BTMP,
    DEFAULT_LASTLOG,
    LINE_SIZE,
    LOGIN_DEFS,
    LOGIN_PROCESS,
    USER_PROCESS,
    USER_SIZE,
    lastlog_uid_max,
    path_or_default,
)
from pam_pyutmp.values import Value

if TYPE_CHECKING:
    from os import PathLike
    from typing import TypeAlias

# A string at run time (typing stays unimported); annotations alone use it.
PathArg: TypeAlias = "str | PathLike[str] | None"
NOTTY_LABEL = "notty"
# The cap is read from login.defs unless a caller passes one (None: no cap).
FROM_LOGIN_DEFS = -1


class UtmpEntry(Value):
    """A session written by :func:`put_utmp`; hand it to :func:`unput_utmp`."""

    _fields = ("record", "utmp", "wtmp", "notes")
    __slots__ = _fields

    def __init__(self, record: Record, utmp: UtmpStore | None, wtmp: WtmpStore | None,
                 notes: tuple[str, ...] = ()) -> None:
        self.record = record
        self.utmp = utmp  # where the login went; None: not to utmp
        self.wtmp = wtmp
        self.notes = notes  # what the field rules had to change

    @property
    def utmp_path(self) -> str | None:
        return None if self.utmp is None else self.utmp.name

    @property
    def wtmp_path(self) -> str | None:
        return None if self.wtmp is None else self.wtmp.name

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
    backend: str = "auto",
    utmpd_socket: str | None = None,
    wtmpd_socket: str | None = None,
    utmps_timeout: float | None = None,
) -> UtmpEntry:
    """Record a login: a USER_PROCESS slot in utmp and a login record in wtmp.

    ``tty`` may be "/dev/pts/3", "pts/3" or ":0"; empty for a session without
    one, which then gets a slot of its own, with a line named after
    ``service`` ("su/0"), as does a session on a tty that a live session of
    another process holds (su on a logged-in terminal).

    ``backend`` is "files" (the C library's utmp and wtmp files), "utmps"
    (skarnet's utmpd and wtmpd daemons, at ``utmpd_socket`` and
    ``wtmpd_socket``) or "auto": utmps when its utmpd socket exists.
    ``utmps_timeout`` bounds each call to a daemon, in seconds (default 3); a
    daemon that is down, hangs or dies mid-answer raises UtmpError or
    WtmpError with the errno (ETIMEDOUT, EPIPE, ECONNREFUSED, or the daemon's
    own, such as EPERM for a caller it does not let write).

    All or nothing: when wtmp cannot be written, the utmp slot is closed
    again before the error is raised.
    """
    user_bytes = clean_user(user)
    line = tty_line(tty)
    cleaned_host = clean_host(host)
    pid = posix.getpid() if pid is None else pid
    session = posix.getsid(0) if session is None else session
    tv_sec, tv_usec = _now()
    label = service or NOTTY_LABEL
    record = Record(
        type=USER_PROCESS,
        pid=pid,
        line=line.decode() if line else "",
        id=line_id(line).decode("utf-8", "surrogateescape") if line else "",
        user=user_bytes.decode(),
        host=cleaned_host.value.decode(),
        session=session,
        tv_sec=tv_sec,
        tv_usec=tv_usec,
        addr_v6=host_address(cleaned_host.value),
    )
    if not line:  # a slot of its own; in utmp, the lowest free one replaces this
        record = slots.notty_slot(record, label, pid % slots.NOTTY_SLOTS)
    utmp_db = (utmp_store(backend, _opt_path(utmp_path), utmpd_socket, utmps_timeout)
               if utmp else None)
    wtmp_log = (wtmp_store(backend, _opt_path(wtmp_path), wtmpd_socket, utmpd_socket,
                           utmps_timeout) if wtmp else None)
    if utmp_db is not None:
        record = utmp_db.login(record, label, has_tty=line is not None)
    if wtmp_log is not None:
        try:
            wtmp_log.append(record)
        except PyutmpError:
            if utmp_db is not None:
                _undo_login(utmp_db, record)
            raise
    return UtmpEntry(record, utmp_db, wtmp_log, cleaned_host.notes)


def _undo_login(utmp_db: UtmpStore, record: Record) -> None:
    """Close the slot a login just took; the caller raises the error that made it
    necessary, so a failure here is not allowed to replace that one."""
    try:  # noqa: SIM105 - contextlib would cost every start of Python its import
        utmp_db.logout(record, slots.dead(record, *_now()))
    except PyutmpError:
        pass


def _opt_path(path: PathArg) -> str | None:
    return None if path is None else posix.fspath(path)


def unput_utmp(entry: UtmpEntry, *, utmp_path: PathArg = None, wtmp_path: PathArg = None) -> bool:
    """Record the logout of ``entry``: its very slot becomes DEAD_PROCESS in
    utmp and a logout record (same line) is appended to wtmp, so `last`
    pairs it with the login.

    Paths default to where :func:`put_utmp` wrote.  Returns False, writing
    nothing, when the session was already closed or its slot now belongs to a
    newer login.
    """
    utmp_db = entry.utmp if utmp_path is None else UtmpFile(posix.fspath(utmp_path))
    wtmp_log = entry.wtmp if wtmp_path is None else WtmpFile(posix.fspath(wtmp_path))
    logout = slots.dead(entry.record, *_now())
    utmp_error: PyutmpError | None = None
    if utmp_db is not None:
        try:
            if not utmp_db.logout(entry.record, logout):
                return False
        except PyutmpError as err:
            utmp_error = err  # wtmp still gets its logout: the login is there
    if wtmp_log is not None:
        wtmp_log.append(logout)
    if utmp_error is not None:
        raise utmp_error
    return True


UNKNOWN_USER = "(unknown)"  # util-linux login's name for a failed attempt of no account


def put_btmp(
    user: Text,
    tty: Text | None = "",
    host: Text | None = "",
    *,
    service: str = "",
    pid: int | None = None,
    btmp_path: PathArg = None,
) -> Record:
    """Record a failed login attempt in btmp (`lastb`), as util-linux login does: a
    LOGIN_PROCESS record with the user, the line, host and address, pid and time.

    ``user`` is stored as given, cleaned as the host is (it may be whatever was
    typed): pass UNKNOWN_USER for a name that is no account.  Without a tty the
    line is the service's name.  A missing btmp is made 0660 root:utmp; one that
    others may read is refused (BtmpError), nothing written.
    """
    name = clean_info("user", user, USER_SIZE).value
    line = tty_line(tty) or clean_info("service", service or NOTTY_LABEL, LINE_SIZE).value
    cleaned_host = clean_host(host)
    tv_sec, tv_usec = _now()
    record = Record(LOGIN_PROCESS, posix.getpid() if pid is None else pid,
                    line.decode("utf-8", "surrogateescape"),
                    line_id(line).decode("utf-8", "surrogateescape"),
                    name.decode("utf-8", "surrogateescape"), cleaned_host.value.decode(),
                    0, tv_sec, tv_usec, host_address(cleaned_host.value))
    utmpfile.append_btmp(path_or_default(btmp_path, DEFAULT_BTMP), record)
    return record


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
    entry = LastlogEntry(int(time.time()), line.decode(), cleaned_host.value.decode())
    return lastlog.write(path, uid, entry, cap)


def last_login(user: Text, *, lastlog_path: PathArg = None, uid: int | None = None
               ) -> LastlogEntry | None:
    """``user``'s last recorded login, or None."""
    name = clean_user(user).decode()
    path = path_or_default(lastlog_path, DEFAULT_LASTLOG)
    return lastlog.read(path, user_uid(name) if uid is None else uid)


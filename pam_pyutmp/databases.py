"""wtmpdb and lastlog2: the SQLite successors of wtmp and lastlog.

utmp, wtmp and lastlog keep 32-bit seconds on glibc and end in January 2038.
wtmpdb (login and logout in microseconds, one row per session) and lastlog2
(the last login per user name, in seconds) keep 64-bit integers.  Rows are
written exactly as the upstream libraries write them (wtmpdb's libwtmpdb,
util-linux's liblastlog2): the same tables, column order, types and empty
strings, so that `wtmpdb last` and `lastlog2` read what we write and we read
what they write.

Only imported when a database is asked for: the PAM module's login path
does not load sqlite3 otherwise.

Locking, as measured with 200 sessions at once (600 write transactions on a
2-core VM; see the project README): SQLite's own busy handler polls with
sleeps growing to 100 ms, so a writer that has waited a while polls rarely
while newcomers poll often; waits reached 4 to 6 s.  Taking the write lock
(BEGIN IMMEDIATE) in our own loop with jittered sleeps of at most 50 ms kept
every wait under 0.8 s.  The lock is taken up front because a transaction
that starts as a reader and then writes gets SQLITE_BUSY at once, without
any waiting, when another writer is ahead of it.  The database stays in
SQLite's default rollback-journal mode, as upstream's: in WAL mode a user
who may not write the directory cannot read the database at all (SQLite
needs to create the -shm file), which would break `last` for ordinary users.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple, Optional, TypeVar, Union

from pam_pyutmp.errors import DatabaseError, Lastlog2Error, WtmpdbError
from pam_pyutmp.fields import Text, clean_host, clean_info, clean_user, tty_line
from pam_pyutmp.system import DEFAULT_LASTLOG2, DEFAULT_WTMPDB

PathArg = Optional[Union[str, "os.PathLike[str]"]]
T = TypeVar("T")

# The upstream defaults: wtmpdb.h's _PATH_WTMPDB and liblastlog2's LL2_DEFAULT_DATABASE.

# wtmpdb's own record types (wtmpdb.h), not utmp's: its USER_PROCESS is 3, not 7.
EMPTY = 0
BOOT_TIME = 1
RUNLEVEL = 2
USER_PROCESS = 3

WTMP_TABLE = (
    "CREATE TABLE IF NOT EXISTS wtmp(ID INTEGER PRIMARY KEY, Type INTEGER, User TEXT NOT NULL, "
    "Login INTEGER, Logout INTEGER, TTY TEXT, RemoteHost TEXT, Service TEXT) STRICT;"
)
LASTLOG2_TABLE = (
    "CREATE TABLE IF NOT EXISTS Lastlog2(Name TEXT PRIMARY KEY, Time INTEGER, TTY TEXT, "
    "RemoteHost TEXT, Service TEXT);"
)
# wtmpdb's reader selects * and refuses a row of any other width: these and no more.
WTMP_COLUMNS = ("ID", "Type", "User", "Login", "Logout", "TTY", "RemoteHost", "Service")
LASTLOG2_COLUMNS = ("Name", "Time", "TTY", "RemoteHost", "Service")

# How long a login may wait for the database, in seconds.
BUSY_TIMEOUT = 10.0
# The longest sleep between two tries for the write lock (see the module text).
MAX_PAUSE = 0.05
# Upstream's tmpfiles.d creates its directories 0755; the files are 0644, so that
# every user can run `last` and `lastlog2`.
DIR_MODE = 0o755
FILE_MODE = 0o644
# STRICT tables came with SQLite 3.37; wtmpdb's table is one.
STRICT_SINCE = (3, 37, 0)
_PAGE = 4096  # rows read per statement: no read lock is held between pages

_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
USEC = 1_000_000


class WtmpdbRow(NamedTuple):
    """One row of wtmpdb's wtmp table; times in microseconds since the epoch."""

    id: int
    type: int
    user: str
    login: int
    logout: int | None  # None while the session is open
    tty: str
    host: str
    service: str

    @property
    def login_time(self) -> datetime.datetime:
        return _utc(self.login)

    @property
    def logout_time(self) -> datetime.datetime | None:
        return None if self.logout is None else _utc(self.logout)


class Lastlog2Entry(NamedTuple):
    """One row of lastlog2: a user's last login, ``time`` in seconds since the epoch."""

    user: str
    time: int
    tty: str
    host: str
    service: str

    @property
    def datetime(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.time, tz=datetime.timezone.utc)


def _utc(usec: int) -> datetime.datetime:
    # timedelta arithmetic: exact to the microsecond, and no float rounding past 2038.
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return epoch + datetime.timedelta(microseconds=usec)


def now_usec() -> int:
    return time.time_ns() // 1000


# --- the public calls ------------------------------------------------------------


def put_wtmpdb(
    user: Text,
    tty: Text | None = "",
    host: Text | None = "",
    *,
    service: str = "",
    path: PathArg = None,
    login_usec: int | None = None,
    type: int = USER_PROCESS,
    timeout: float = BUSY_TIMEOUT,
) -> int:
    """Record a login in wtmpdb; return the row's ID for :func:`unput_wtmpdb`.

    ``tty`` as for :func:`pam_pyutmp.put_utmp` ("/dev/pts/3" is stored as
    "pts/3"); ``login_usec`` defaults to now.
    """
    name = clean_user(user).decode()
    line = _line(tty)
    rhost = clean_host(host).value.decode()
    service_text = _service(service)
    when = now_usec() if login_usec is None else login_usec

    def insert(conn: sqlite3.Connection) -> int:
        conn.execute(WTMP_TABLE)
        cursor = conn.execute(
            "INSERT INTO wtmp (Type, User, Login, TTY, RemoteHost, Service) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (type, name, when, line, rhost, service_text),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    return _write(_path(path, DEFAULT_WTMPDB), WtmpdbError, "cannot record the login in wtmpdb",
                  timeout, insert)


def unput_wtmpdb(row_id: int, *, path: PathArg = None, logout_usec: int | None = None,
                 timeout: float = BUSY_TIMEOUT) -> bool:
    """Record the logout of the session :func:`put_wtmpdb` returned ``row_id`` for.

    False, writing nothing, when that row has its logout already or is gone
    (rotated away by `wtmpdb rotate`).
    """
    when = now_usec() if logout_usec is None else logout_usec

    def update(conn: sqlite3.Connection) -> bool:
        if not _has_table(conn, "wtmp"):
            return False
        cursor = conn.execute("UPDATE wtmp SET Logout = ? WHERE ID = ? AND Logout IS NULL",
                              (when, row_id))
        return cursor.rowcount == 1

    return _write(_path(path, DEFAULT_WTMPDB), WtmpdbError,
                  "cannot record the logout in wtmpdb", timeout, update)


def unput_wtmpdb_open(user: Text, tty: Text | None, *, service: str | None = None,
                      path: PathArg = None, logout_usec: int | None = None,
                      login_usec: int | None = None,
                      timeout: float = BUSY_TIMEOUT) -> int | None:
    """Record the logout of ``user``'s open session on ``tty``, found as upstream's
    `wtmpdb` finds it (the newest row of that tty whose Logout IS NULL); for
    the process that closes a session another one opened.

    With ``login_usec`` (the login's time, as the utmp slot holds it), the open
    row of ``user`` with that very Login is the one, whatever its tty: sshd's
    sessions all have the tty "ssh", and tty-less ones none.  Without a tty, the
    open session of ``user`` and ``service`` is closed only when it is the only
    one: which of two tty-less sessions ends is unknowable.
    Returns the row's ID, or None when there was no such session.
    """
    name = clean_user(user).decode()
    line = _line(tty)
    when = now_usec() if logout_usec is None else logout_usec

    def close(conn: sqlite3.Connection) -> int | None:
        if not _has_table(conn, "wtmp"):
            return None
        rows = [] if login_usec is None else conn.execute(
            "SELECT ID FROM wtmp WHERE User = ? AND Login = ? AND Type = ? AND Logout IS NULL "
            "LIMIT 1", (name, login_usec, USER_PROCESS)).fetchall()
        if not rows and line:
            rows = conn.execute(
                "SELECT ID FROM wtmp WHERE User = ? AND TTY = ? AND Type = ? AND Logout IS NULL "
                "ORDER BY Login DESC LIMIT 1", (name, line, USER_PROCESS)).fetchall()
        elif not rows:
            rows = conn.execute(
                "SELECT ID FROM wtmp WHERE User = ? AND Service = ? AND Type = ? "
                "AND Logout IS NULL LIMIT 2", (name, _service(service or ""), USER_PROCESS)
            ).fetchall()
            if len(rows) != 1:
                return None
        if not rows:
            return None
        row_id = _int(rows[0][0])
        conn.execute("UPDATE wtmp SET Logout = ? WHERE ID = ?", (when, row_id))
        return row_id

    return _write(_path(path, DEFAULT_WTMPDB), WtmpdbError,
                  "cannot record the logout in wtmpdb", timeout, close)


def iter_wtmpdb(path: PathArg = None, *, timeout: float = BUSY_TIMEOUT) -> Iterator[WtmpdbRow]:
    """Every row, newest first (by ID, the order of insertion).

    Read in pages, each its own short read transaction: a reader that stops
    (a paused pager) never holds off a login's write.
    """
    where = _path(path, DEFAULT_WTMPDB)
    conn = _read(where, WtmpdbError, timeout)
    try:
        if not _guard(WtmpdbError, "cannot read wtmpdb", where, _has_table, conn, "wtmp"):
            return
        # Below every ID SQLite hands out (2**63 - 1 is the largest).
        below = 2**63 - 1
        while True:
            query = "SELECT * FROM wtmp WHERE ID <= ? ORDER BY ID DESC LIMIT ?"
            args = (below, _PAGE)
            rows = _guard(WtmpdbError, "cannot read wtmpdb", where, _fetch, conn, query, args)
            if not rows:
                return
            for row in rows:
                yield _wtmp_row(row)
            below = _int(rows[-1][0]) - 1
    finally:
        conn.close()


def wtmpdb_begins(path: PathArg = None, *, timeout: float = BUSY_TIMEOUT) -> int | None:
    """The earliest login, in microseconds (`wtmpdb last`'s "begins"); None when empty."""
    where = _path(path, DEFAULT_WTMPDB)
    conn = _read(where, WtmpdbError, timeout)
    try:
        if not _guard(WtmpdbError, "cannot read wtmpdb", where, _has_table, conn, "wtmp"):
            return None
        rows = _guard(WtmpdbError, "cannot read wtmpdb", where, _fetch, conn,
                      "SELECT MIN(Login) FROM wtmp", ())
    finally:
        conn.close()
    return None if not rows or rows[0][0] is None else _int(rows[0][0])


def put_lastlog2_entry(
    app: str,
    user: Text,
    tty: Text | None,
    host: Text | None,
    *,
    path: PathArg = None,
    time_sec: int | None = None,
    timeout: float = BUSY_TIMEOUT,
) -> Lastlog2Entry | None:
    """Record ``user``'s login in lastlog2 (``app``: the service); return the
    login it replaces, read in the same transaction."""
    name = clean_user(user).decode()
    line = _line(tty)
    rhost = clean_host(host).value.decode()
    service = _service(app)
    when = int(time.time()) if time_sec is None else time_sec

    def replace(conn: sqlite3.Connection) -> Lastlog2Entry | None:
        conn.execute(LASTLOG2_TABLE)
        rows = conn.execute("SELECT Name, Time, TTY, RemoteHost, Service FROM Lastlog2 "
                            "WHERE Name = ?", (name,)).fetchall()
        conn.execute("REPLACE INTO Lastlog2 VALUES (?, ?, ?, ?, ?)",
                     (name, when, line, rhost, service))
        return _lastlog2_row(rows[0]) if rows else None

    return _write(_path(path, DEFAULT_LASTLOG2), Lastlog2Error,
                  "cannot record the login in lastlog2", timeout, replace)


def last_login2(user: Text, *, path: PathArg = None,
                timeout: float = BUSY_TIMEOUT) -> Lastlog2Entry | None:
    """``user``'s last login in lastlog2, or None (no row, or no database yet)."""
    name = clean_user(user).decode()
    where = _path(path, DEFAULT_LASTLOG2)
    if not os.path.exists(where):
        return None
    conn = _read(where, Lastlog2Error, timeout)
    try:
        if not _guard(Lastlog2Error, "cannot read lastlog2", where, _has_table, conn,
                      "Lastlog2"):
            return None
        rows = _guard(Lastlog2Error, "cannot read lastlog2", where, _fetch, conn,
                      "SELECT Name, Time, TTY, RemoteHost, Service FROM Lastlog2 WHERE Name = ?",
                      (name,))
    finally:
        conn.close()
    return _lastlog2_row(rows[0]) if rows else None


def iter_lastlog2(path: PathArg = None, *, timeout: float = BUSY_TIMEOUT
                  ) -> Iterator[Lastlog2Entry]:
    """Every row, by user name (as `lastlog2` lists them)."""
    where = _path(path, DEFAULT_LASTLOG2)
    conn = _read(where, Lastlog2Error, timeout)
    try:
        if not _guard(Lastlog2Error, "cannot read lastlog2", where, _has_table, conn,
                      "Lastlog2"):
            return
        after = ""
        while True:
            rows = _guard(Lastlog2Error, "cannot read lastlog2", where, _fetch, conn,
                          "SELECT Name, Time, TTY, RemoteHost, Service FROM Lastlog2 "
                          "WHERE Name > ? ORDER BY Name LIMIT ?", (after, _PAGE))
            if not rows:
                return
            for row in rows:
                yield _lastlog2_row(row)
            after = str(rows[-1][0])
    finally:
        conn.close()


# --- rows ------------------------------------------------------------------------


def _int(value: object, default: int = 0) -> int:
    """An INTEGER column as written by any tool: lastlog2's table is not STRICT,
    so a foreign writer may have left text or NULL there."""
    if isinstance(value, (int, float, str, bytes)):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def _str(value: object) -> str:
    return "" if value is None else str(value)


def _wtmp_row(row: tuple[object, ...]) -> WtmpdbRow:
    if len(row) != len(WTMP_COLUMNS):
        raise WtmpdbError(errno.EINVAL, f"the wtmp table has {len(row)} columns, not "
                                        f"{len(WTMP_COLUMNS)} ({', '.join(WTMP_COLUMNS)})")
    id_, type_, user, login, logout, tty, host, service = row
    return WtmpdbRow(_int(id_), _int(type_), _str(user), _int(login),
                     None if logout is None else _int(logout), _str(tty), _str(host),
                     _str(service))


def _lastlog2_row(row: tuple[object, ...]) -> Lastlog2Entry:
    name, when, tty, host, service = row
    return Lastlog2Entry(_str(name), _int(when), _str(tty), _str(host), _str(service))


def _line(tty: Text | None) -> str:
    # Upstream stores '' for no tty, never NULL; `wtmpdb last` prints NULL as "?".
    line = tty_line(tty)
    return "" if line is None else line.decode()


def _service(service: str) -> str:
    # A service name is informative, like the host: controls become '?'.
    return clean_info("service", service, 256).value.decode()


def _path(path: PathArg, default: str) -> str:
    return default if path is None else os.fspath(path)


# --- SQLite ----------------------------------------------------------------------


def _busy(err: sqlite3.Error) -> bool:
    code = getattr(err, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "locked" in str(err) or "busy" in str(err)


def _error(cls: type[DatabaseError], err: sqlite3.Error, action: str, path: str
           ) -> DatabaseError:
    if _busy(err):
        return cls(errno.EAGAIN, f"{action}: the database stayed locked by another process",
                   path)
    text = str(err)
    code = errno.EACCES if "readonly" in text or "unable to open" in text else errno.EIO
    return cls(code, f"{action}: {text}", path)


def _guard(cls: type[DatabaseError], action: str, path: str,
           step: Callable[..., T], *args: object) -> T:
    try:
        return step(*args)
    except sqlite3.Error as err:
        raise _error(cls, err, action, path) from None


def _fetch(conn: sqlite3.Connection, query: str, args: tuple[object, ...]
           ) -> list[tuple[object, ...]]:
    return conn.execute(query, args).fetchall()


def _has_table(conn: sqlite3.Connection, table: str) -> bool:
    return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                             (table,)).fetchall())


def _make_dirs(directory: str, cls: type[DatabaseError], path: str) -> None:
    if os.path.isdir(directory):
        return
    parent = os.path.dirname(directory)
    if parent and parent != directory:
        _make_dirs(parent, cls, path)
    try:
        os.mkdir(directory, DIR_MODE)
        os.chmod(directory, DIR_MODE)  # the host program's umask must not decide
    except FileExistsError:
        pass
    except OSError as err:
        raise cls(err.errno or errno.EIO, f"cannot create the directory {directory}: "
                                          f"{err.strerror}", path) from None


def _prepare(path: str, cls: type[DatabaseError]) -> None:
    """Create the directories and the (empty) database file with upstream's modes."""
    _make_dirs(os.path.dirname(os.path.abspath(path)), cls, path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     FILE_MODE)
    except FileExistsError:
        return
    except OSError as err:
        raise cls(err.errno or errno.EIO, f"cannot create the database: {err.strerror}",
                  path) from None
    try:
        # SQLite gives its journal the database file's mode, so this covers it too.
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def _begin_immediate(conn: sqlite3.Connection, deadline: float) -> None:
    """Take the write lock, waiting in our own loop (see the module text)."""
    pause = 0.001
    conn.execute("PRAGMA busy_timeout = 0")
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as err:
            left = deadline - time.monotonic()
            if not _busy(err) or left <= 0:
                raise
            # Jitter keeps a crowd of waiters from polling in step.
            time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
            pause = min(2 * pause, MAX_PAUSE)
    # COMMIT still waits for readers to finish: SQLite's own handler for the rest.
    left_ms = int((deadline - time.monotonic()) * 1000)
    conn.execute(f"PRAGMA busy_timeout = {max(left_ms, 1)}")


def _write(path: str, cls: type[DatabaseError], action: str, timeout: float,
           work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` in one write transaction, committed, or raise ``cls``."""
    if sqlite3.sqlite_version_info < STRICT_SINCE:
        raise cls(errno.ENOSYS, f"{action}: SQLite {sqlite3.sqlite_version} is older than "
                                "3.37, which wtmpdb's STRICT table needs", path)
    deadline = time.monotonic() + timeout
    _prepare(path, cls)
    try:
        # Autocommit mode: the transaction is ours to begin, not the module's.
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except sqlite3.Error as err:
        raise _error(cls, err, action, path) from None
    try:
        _begin_immediate(conn, deadline)
        result = work(conn)
        conn.execute("COMMIT")
        return result
    except sqlite3.Error as err:
        raise _error(cls, err, action, path) from None
    finally:
        if conn.in_transaction:
            # Closing rolls back too; the first error is the one to report.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        conn.close()


def _read(path: str, cls: type[DatabaseError], timeout: float = BUSY_TIMEOUT
          ) -> sqlite3.Connection:
    """A read-only connection; never creates the database."""
    if not os.path.exists(path):
        raise cls(errno.ENOENT, "no such database", path)
    from urllib.parse import quote  # readers only

    try:
        return sqlite3.connect(f"file:{quote(os.path.abspath(path))}?mode=ro", uri=True,
                               timeout=timeout, isolation_level=None)
    except sqlite3.Error as err:
        raise _error(cls, err, "cannot open the database", path) from None

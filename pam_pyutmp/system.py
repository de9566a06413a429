"""What the C library and the system configuration say: paths, field sizes, caps."""

from __future__ import annotations

# os's C half, the very same functions: os itself would bring _collections_abc
# into every start of Python that runs a session.
import posix
import time
from _stat import S_ISREG  # stat's C half, for the same reason

from pam_pyutmp._core import ffi, lib
from pam_pyutmp._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from os import PathLike
    from typing import TypeVar

    Entry = TypeVar("Entry")

LINE_SIZE: int = lib.PYUTMP_LINE_SIZE
ID_SIZE: int = lib.PYUTMP_ID_SIZE
USER_SIZE: int = lib.PYUTMP_USER_SIZE
HOST_SIZE: int = lib.PYUTMP_HOST_SIZE
UTMPX_SIZE: int = lib.pyutmp_utmpx_size()
LASTLOG_SIZE: int = lib.pyutmp_lastlog_size()

EMPTY: int = lib.EMPTY
BOOT_TIME: int = lib.BOOT_TIME
INIT_PROCESS: int = lib.INIT_PROCESS
LOGIN_PROCESS: int = lib.LOGIN_PROCESS
USER_PROCESS: int = lib.USER_PROCESS
DEAD_PROCESS: int = lib.DEAD_PROCESS

# The last second a record holds: the C library's field type decides (signed
# 32-bit seconds end in January 2038; glibc 2.41 and later keep them unsigned,
# to February 2106).  A later time is refused (EOVERFLOW), never wrapped.
UTMP_TIME_MAX: int = lib.pyutmp_utmp_time_max()
LASTLOG_TIME_MAX: int = lib.pyutmp_lastlog_time_max()

DEFAULT_UTMP: str = ffi.string(lib.pyutmp_default_utmp_path()).decode()
DEFAULT_WTMP: str = ffi.string(lib.pyutmp_default_wtmp_path()).decode()
DEFAULT_LASTLOG: str = ffi.string(lib.pyutmp_default_lastlog_path()).decode()

# How long a login or logout waits for another writer's lock on utmp, wtmp or
# lastlog: as long as glibc's own writers wait (TIMEOUT in login/utmp_file.c),
# so under a crowd of logins we give up no sooner than login or sshd would.
LOCK_TIMEOUT_MS = 10_000

# Failed logins: where util-linux and shadow keep them (FTMP_FILE of login.defs);
# the C library names no path for it.
DEFAULT_BTMP = "/var/log/btmp"

# The SQLite successors' databases where upstream's modules and tools keep them.
DEFAULT_WTMPDB = "/var/lib/wtmpdb/wtmp.db"
DEFAULT_LASTLOG2 = "/var/lib/lastlog/lastlog2.db"

LOGIN_DEFS = "/etc/login.defs"
# The largest uid a 32-bit uid_t can name; (uid_t)-1 means "no uid".
UID_LIMIT = 2**32 - 2


# How long a look at a file that decides a login (login.defs, the utmpd socket)
# stays good: a process that runs many sessions looks once per interval, not at
# every session, and sees an edit at most this late.
RECHECK_SECONDS = 1.0
_clock = time.monotonic
# Paths remembered per kind of look: a caller with ever new paths starts over.
_REMEMBERED_MAX = 16


def fresh(looked_at: float, now: float) -> bool:
    """Whether what a look at ``looked_at`` found still stands at ``now``."""
    return 0 <= now - looked_at < RECHECK_SECONDS


def remember(seen: dict[str, Entry], path: str, entry: Entry) -> None:
    """Keep what a look at ``path`` found, for the next look."""
    if len(seen) >= _REMEMBERED_MAX and path not in seen:
        seen.clear()
    seen[path] = entry

# login.defs read before, by path: when it was looked at, its identity (inode,
# size, mtime) and the cap.  A process that outlives its logins (pam_pyutmp.so
# keeps Python) reads the file again only when it changed.
_uid_max_seen: dict[str, tuple[float, tuple[int, int, int] | None, int | None]] = {}


def lastlog_uid_max(login_defs: str = LOGIN_DEFS) -> int | None:
    """LASTLOG_UID_MAX from login.defs, or None when it sets no cap.

    As shadow's login.defs(5) says: no entry means no limit.  An unreadable
    file or a malformed value also means no limit, never a failed login.
    """
    now = _clock()
    seen = _uid_max_seen.get(login_defs)
    if seen is not None and fresh(seen[0], now):
        return seen[2]
    try:
        st = posix.stat(login_defs)
    except OSError:
        identity = None
        cap = None
    else:
        identity = (st.st_ino, st.st_size, st.st_mtime_ns)
        cap = seen[2] if seen is not None and seen[1] == identity else _read_uid_max(login_defs)
    remember(_uid_max_seen, login_defs, (now, identity, cap))
    return cap


def read_config(path: str, limit: int = 1 << 20) -> str | None:
    """A configuration file's text (its first ``limit`` bytes), or None when it is
    missing, unreadable or no regular file.  O_NONBLOCK: a FIFO planted there must
    not hold a login."""
    try:
        fd = posix.open(path, posix.O_RDONLY | posix.O_NONBLOCK | posix.O_CLOEXEC
                        | posix.O_NOCTTY)
    except OSError:
        return None
    try:
        if not S_ISREG(posix.fstat(fd).st_mode):
            return None
        chunks, left = [], limit
        while left > 0 and (chunk := posix.read(fd, min(left, 1 << 16))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        posix.close(fd)


def _read_uid_max(login_defs: str) -> int | None:
    text = read_config(login_defs)
    if text is None:
        return None
    cap: int | None = None
    if "LASTLOG_UID_MAX" not in text:
        return None  # as in Debian's own file: one search over the text, no line split
    for line in text.splitlines():
        # Only lines naming it are split: there are hundreds of others.
        if "LASTLOG_UID_MAX" not in line:
            continue
        words = line.split()
        if len(words) >= 2 and words[0] == "LASTLOG_UID_MAX":
            try:
                cap = int(words[1], 0)
            except ValueError:
                cap = None
    return cap if cap is None or cap >= 0 else None


def path_or_default(path: PathLike[str] | str | None, default: str) -> str:
    return default if path is None else posix.fspath(path)

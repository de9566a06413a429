"""What the C library and the system configuration say: paths, field sizes, caps."""

from __future__ import annotations

import os

from pam_pyutmp._core import ffi, lib

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

DEFAULT_UTMP: str = ffi.string(lib.pyutmp_default_utmp_path()).decode()
DEFAULT_WTMP: str = ffi.string(lib.pyutmp_default_wtmp_path()).decode()
DEFAULT_LASTLOG: str = ffi.string(lib.pyutmp_default_lastlog_path()).decode()

LOGIN_DEFS = "/etc/login.defs"
# The largest uid a 32-bit uid_t can name; (uid_t)-1 means "no uid".
UID_LIMIT = 2**32 - 2


# login.defs read before, by path: its identity (inode, size, mtime) and the cap.
# A process that outlives its logins (pam_pyutmp.so keeps Python) reads the file
# again only when it changed.
_uid_max_seen: dict[str, tuple[tuple[int, int, int], int | None]] = {}


def lastlog_uid_max(login_defs: str = LOGIN_DEFS) -> int | None:
    """LASTLOG_UID_MAX from login.defs, or None when it sets no cap.

    As shadow's login.defs(5) says: no entry means no limit.  An unreadable
    file or a malformed value also means no limit, never a failed login.
    """
    try:
        st = os.stat(login_defs)
    except OSError:
        return None
    identity = (st.st_ino, st.st_size, st.st_mtime_ns)
    seen = _uid_max_seen.get(login_defs)
    if seen is not None and seen[0] == identity:
        return seen[1]
    cap = _read_uid_max(login_defs)
    _uid_max_seen[login_defs] = (identity, cap)
    return cap


def _read_uid_max(login_defs: str) -> int | None:
    try:
        with open(login_defs, encoding="utf-8", errors="replace") as defs:
            text = defs.read()
    except OSError:
        return None
    cap: int | None = None
    for line in text.splitlines():
        # Only lines naming it are split: this runs at every login, over hundreds of lines.
        if "LASTLOG_UID_MAX" not in line:
            continue
        words = line.split()
        if len(words) >= 2 and words[0] == "LASTLOG_UID_MAX":
            try:
                cap = int(words[1], 0)
            except ValueError:
                cap = None
    return cap if cap is None or cap >= 0 else None


def path_or_default(path: os.PathLike[str] | str | None, default: str) -> str:
    return default if path is None else os.fspath(path)

"""Sessions as `last` lists them: logins paired with what ended them.

From wtmp records (a file, or the utmps daemon's file) with the algorithm of
util-linux last(1), ``process_wtmp_file``, so that both list the same pairs:
records are read newest first, a login is ended by the nearest later record
on its line (a logout, or the next login there), and one with no such record
is ended by the boot or shutdown that came after it, or is still logged in,
or is gone (its process no longer holds the terminal).  (wtmpdb rows carry
their own logout: pam_pyutmp.dblisting lists them.)
"""

from __future__ import annotations

import os
import pwd
import time
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from pam_pyutmp.records import Record
from pam_pyutmp.system import (
    BOOT_TIME,
    DEAD_PROCESS,
    EMPTY,
    INIT_PROCESS,
    LOGIN_PROCESS,
    USER_PROCESS,
    UTMPX_SIZE,
)

# ut_type values <utmp.h> has and system.py does not need elsewhere.
RUN_LVL = 1
NEW_TIME = 3
OLD_TIME = 4
ACCOUNTING = 9
SHUTDOWN_TIME = 254  # last(1)'s own, for "shutdown" records on line "~"

# How a listed session ended (util-linux's R_* listing kinds).
CLOSED = "closed"  # a logout record, or the next login on the line
STILL_RUNNING = "still running"  # its end is stamped with the very second of the listing
STILL_LOGGED_IN = "still logged in"
GONE = "gone - no logout"  # no logout, and its process no longer holds the terminal
CRASH = "crash"  # no logout before the next boot
DOWN = "down"  # no logout before a shutdown
USEC = 1_000_000
_CHUNK_RECORDS = 4096


class Session(NamedTuple):
    """One line of `last`: a login session, or a boot (``kind`` "boot")."""

    kind: str  # "session" or "boot"
    user: str
    line: str
    host: str
    login: int  # microseconds since the epoch
    end: int | None  # microseconds: the logout, or the boot or shutdown that ended it
    status: str  # CLOSED, STILL_RUNNING, ...
    service: str = ""  # wtmpdb only
    pid: int = 0

    @property
    def login_sec(self) -> int:
        return self.login // USEC

    @property
    def end_sec(self) -> int | None:
        return None if self.end is None else self.end // USEC


class Progress:
    """Reports how far a long scan got: ``report(done, total)`` in bytes."""

    def __init__(self, report: Callable[[int, int], None] | None) -> None:
        self.report = report

    def __call__(self, done: int, total: int) -> None:
        if self.report is not None:
            self.report(done, total)


def wtmp_begins(path: str) -> int:
    """The time of the first record, in microseconds (`last`'s "wtmp begins");
    the file's ctime when it holds none."""
    with open(path, "rb") as wtmp:
        raw = wtmp.read(UTMPX_SIZE)
        if len(raw) == UTMPX_SIZE:
            first = Record.decode(raw)
            return first.tv_sec * USEC + first.tv_usec
        return int(os.fstat(wtmp.fileno()).st_ctime) * USEC


def records_backwards(path: str, progress: Progress | None = None) -> Iterator[Record]:
    """Records of a wtmp file, newest first, read in chunks from the end (a
    multi-GB file is never held in memory).  A torn tail is left out."""
    with open(path, "rb") as wtmp:
        size = os.fstat(wtmp.fileno()).st_size
        position = size - size % UTMPX_SIZE
        chunk = UTMPX_SIZE * _CHUNK_RECORDS
        while position > 0:
            start = max(0, position - chunk)
            wtmp.seek(start)
            data = wtmp.read(position - start)
            for offset in range(len(data) - UTMPX_SIZE, -1, -UTMPX_SIZE):
                yield Record.decode(data[offset : offset + UTMPX_SIZE])
            position = start
            if progress is not None:
                progress(size - position, size)


def boot_time() -> float:
    """When this system booted, as util-linux computes it (now - CLOCK_BOOTTIME)."""
    return time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)


def is_phantom(record: Record, booted: float) -> bool:
    """last(1)'s test for a login without logout that is no longer there: from
    before this boot, of an unknown user, or whose process has another login
    uid (or, without /proc/PID/loginuid, whose terminal the user does not own)."""
    if record.tv_sec < int(booted):
        return True
    try:
        uid = pwd.getpwnam(record.user).pw_uid
    except (KeyError, ValueError):
        return True
    path = f"/proc/{record.pid & 0xFFFFFFFF}/loginuid"
    if os.access(path, os.R_OK):
        try:
            with open(path) as loginuid:
                return int(loginuid.read().split()[0]) != uid
        except (OSError, ValueError, IndexError):
            return True
    try:
        return os.stat("/dev/" + record.line).st_uid != uid
    except (OSError, ValueError):
        return True


def _normalised_type(record: Record) -> int:
    """ut_type as last(1) reads it: old writers' records get their meaning."""
    kind, user, line = record.type, record.user, record.line
    if line.startswith("~"):
        if user.startswith("shutdown"):
            return SHUTDOWN_TIME
        if user.startswith("reboot"):
            return BOOT_TIME
        if user.startswith("runlevel"):
            return RUN_LVL
        return kind
    if kind != DEAD_PROCESS and user and line and not user.startswith("LOGIN"):
        kind = USER_PROCESS
    if not user:
        kind = DEAD_PROCESS
    if user.startswith("date"):
        if line.startswith("|"):
            kind = OLD_TIME
        if line.startswith("{"):
            kind = NEW_TIME
    return kind


def shown_line(line: str) -> str:
    """The line as last(1) shows it: "ftp1234" is "ftp", "uucp12" is "uucp"."""
    if line.startswith("ftp") and line[3:4].isdigit():
        return "ftp"
    if line.startswith("uucp") and line[4:5].isdigit():
        return "uucp"
    return line


def pair_records(
    newest_first: Iterable[Record],
    *,
    now: int | None = None,
    booted: float | None = None,
    phantom: Callable[[Record, float], bool] = is_phantom,
    warn: Callable[[str], None] | None = None,
) -> Iterator[Session]:
    """Sessions and boots in the order `last` lists them (newest first)."""
    current = int(time.time()) if now is None else now
    booted = boot_time() if booted is None else booted
    last_boot = 0  # seconds; 0: no boot or shutdown seen yet (reading backwards)
    last_down = current
    why_down = CRASH
    # line -> the nearest later record on it: last(1)'s list, of which only the
    # newest entry per line is ever matched (a match removes them all).
    later: dict[str, Record] = {}
    for record in newest_first:
        kind = _normalised_type(record)
        down = False
        if kind == SHUTDOWN_TIME:
            last_down = record.tv_sec
            down = True
        elif kind == BOOT_TIME:
            status = STILL_RUNNING if last_down == current else CLOSED
            yield Session("boot", record.user, "system boot", record.host,
                          record.tv_sec * USEC + record.tv_usec,
                          last_down * USEC, status, pid=record.pid)
            down = True
        elif kind == RUN_LVL:
            if chr(record.pid & 0xFF) in "06":
                last_down = record.tv_sec
                down = True
                kind = SHUTDOWN_TIME
        elif kind in (USER_PROCESS, DEAD_PROCESS):
            if kind == USER_PROCESS:
                yield _login(record, later.get(record.line), last_boot, why_down, current,
                             booted, phantom)
            if record.line:
                later[record.line] = record
        elif (kind not in (EMPTY, INIT_PROCESS, LOGIN_PROCESS, ACCOUNTING, NEW_TIME, OLD_TIME)
              and warn is not None):
            warn(f"unrecognized ut_type: {kind}")
        if down:
            last_boot = record.tv_sec
            why_down = DOWN if kind == SHUTDOWN_TIME else CRASH
            later.clear()


def _login(record: Record, ended_by: Record | None, last_boot: int, why_down: str,
           current: int, booted: float, phantom: Callable[[Record, float], bool]) -> Session:
    login = record.tv_sec * USEC + record.tv_usec
    if ended_by is not None:
        end: int | None = ended_by.tv_sec * USEC + ended_by.tv_usec
        status = STILL_RUNNING if ended_by.tv_sec == current else CLOSED
    elif last_boot:
        end, status = last_boot * USEC, why_down
    else:
        end, status = None, GONE if phantom(record, booted) else STILL_LOGGED_IN
    return Session("session", record.user, shown_line(record.line), record.host, login, end,
                   status, pid=record.pid)


def failed_attempts(newest_first: Iterable[Record], *, now: int | None = None
                    ) -> Iterator[Session]:
    """The records of btmp as `lastb` lists them: each one an attempt that began and
    ended at its own time, whatever its type."""
    current = int(time.time()) if now is None else now
    for record in newest_first:
        when = record.tv_sec * USEC + record.tv_usec
        yield Session("session", record.user, shown_line(record.line), record.host, when, when,
                      STILL_RUNNING if record.tv_sec == current else CLOSED, pid=record.pid)


def matches(session: Session, names: Iterable[str]) -> bool:
    """last(1)'s [USER|TTY] arguments: the user, the line, or the line without "tty"."""
    for name in names:
        if name in (session.user, session.line):
            return True
        if session.line.startswith("tty") and session.line[3:] == name:
            return True
    return False

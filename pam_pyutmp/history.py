"""Sessions as `last` lists them from wtmpdb, and what the wtmp readers share.

A wtmp or btmp file is paired and listed by the C engine
(:mod:`pam_pyutmp.lastreader`); wtmpdb rows are paired here as `wtmpdb last`
pairs them: a row carries its own logout.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from pam_pyutmp.records import Record
from pam_pyutmp.system import UTMPX_SIZE

# How a listed session ended (util-linux's R_* listing kinds).
CLOSED = "closed"  # a logout record
STILL_RUNNING = "still running"  # a boot not shut down
STILL_LOGGED_IN = "still logged in"
GONE = "gone - no logout"  # no logout, and its process no longer holds the terminal
CRASH = "crash"  # no logout before the next boot
DOWN = "down"  # no logout before a shutdown
USEC = 1_000_000


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


def wtmp_begins(path: str) -> int:
    """The time of the first record, in microseconds (`last`'s "wtmp begins");
    the file's ctime when it holds none."""
    with open(path, "rb") as wtmp:
        raw = wtmp.read(UTMPX_SIZE)
        if len(raw) == UTMPX_SIZE:
            first = Record.decode(raw)
            return first.tv_sec * USEC + first.tv_usec
        return int(os.fstat(wtmp.fileno()).st_ctime) * USEC


def pair_wtmpdb(rows: Iterable[object]) -> Iterator[Session]:
    """Sessions and boots from wtmpdb rows (newest first), as `wtmpdb last` tells
    them: a row without logout is a crash when a boot came after it."""
    from pam_pyutmp import databases  # the sqlite3 side, for this source only

    after_reboot = False
    for row in rows:
        assert isinstance(row, databases.WtmpdbRow)
        boot = row.type == databases.BOOT_TIME
        if row.logout is not None:
            status = CLOSED
        elif after_reboot:
            status = CRASH
        else:
            status = STILL_RUNNING if boot else STILL_LOGGED_IN
        yield Session("boot" if boot else "session", row.user,
                      "system boot" if boot else row.tty, row.host, row.login, row.logout,
                      status, service=row.service)
        if boot:
            after_reboot = True


def matches(session: Session, names: Iterable[str]) -> bool:
    """last(1)'s [USER|TTY] arguments: the user, the line, or the line without "tty"."""
    for name in names:
        if name in (session.user, session.line):
            return True
        if session.line.startswith("tty") and session.line[3:] == name:
            return True
    return False

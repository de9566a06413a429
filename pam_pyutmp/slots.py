"""Which utmp slot a session takes, and whether it still holds it.

The same rules for every store (utmp files, the utmps daemon): a session on a
terminal takes the terminal's slot as login does, one without a terminal gets
a slot of its own, and a logout only ever closes the slot of its own login.
"""

from __future__ import annotations

import errno
import os

from pam_pyutmp.errors import UtmpError
from pam_pyutmp.fields import clean_info
from pam_pyutmp.records import Record
from pam_pyutmp.stores import UtmpStore
from pam_pyutmp.system import DEAD_PROCESS, LINE_SIZE, USER_PROCESS

# Sessions without a tty get ids "P000".."Pzzz": no tty name ends that way,
# so they never take a slot of login, sshd or a terminal emulator.
NOTTY_ID_PREFIX = "P"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
NOTTY_SLOTS = len(_DIGITS) ** 3


def notty_id(n: int) -> str:
    return NOTTY_ID_PREFIX + _DIGITS[n // 1296] + _DIGITS[n // 36 % 36] + _DIGITS[n % 36]


def notty_line(label: str, n: int) -> str:
    """A line unique among live tty-less sessions, e.g. "su/0": `last` pairs
    logins with logouts by line, so two live sessions must never share one."""
    suffix = f"/{n}".encode()
    # The label (a PAM service name) gets the host's rules: control characters such
    # as ESC, and bytes that are not UTF-8, must not reach ut_line.
    head = clean_info("service", label, LINE_SIZE - len(suffix)).value
    return (head + suffix).decode("utf-8")


def open_slot(store: UtmpStore, record: Record, label: str, has_tty: bool) -> Record:
    """Write a new session's USER_PROCESS record; return it as written.

    A session on a tty takes the tty's slot, as login does, unless a live
    session of another process holds it (su or a nested login on the same
    terminal): overwriting it would drop that outer session from `who` and
    end it at our logout.  Such a session, and one without a tty, gets a
    slot of its own instead.
    """
    with store.exclusive():
        slots = store.read()
        if has_tty and not any(_held_by_other(slot, record) for slot in slots):
            store.put(record)
            return record
        live = {slot.id for slot in slots if slot.type == USER_PROCESS}
        # The lowest free id, so ended sessions' ids are reused and utmp
        # does not grow with every login.
        for n in range(NOTTY_SLOTS):
            if notty_id(n) not in live:
                slotted = record._replace(id=notty_id(n), line=notty_line(label, n))
                store.put(slotted)
                return slotted
    raise UtmpError(errno.ENOSPC, "every tty-less utmp slot is in use", store.name)


def _held_by_other(slot: Record, record: Record) -> bool:
    # The line counts as well as the id: login (shadow) gives pts/3 the id
    # "/3", not "ts/3", and `last` pairs by line, so a second session on the
    # line would end login's session in wtmp at this one's start.
    return (
        slot.type == USER_PROCESS
        and (slot.id == record.id or slot.line == record.line)
        and slot.pid != record.pid
        and _alive(slot.pid)
    )


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _same_session(slot: Record, record: Record) -> bool:
    return (slot.type, slot.line, slot.user, slot.pid, slot.tv_sec, slot.tv_usec) == (
        USER_PROCESS, record.line, record.user, record.pid, record.tv_sec, record.tv_usec)


def close_slot(store: UtmpStore, record: Record, logout: Record) -> bool:
    """Write ``logout`` over ``record``'s slot if that slot still holds it.

    A slot that was closed already, or that a newer login on the same tty
    took over, is left alone (False): a second DEAD_PROCESS, or a logout in
    wtmp, would end the wrong session in `last`, or list one logout twice.
    """
    with store.exclusive():
        for slot in store.read():
            # The slot put() will overwrite: the first with the id, and for
            # utmpd also the line (an ended tty-less session of another
            # service can keep the same id there under its own line).
            if (slot.id == record.id and slot.type in (USER_PROCESS, DEAD_PROCESS)
                    and (slot.line == record.line or not store.put_matches_line)):
                if not _same_session(slot, record):
                    return False
                store.put(logout)
                return True
    return False


def dead(record: Record, tv_sec: int, tv_usec: int) -> Record:
    """The record that ends ``record``'s session, as logout(3) writes it:
    same line and id, no user or host."""
    return record._replace(
        type=DEAD_PROCESS, user="", host="", tv_sec=tv_sec, tv_usec=tv_usec,
        addr_v6=bytes(16),
    )

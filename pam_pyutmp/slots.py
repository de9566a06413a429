"""Which utmp slot a session takes, and whether it still holds it.

The rules are C (csrc/pyutmp_slots.c), one copy for every store: a session on
a terminal takes the terminal's slot as login does, one without a terminal
gets a slot of its own, and a logout only ever closes the slot of its own
login.  The utmp files apply them in the call that writes
(:mod:`pam_pyutmp.utmpfile`); the utmps daemon's client reads, asks here, and
puts (:mod:`pam_pyutmp.utmps`).
"""

from __future__ import annotations

import errno

from pam_pyutmp._core import ffi, lib
from pam_pyutmp._typing import TYPE_CHECKING
from pam_pyutmp.errors import UtmpError
from pam_pyutmp.fields import clean_info
from pam_pyutmp.records import Record, field_text
from pam_pyutmp.system import DEAD_PROCESS, LINE_SIZE

if TYPE_CHECKING:
    from typing import Any

# Sessions without a tty get ids "P000".."Pzzz": no tty name ends that way,
# so they never take a slot of login, sshd or a terminal emulator.
NOTTY_ID_PREFIX = chr(lib.PYUTMP_NOTTY_ID_PREFIX)
NOTTY_SLOTS: int = lib.PYUTMP_NOTTY_SLOTS


def label_bytes(label: str) -> bytes:
    """The service name that starts a tty-less line ("su" of "su/0").

    It gets the host's rules: control characters such as ESC, and bytes that
    are not UTF-8, must not reach ut_line.  Cut to leave room for the shortest
    number; the C side cuts it further, on a character boundary, for longer ones.
    """
    return clean_info("service", label, LINE_SIZE - len("/0")).value


def notty_slot(record: Record, label: str, n: int) -> Record:
    """``record`` on tty-less slot ``n``: id "P" and three base-36 digits,
    line "<label>/<n>"."""
    rec = record.to_c()
    lib.pyutmp_notty_slot(rec, label_bytes(label), n)
    return placed(record, rec)


def notty_id(n: int) -> str:
    rec = ffi.new("struct pyutmp_record *")
    lib.pyutmp_notty_slot(rec, b"", n)
    return field_text(rec.id)


def placed(record: Record, rec: Any) -> Record:
    """``record`` with the id and line the C rules gave ``rec``."""
    slot_id, line = field_text(rec.id), field_text(rec.line)
    if slot_id == record.id and line == record.line:
        return record  # it kept its tty's slot: the common case
    return record._replace(id=slot_id, line=line)


def no_free_slot(where: str) -> UtmpError:
    return UtmpError(errno.EUSERS, "every tty-less utmp slot is in use", where)


def _snapshot(slots: list[Record]) -> Any:
    snapshot = ffi.new("struct pyutmp_record[]", len(slots))
    for index, slot in enumerate(slots):
        snapshot[index] = slot.to_c()[0]
    return snapshot


def choose(slots: list[Record], record: Record, label: str, has_tty: bool,
           where: str) -> Record:
    """The slot a new session takes among ``slots``: its tty's, unless a live
    session of another process holds that (su or a nested login on the same
    terminal: overwriting it would drop that outer session from `who` and end
    it at our logout), else the lowest free tty-less one."""
    rec = record.to_c()
    code = lib.pyutmp_slot_choose(_snapshot(slots), len(slots), rec, has_tty,
                                  label_bytes(label))
    if code:
        raise no_free_slot(where)
    return placed(record, rec)


def retired_stale(slots: list[Record], taken: Record) -> list[Record]:
    """The DEAD_PROCESS records that retire the stale slots among ``slots`` (tty-less
    sessions whose process is gone), but the one ``taken`` now holds: written in the
    login's step, so `who` lists no session that will never log out.  The C side's
    pyutmp_slot_retired() keeps each slot's time: when its process ended is unknown."""
    retired = []
    for slot in slots:
        rec = slot.to_c()
        if not lib.pyutmp_slot_stale(rec) or (slot.id == taken.id and slot.line == taken.line):
            continue
        dead_rec = ffi.new("struct pyutmp_record *")
        lib.pyutmp_slot_retired(rec, dead_rec)
        retired.append(Record.from_c(dead_rec))
    return retired


def holds(slots: list[Record], record: Record, put_matches_line: bool) -> bool:
    """Whether the slot a put of ``record``'s logout overwrites still holds
    ``record``'s session: one closed already, or one a newer login on the
    same tty took over, is to be left alone (a second DEAD_PROCESS, or a
    logout in wtmp, would end the wrong session in `last`).

    ``put_matches_line``: the store overwrites only a slot whose ut_line is
    the record's too (utmpd), not any slot with its ut_id (glibc's files).
    """
    return bool(lib.pyutmp_slot_holds(_snapshot(slots), len(slots), record.to_c(),
                                      put_matches_line))


def dead(record: Record, tv_sec: int, tv_usec: int) -> Record:
    """The record that ends ``record``'s session, as logout(3) writes it:
    same line and id, no user or host."""
    # Built whole rather than with _replace(), which binds its changes in Python:
    # this runs for every logout.
    return Record(DEAD_PROCESS, record.pid, record.line, record.id, "", "", record.session,
                  tv_sec, tv_usec, bytes(16))

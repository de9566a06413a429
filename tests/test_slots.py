"""The slot rules (csrc/pyutmp_slots.c) on snapshots made here: which slot a new
session takes, and whether a logout may close the slot it finds."""

from __future__ import annotations

import errno
import os

import pytest

from pam_pyutmp import slots
from pam_pyutmp.errors import UtmpError
from pam_pyutmp.records import Record
from pam_pyutmp.system import DEAD_PROCESS, LINE_SIZE, USER_PROCESS


def session(line: str, slot_id: str, pid: int, user: str = "alice", tv_sec: int = 1_700_000_000,
            type_: int = USER_PROCESS) -> Record:
    return Record(type_, pid, line, slot_id, user, "", 0, tv_sec, 0)


def gone_pid() -> int:
    """The pid of a process that has ended and been reaped."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


NEW = session("pts/3", "ts/3", os.getpid(), user="bob")


def test_a_free_tty_keeps_its_slot() -> None:
    other_tty = session("pts/4", "ts/4", 1)
    assert slots.choose([other_tty], NEW, "su", True, "utmp") == NEW


@pytest.mark.parametrize("holder", [session("pts/3", "ts/3", 1), session("pts/3", "/3", 1)],
                         ids=["same id", "same line, login's id"])
def test_a_tty_a_live_session_of_another_process_holds_gives_a_slot_of_its_own(
        holder: Record) -> None:
    chosen = slots.choose([holder], NEW, "su", True, "utmp")
    assert (chosen.id, chosen.line) == ("P000", "su/0")
    assert chosen._replace(id=NEW.id, line=NEW.line) == NEW


def test_a_slot_whose_holder_has_ended_is_taken_over() -> None:
    assert slots.choose([session("pts/3", "ts/3", gone_pid())], NEW, "su", True, "utmp") == NEW


def test_a_tty_less_session_gets_the_lowest_id_no_live_session_uses() -> None:
    snapshot = [session("su/0", "P000", 1), session("su/1", "P001", 1),
                session("su/2", "P002", 1, type_=DEAD_PROCESS), session("su/4", "P004", 1)]
    chosen = slots.choose(snapshot, NEW, "sudo", False, "utmp")
    assert (chosen.id, chosen.line) == ("P002", "sudo/2")


def test_a_long_label_is_cut_on_a_character_boundary_to_fit_the_number() -> None:
    label = "é" * LINE_SIZE  # two bytes each
    for n in (0, 46655):
        record = slots.notty_slot(NEW, label, n)
        raw = record.line.encode("utf-8")  # strict: no half character
        assert len(raw) <= LINE_SIZE and record.line.endswith(f"/{n}")
        assert len(raw) > LINE_SIZE - len(f"/{n}") - 2
    assert slots.notty_id(46655) == "Pzzz"


def test_every_tty_less_slot_in_use_is_an_error_not_a_shared_slot() -> None:
    snapshot = [session(f"su/{n}", slots.notty_id(n), 1) for n in range(slots.NOTTY_SLOTS)]
    with pytest.raises(UtmpError) as raised:
        slots.choose(snapshot, NEW, "su", False, "utmp")
    assert raised.value.errno == errno.EUSERS


def test_a_logout_closes_only_a_slot_that_still_holds_its_session() -> None:
    mine = session("pts/3", "ts/3", 42)
    assert slots.holds([mine], mine, put_matches_line=False)
    assert not slots.holds([], mine, put_matches_line=False)
    assert not slots.holds([slots.dead(mine, 1_700_000_001, 0)], mine, put_matches_line=False)
    newer = mine._replace(pid=43, tv_sec=mine.tv_sec + 5)
    assert not slots.holds([newer], mine, put_matches_line=False)


def test_which_slot_a_put_overwrites_decides_per_store() -> None:
    """glibc's files overwrite the first slot with the id whatever its line; utmpd
    only one with the line too."""
    mine = session("sudo/0", "P000", 42)
    ended_other = session("su/0", "P000", 7, type_=DEAD_PROCESS)
    assert not slots.holds([ended_other, mine], mine, put_matches_line=False)
    assert slots.holds([ended_other, mine], mine, put_matches_line=True)


def test_a_tty_less_slot_whose_process_is_gone_is_free_again() -> None:
    """A killed session never logs out: its number goes to the next tty-less login, so
    killed sessions do not use the numbers up."""
    snapshot = [session("su/0", "P000", gone_pid()), session("su/1", "P001", 1)]
    chosen = slots.choose(snapshot, NEW, "su", False, "utmp")
    assert (chosen.id, chosen.line) == ("P000", "su/0")


def test_a_login_retires_the_other_stale_tty_less_slots_keeping_their_time() -> None:
    """Stale: tty-less, USER_PROCESS, process gone.  Retired as logout(3) leaves a slot (no
    user, no host) but with the login's time: when the process ended is not known."""
    gone = gone_pid()
    taken = session("su/0", "P000", gone)
    stale = session("su/2", "P002", gone, user="carol")._replace(host="h.example")
    snapshot = [taken, session("su/1", "P001", 1), stale,
                session("pts/3", "ts/3", gone),  # a tty's slot: login's or getty's business
                session("su/5", "P005", gone, type_=DEAD_PROCESS)]
    chosen = slots.choose(snapshot, NEW, "su", False, "utmp")
    assert slots.retired_stale(snapshot, chosen) == [
        stale._replace(type=DEAD_PROCESS, user="", host="")]


def test_a_session_retired_as_stale_while_it_lived_on_elsewhere_is_still_closed() -> None:
    """A session opened by a process that has ended, closed later by another one: its
    slot may have been retired meanwhile; the close still finds it, so wtmp gets the
    logout.  A slot its own logout closed is not found again."""
    mine = session("su/0", "P000", gone_pid())
    (retired,) = slots.retired_stale([mine], NEW)
    for put_matches_line in (False, True):
        assert slots.holds([retired], mine, put_matches_line)
        assert not slots.holds([slots.dead(mine, mine.tv_sec + 1, 0)], mine, put_matches_line)

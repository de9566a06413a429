"""200 processes opening and closing sessions at once on the same utmp and wtmp files."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import re
import threading
from collections import Counter
from typing import Any

import pam_pyutmp
from pam_pyutmp import utmpfile
from pam_pyutmp.system import DEAD_PROCESS, USER_PROCESS, UTMPX_SIZE

SESSIONS = 200
TIMEOUT = 120  # only a deadlock would get near it


def tty_of(i: int) -> str:
    """Every other session has no tty; the others each have a pts of their own."""
    return "" if i % 2 == 0 else f"/dev/pts/{i}"


class StartGun:
    """A pipe whose write end the parent closes: every process blocked reading it wakes at
    that moment, a sharper start than a barrier, which lets its waiters go one by one."""

    def __init__(self) -> None:
        self.read_end, self.write_end = os.pipe()

    def in_child(self) -> None:
        os.close(self.write_end)

    def wait(self) -> None:
        os.read(self.read_end, 1)  # EOF once the parent fired

    def fire(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.write_end)


def session_worker(i: int, paths: dict[str, str], guns: tuple[StartGun, StartGun],
                   barriers: tuple[Any, Any, Any], results: Any) -> None:
    """One process: open a session at the same moment as the others, wait while all are
    live, close it at the same moment as the others, then stay alive (so that no pid is
    reused) until all are closed."""
    open_gun, close_gun = guns
    ready, opened, closed = barriers
    report: dict[str, Any] = {"i": i, "pid": os.getpid()}
    try:
        for gun in guns:
            gun.in_child()
        ready.wait(TIMEOUT)
        open_gun.wait()
        entry = pam_pyutmp.put_utmp(f"user{i}", tty_of(i), f"192.0.2.{i % 250}",
                                    service="sess", **paths)
        report.update(line=entry.line, id=entry.id,
                      login=(entry.record.tv_sec, entry.record.tv_usec))
        opened.wait(TIMEOUT)  # the parent looks at 200 live sessions
        close_gun.wait()
        report["closed"] = pam_pyutmp.unput_utmp(entry)
    except BaseException as err:
        report["error"] = repr(err)
        for barrier in barriers:
            barrier.abort()
    results.put(report)
    with contextlib.suppress(threading.BrokenBarrierError):
        closed.wait(TIMEOUT)


def test_200_processes_open_and_close_sessions_at_once(acct, readers) -> None:
    """200 processes logging in and out at once leave whole records only: two per session
    in wtmp, one distinct slot per live session in utmp, every slot dead at the end."""
    ctx = multiprocessing.get_context("fork")
    guns = (StartGun(), StartGun())
    barriers = tuple(ctx.Barrier(SESSIONS + 1) for _ in range(3))
    ready, opened, closed = barriers
    results = ctx.Queue()
    workers = [ctx.Process(target=session_worker, args=(i, acct.paths, guns, barriers, results))
               for i in range(SESSIONS)]
    for worker in workers:
        worker.start()
    reports: list[dict[str, Any]] = []
    broken: threading.BrokenBarrierError | None = None
    try:
        ready.wait(TIMEOUT)
        guns[0].fire()
        opened.wait(TIMEOUT)
        live_slots = [s for s in utmpfile.read(str(acct.utmp)) if s.type == USER_PROCESS]
        live_who = readers.who(acct.utmp)
        guns[1].fire()
        while len(reports) < SESSIONS:
            reports.append(results.get(timeout=TIMEOUT))
        closed.wait(TIMEOUT)
    except threading.BrokenBarrierError as err:
        broken = err
    finally:
        for gun in guns:
            gun.fire()
            os.close(gun.read_end)
        for barrier in barriers:
            barrier.abort()
        while len(reports) < SESSIONS:
            try:
                reports.append(results.get(timeout=5))
            except queue.Empty:
                break
        for worker in workers:
            worker.join(TIMEOUT)
    errors = [r for r in reports if "error" in r]
    assert errors == []
    assert broken is None
    assert [w.exitcode for w in workers] == [0] * SESSIONS
    sessions = {r["i"]: r for r in reports}
    assert sorted(sessions) == list(range(SESSIONS))
    assert all(r["closed"] is True for r in reports)

    # While all were live: 200 slots with 200 distinct ids and lines, all listed by who.
    assert len(live_slots) == SESSIONS
    assert len({s.id for s in live_slots}) == SESSIONS
    assert len({s.line for s in live_slots}) == SESSIONS
    assert sorted(w[0] for w in live_who) == sorted(f"user{i}" for i in range(SESSIONS))
    notty_lines = {r["line"] for r in reports if not tty_of(r["i"])}
    assert notty_lines == {f"sess/{n}" for n in range(SESSIONS // 2)}

    # utmp at the end: whole records, no duplicate id, each session's slot present and dead.
    data = acct.utmp.read_bytes()
    assert len(data) % UTMPX_SIZE == 0
    slots = utmpfile.read(str(acct.utmp))
    assert len(slots) == SESSIONS
    assert [k for k, n in Counter(s.id for s in slots).items() if n > 1] == []
    by_id = {s.id: s for s in slots}
    for r in reports:
        slot = by_id[r["id"]]
        assert (slot.type, slot.line, slot.pid, slot.user) == (
            DEAD_PROCESS, r["line"], r["pid"], "")
    assert readers.who(acct.utmp) == []

    # wtmp: whole records, exactly a login and a logout per session, paired by line and pid.
    data = acct.wtmp.read_bytes()
    assert len(data) == 2 * SESSIONS * UTMPX_SIZE
    records = list(utmpfile.iter_wtmp(str(acct.wtmp)))
    assert len(records) == 2 * SESSIONS
    by_session: dict[tuple[str, int], list[Any]] = {}
    for rec in records:
        by_session.setdefault((rec.line, rec.pid), []).append(rec)
    assert len(by_session) == SESSIONS
    for r in reports:
        i = r["i"]
        login, logout = by_session[(r["line"], r["pid"])]
        assert (login.type, login.user, login.host, login.id) == (
            USER_PROCESS, f"user{i}", f"192.0.2.{i % 250}", r["id"])
        assert (login.tv_sec, login.tv_usec) == tuple(r["login"])
        assert (logout.type, logout.user, logout.host, logout.id) == (
            DEAD_PROCESS, "", "", r["id"])
        assert (logout.tv_sec, logout.tv_usec) >= (login.tv_sec, login.tv_usec)

    # And the reference reader agrees: 200 sessions, each with its logout.
    lines = readers.last(acct.wtmp, after_logout=max(r.tv_sec for r in records))
    assert len(lines) == SESSIONS
    for line in lines:
        assert re.search(r" - \S+ +\(\d\d:\d\d\)$", line), line
    assert sorted(line.split()[0] for line in lines) == sorted(
        f"user{i}" for i in range(SESSIONS))

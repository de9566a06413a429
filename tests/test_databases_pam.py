"""The PAM module's wtmpdb and lastlog2 options, with a stand-in handle: rows, codes, log
lines, 200 sessions at once, and sqlite3 kept off the login path when they are off."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pamfakes import handle

from pam_pyutmp import pam, utmpfile
from pam_pyutmp.system import DEAD_PROCESS, USER_PROCESS

SESSIONS = 200
TIMEOUT = 120  # only a deadlock would get near it


def db_rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def args_for(acct: Any, *extra: str) -> list[str]:
    return [f"utmp={acct.utmp}", f"wtmp={acct.wtmp}", f"lastlog={acct.lastlog}", *extra]


def test_open_and_close_write_the_row_and_set_its_logout(acct, logs, tty) -> None:
    """With wtmpdb= and lastlog2= the session gets a wtmpdb row with the utmp record's line
    and login time (to the microsecond) and a lastlog2 row; close sets the row's Logout."""
    wtmpdb, lastlog2 = acct.root / "wtmp.db", acct.root / "lastlog2.db"
    args = args_for(acct, f"wtmpdb={wtmpdb}", f"lastlog2={lastlog2}")
    h = handle(tty=tty, rhost="client.example")
    assert pam.open_session(h, 0, args) == pam.PAM_SUCCESS
    (login,) = list(utmpfile.iter_wtmp(str(acct.wtmp)))
    line = tty.removeprefix("/dev/")
    assert db_rows(wtmpdb, "SELECT Type, User, Login, Logout, TTY, RemoteHost, Service "
                           "FROM wtmp") == [
        (3, "root", login.tv_sec * 1_000_000 + login.tv_usec, None, line, "client.example",
         "svc")]
    assert db_rows(lastlog2, "SELECT Name, Time, TTY, RemoteHost, Service FROM Lastlog2") == [
        ("root", db_rows(lastlog2, "SELECT Time FROM Lastlog2")[0][0], line, "client.example",
         "svc")]
    assert pam.close_session(h, 0, args) == pam.PAM_SUCCESS
    ((logout,),) = db_rows(wtmpdb, "SELECT Logout FROM wtmp")
    wtmp_logout = list(utmpfile.iter_wtmp(str(acct.wtmp)))[1]
    assert wtmp_logout.type == DEAD_PROCESS
    assert logout >= login.tv_sec * 1_000_000 + login.tv_usec
    assert not any(line.startswith("<83>") for line in logs.lines())  # no authpriv.err


def test_close_in_another_process_finds_the_row(acct, logs, tty) -> None:
    """A close in a process that did not open the session sets the Logout of the open row
    of that user on that line, as upstream's wtmpdb finds it."""
    wtmpdb = acct.root / "wtmp.db"
    args = args_for(acct, f"wtmpdb={wtmpdb}")
    assert pam.open_session(handle(tty=tty), 0, args) == pam.PAM_SUCCESS
    pid = os.fork()
    if pid == 0:
        os._exit(pam.close_session(handle(key=2, tty=tty), 0, args))
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == pam.PAM_SUCCESS
    ((logout,),) = db_rows(wtmpdb, "SELECT Logout FROM wtmp")
    assert logout is not None
    assert utmpfile.read(str(acct.utmp))[0].type == DEAD_PROCESS


def test_databases_alone_without_the_files(tmp_path, logs) -> None:
    """With noutmp, nowtmp and nolastlog the databases are the only record, a tty-less
    session included, and lastlog2 gives the "Last login" message instead of lastlog."""
    wtmpdb, lastlog2 = tmp_path / "wtmp.db", tmp_path / "lastlog2.db"
    args = ["noutmp", "nowtmp", "nolastlog", f"wtmpdb={wtmpdb}", f"lastlog2={lastlog2}"]
    first = handle(rhost="one.example")
    assert pam.open_session(first, 0, args) == pam.PAM_SUCCESS
    assert pam.close_session(first, 0, args) == pam.PAM_SUCCESS
    second = handle(key=2, rhost="two.example")
    assert pam.open_session(second, 0, args) == pam.PAM_SUCCESS
    assert first.shown == []
    (message,) = second.shown
    assert message.startswith("Last login: ") and message.endswith(" from one.example")
    assert [(user, tty, logout is None) for user, tty, logout in
            db_rows(wtmpdb, "SELECT User, TTY, Logout FROM wtmp ORDER BY ID")] == [
        ("root", "", False), ("root", "", True)]
    opened = [line for line in logs.lines() if "session opened" in line]
    assert len(opened) == 2


def test_a_failing_database_is_its_own_error_and_costs_nothing_else(acct, logs, tty) -> None:
    """A wtmpdb that cannot be created gives PAM_SESSION_ERR and one err line naming it;
    utmp, wtmp, lastlog and lastlog2 are written all the same, and close still closes."""
    blocker = acct.root / "not-a-dir"
    blocker.write_text("")
    wtmpdb, lastlog2 = blocker / "wtmp.db", acct.root / "lastlog2.db"
    args = args_for(acct, f"wtmpdb={wtmpdb}", f"lastlog2={lastlog2}")
    h = handle(tty=tty)
    assert pam.open_session(h, 0, args) == pam.PAM_SESSION_ERR
    assert [s.type for s in utmpfile.read(str(acct.utmp))] == [USER_PROCESS]
    assert [r.type for r in utmpfile.iter_wtmp(str(acct.wtmp))] == [USER_PROCESS]
    assert acct.lastlog.stat().st_size > 0
    assert db_rows(lastlog2, "SELECT Name FROM Lastlog2") == [("root",)]
    assert pam.close_session(h, 0, args) == pam.PAM_SESSION_ERR
    assert utmpfile.read(str(acct.utmp))[0].type == DEAD_PROCESS
    errors = [line for line in logs.lines() if line.startswith("<83>")]  # authpriv.err
    assert len(errors) == 2, errors
    assert all(str(wtmpdb) in line for line in errors)
    assert "open_session:" in errors[0] and "close_session:" in errors[1]


@pytest.mark.parametrize("options", [[], ["wtmpdb"]], ids=["off", "on"])
def test_sqlite3_is_imported_only_when_a_database_is_on(acct, tmp_path, options) -> None:
    """A session without wtmpdb or lastlog2 never imports sqlite3 (the login path pays for
    every import); with one, it does (which shows the check can fail)."""
    extra = [f"wtmpdb={tmp_path / 'wtmp.db'}"] if options else []
    code = (
        "import sys\n"
        "from pam_pyutmp import pam, syslogger\n"
        "# The log of the test's own, as in the test process (conftest.py).\n"
        "logs = sys.argv.pop(1)\n"
        "syslogger.SOCKET_PATH = logs + '/log.sock'\n"
        "syslogger.JOURNAL_SOCKET = logs + '/journal.socket'\n"
        "syslogger.LOST_FILE = logs + '/pam_pyutmp/log-lost'\n"
        "class H:\n"
        "    key = 1\n"
        "    def items(self): return pam.Items('svc', 'root', None, None, None)\n"
        "    def info(self, text): pass\n"
        "args = sys.argv[1:]\n"
        "assert pam.open_session(H(), 0, args) == 0\n"
        "assert pam.close_session(H(), 0, args) == 0\n"
        "print('sqlite3' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path), *args_for(acct, *extra)],
                          capture_output=True, text=True, cwd="/", check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(bool(options))


def _session(i: int, args: list[str], guns: tuple[int, int, int, int], ready: Any,
             results: Any) -> None:
    """One process: open at the same moment as the others, close at the same moment."""
    open_read, open_write, close_read, close_write = guns
    os.close(open_write)
    os.close(close_write)
    h = handle(key=1000 + i)
    try:
        ready.wait(TIMEOUT)
        os.read(open_read, 1)  # EOF when the parent closes its write end
        results.put(("open", i, pam.open_session(h, 0, args)))
        os.read(close_read, 1)
        results.put(("close", i, pam.close_session(h, 0, args)))
    except BaseException as err:
        results.put(("error", i, repr(err)))


def test_200_sessions_at_once_leave_one_closed_row_each(acct, logs) -> None:
    """200 processes opening and then closing sessions at once, with wtmpdb and lastlog2
    on: every open and close succeeds, no "database is locked" is logged, and wtmpdb
    holds one row per session, each with its Logout."""
    wtmpdb, lastlog2 = acct.root / "wtmp.db", acct.root / "lastlog2.db"
    args = args_for(acct, f"wtmpdb={wtmpdb}", f"lastlog2={lastlog2}")
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Barrier(SESSIONS + 1)
    results = ctx.Queue()
    open_read, open_write = os.pipe()
    close_read, close_write = os.pipe()
    guns = (open_read, open_write, close_read, close_write)
    workers = [ctx.Process(target=_session, args=(i, args, guns, ready, results))
               for i in range(SESSIONS)]
    for worker in workers:
        worker.start()
    reports: list[tuple[str, int, object]] = []
    try:
        ready.wait(TIMEOUT)
        os.close(open_write)
        while len(reports) < SESSIONS:  # every open answered, none closed yet
            reports.append(results.get(timeout=TIMEOUT))
        live = db_rows(wtmpdb, "SELECT COUNT(*) FROM wtmp WHERE Logout IS NULL")
        os.close(close_write)
        while len(reports) < 2 * SESSIONS and not any(r[0] == "error" for r in reports):
            reports.append(results.get(timeout=TIMEOUT))
    finally:
        for fd in (open_write, close_write, open_read, close_read):
            with contextlib.suppress(OSError):
                os.close(fd)
        for worker in workers:
            worker.join(TIMEOUT)
    assert [r for r in reports if r[0] == "error"] == []
    for step in ("open", "close"):
        codes = {i: code for kind, i, code in reports if kind == step}
        assert sorted(codes) == list(range(SESSIONS))
        assert set(codes.values()) == {pam.PAM_SUCCESS}, step
    assert live == [(SESSIONS,)]
    lines = logs.lines()
    assert [line for line in lines if "locked" in line or line.startswith("<83>")] == []
    assert sum("session opened" in line for line in lines) == SESSIONS
    rows = db_rows(wtmpdb, "SELECT ID, User, TTY, Logout FROM wtmp")
    assert len(rows) == SESSIONS
    assert {row[2] for row in rows} == {""}  # no tty, as upstream's pam_wtmpdb stores it
    assert all(row[1] == "root" and row[3] is not None for row in rows)
    assert db_rows(lastlog2, "SELECT Name FROM Lastlog2") == [("root",)]


def test_rows_name_the_tty_as_upstreams_modules_store_it(acct, logs) -> None:
    """The rows' TTY is PAM_TTY without /dev/, as pam_wtmpdb and pam_lastlog2 store it (sshd's
    "ssh", nothing for a session without one), not the utmp slot's line ("sshd/0"); a close
    in another process still finds the row, by the login time its utmp slot holds."""
    wtmpdb, lastlog2 = acct.root / "wtmp.db", acct.root / "lastlog2.db"
    args = args_for(acct, f"wtmpdb={wtmpdb}", f"lastlog2={lastlog2}")
    assert pam.open_session(handle(tty="ssh", service="sshd"), 0, args) == pam.PAM_SUCCESS
    assert pam.open_session(handle(key=2, service="su"), 0, args) == pam.PAM_SUCCESS
    assert [slot.line for slot in utmpfile.read(str(acct.utmp))] == ["sshd/0", "su/1"]
    assert db_rows(wtmpdb, "SELECT TTY, Service FROM wtmp ORDER BY ID") == [
        ("ssh", "sshd"), ("", "su")]
    assert db_rows(lastlog2, "SELECT TTY, Service FROM Lastlog2") == [("", "su")]
    pid = os.fork()
    if pid == 0:
        os._exit(pam.close_session(handle(key=3, tty="ssh", service="sshd"), 0, args))
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == pam.PAM_SUCCESS
    assert [logout is None for (logout,) in
            db_rows(wtmpdb, "SELECT Logout FROM wtmp ORDER BY ID")] == [False, True]

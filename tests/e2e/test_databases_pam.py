"""wtmpdb and lastlog2 through real libpam, pam_python.so and pamtester, read back with
sqlite3 and `pyutmp`, inside the sandbox."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from .sandbox import READER_ENV, Sandbox, db_rows, dump


def test_pamtester_session_leaves_a_closed_wtmpdb_row_and_a_lastlog2_login(
        sandbox: Sandbox) -> None:
    """An open/close through pamtester with wtmpdb= and lastlog2= leaves one wtmpdb row with
    its Logout and a lastlog2 row, which `pyutmp last` and `pyutmp lastlog` list; a second
    login shows the first one's "Last login" from lastlog2 when nolastlog is set."""
    wtmpdb = sandbox.root / "db" / "wtmp.db"
    lastlog2 = sandbox.root / "db" / "lastlog2.db"
    sandbox.service("svc", sandbox.module_line(f"nolastlog wtmpdb={wtmpdb} "
                                               f"lastlog2={lastlog2}"))
    master, slave = os.openpty()
    tty = os.ttyname(slave)
    try:
        for rhost in ("one.example", "two.example"):
            result = sandbox.run(["pamtester", "-v", "-I", f"tty={tty}", "-I",
                                  f"rhost={rhost}", "svc", "root", "open_session",
                                  "close_session"])
            assert result.returncode == 0, result.stdout + result.stderr
    finally:
        os.close(master)
        os.close(slave)
    assert "Last login:" in result.stdout and "from one.example" in result.stdout
    conn = sqlite3.connect(wtmpdb)
    try:
        rows = conn.execute("SELECT Type, User, TTY, RemoteHost, Service, Logout IS NOT NULL "
                            "FROM wtmp ORDER BY ID").fetchall()
    finally:
        conn.close()
    line = tty.removeprefix("/dev/")
    assert rows == [(3, "root", line, host, "svc", 1) for host in ("one.example",
                                                                   "two.example")]
    listed = sandbox.run(["pyutmp", "last", "--json", "--source", "wtmpdb", "-f", str(wtmpdb)],
                         env=READER_ENV)
    assert listed.returncode == 0, listed.stderr
    sessions = json.loads(listed.stdout)["sessions"]
    assert [(s["user"], s["line"], s["host"], s["status"]) for s in sessions] == [
        ("root", line, "two.example", "closed"), ("root", line, "one.example", "closed")]
    latest = sandbox.run(["pyutmp", "lastlog", "--source", "lastlog2", "-f", str(lastlog2)],
                         env=READER_ENV)
    assert latest.returncode == 0, latest.stderr
    assert latest.stdout.splitlines()[1].split()[:3] == ["root", line, "two.example"]
    logged = sandbox.our_syslog()
    assert sum("session opened" in entry for entry in logged) == 2
    assert [entry for entry in logged if entry.startswith("<83>")] == []  # authpriv.err


def pamtester_step(box: Sandbox, user: str, tty: str, step: str) -> None:
    """One PAM call of a session (open_session or close_session) in a pamtester process of
    its own: the process that closes is never the one that opened."""
    result = box.run(["pamtester", "-v", "-I", f"tty={tty}", "svc", user, step])
    assert result.returncode == 0, result.stdout + result.stderr


def open_rows(wtmpdb: Path) -> dict[str, bool]:
    """Each user's wtmpdb row: whether it is still open (no Logout)."""
    return {str(user): logout is None
            for user, logout in db_rows(wtmpdb, "SELECT User, Logout FROM wtmp")}


def test_two_users_on_one_tty_closed_in_other_processes_end_their_own_rows(
        sandbox: Sandbox, tty: str) -> None:
    """alice and then bob open sessions on the same tty, each in a process that then exits,
    with wtmpdb= on: both rows name that tty.  alice's close, in another process, ends
    alice's row only (not bob's, the newer row on that tty); bob's close then ends his."""
    wtmpdb = sandbox.root / "db" / "wtmp.db"
    sandbox.service("svc", sandbox.module_line(f"wtmpdb={wtmpdb}", control="required"))
    alice, bob = (sandbox.add_user(name).name for name in ("alice", "bob"))
    line = tty.removeprefix("/dev/")
    for user in (alice, bob):
        pamtester_step(sandbox, user, tty, "open_session")
    assert db_rows(wtmpdb, "SELECT User, TTY FROM wtmp ORDER BY ID") == [(alice, line),
                                                                        (bob, line)]
    assert [(r.user, r.line) for r in dump(sandbox, "/var/run/utmp")] == [(bob, line)]

    pamtester_step(sandbox, alice, tty, "close_session")
    assert open_rows(wtmpdb) == {alice: False, bob: True}

    pamtester_step(sandbox, bob, tty, "close_session")
    assert open_rows(wtmpdb) == {alice: False, bob: False}

"""wtmpdb and lastlog2 through real libpam, pam_python.so and pamtester, read back with
sqlite3 and `pyutmp`, inside the sandbox."""

from __future__ import annotations

import json
import os
import sqlite3

from .sandbox import READER_ENV, Sandbox


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

"""wtmpdb and lastlog2 as the API writes them, opened with sqlite3 and compared with the
upstream definitions (wtmpdb's libwtmpdb, util-linux's liblastlog2).

The upstream tools are not packaged for Debian 12 and not on PyPI, so their table
definitions and what their readers need are written out here, from their sources."""

from __future__ import annotations

import datetime
import errno
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from stockreaders import READER_ENV

import pam_pyutmp
from pam_pyutmp import databases

# From wtmpdb's lib/sqlite.c and util-linux's liblastlog2/src/lastlog2.c.
UPSTREAM_WTMP = ("CREATE TABLE wtmp(ID INTEGER PRIMARY KEY, Type INTEGER, User TEXT NOT NULL, "
                 "Login INTEGER, Logout INTEGER, TTY TEXT, RemoteHost TEXT, Service TEXT) STRICT")
UPSTREAM_LASTLOG2 = ("CREATE TABLE Lastlog2(Name TEXT PRIMARY KEY, Time INTEGER, TTY TEXT, "
                     "RemoteHost TEXT, Service TEXT)")
WTMPDB_USER_PROCESS = 3  # wtmpdb.h, not utmp's 7


def schema(path: Path, table: str) -> str:
    conn = sqlite3.connect(path)
    try:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (table,)).fetchone()
    finally:
        conn.close()
    return " ".join(str(sql).split())


def rows(path: Path, query: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def usec(when: datetime.datetime) -> int:
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (when - epoch) // datetime.timedelta(microseconds=1)


def test_wtmpdb_table_and_rows_are_upstreams(tmp_path: Path) -> None:
    """The wtmp table is wtmpdb's, STRICT, its 8 columns in order; a login row has Type 3, a
    microsecond Login, NULL Logout until the close sets it, and '' for no tty or host."""
    db = tmp_path / "wtmp.db"
    before = time.time_ns() // 1000
    first = pam_pyutmp.put_wtmpdb("alice", "/dev/pts/7", "client.example", service="sshd",
                                  path=db)
    second = pam_pyutmp.put_wtmpdb("bob", None, None, service="webterm", path=db)
    after = time.time_ns() // 1000
    assert schema(db, "wtmp") == UPSTREAM_WTMP
    assert [row[1] for row in rows(db, "PRAGMA table_info(wtmp)")] == [
        "ID", "Type", "User", "Login", "Logout", "TTY", "RemoteHost", "Service"]
    (strict,) = rows(db, "SELECT strict FROM pragma_table_list WHERE name = 'wtmp'")
    assert strict == (1,)
    opened = rows(db, "SELECT * FROM wtmp ORDER BY ID")
    assert [row[0] for row in opened] == [first, second]
    assert [(row[1], row[2], row[4], row[5], row[6], row[7]) for row in opened] == [
        (WTMPDB_USER_PROCESS, "alice", None, "pts/7", "client.example", "sshd"),
        (WTMPDB_USER_PROCESS, "bob", None, "", "", "webterm")]
    assert all(isinstance(row[3], int) and before <= row[3] <= after for row in opened)

    assert pam_pyutmp.unput_wtmpdb(first, path=db) is True
    assert pam_pyutmp.unput_wtmpdb(first, path=db) is False  # a second close writes nothing
    closed = dict(rows(db, "SELECT ID, Logout FROM wtmp"))
    assert closed[second] is None
    logout = closed[first]
    assert isinstance(logout, int) and after <= logout <= time.time_ns() // 1000


def test_lastlog2_table_and_rows_are_upstreams(tmp_path: Path) -> None:
    """The Lastlog2 table is liblastlog2's; each login replaces the user's one row, Time in
    seconds, '' for no tty or host, and returns the login it replaced."""
    db = tmp_path / "lastlog2.db"
    before = int(time.time())
    assert pam_pyutmp.put_lastlog2_entry("sshd", "alice", "pts/1", "one.example",
                                         path=db) is None
    previous = pam_pyutmp.put_lastlog2_entry("su", "alice", None, None, path=db)
    after = int(time.time())
    assert schema(db, "Lastlog2") == UPSTREAM_LASTLOG2
    assert previous is not None
    assert (previous.user, previous.tty, previous.host, previous.service) == (
        "alice", "pts/1", "one.example", "sshd")
    ((name, when, tty, host, service),) = rows(db, "SELECT * FROM Lastlog2")
    assert (name, tty, host, service) == ("alice", "", "", "su")
    assert isinstance(when, int) and before <= when <= after
    assert pam_pyutmp.last_login2("alice", path=db) == (name, when, tty, host, service)
    assert pam_pyutmp.last_login2("nobody-here", path=db) is None


def test_a_2040_login_round_trips_and_prints_right(tmp_path: Path) -> None:
    """A session of 2040 (past the 32-bit end of 2038) is stored to the microsecond and
    `pyutmp last` and `pyutmp lastlog` print its dates, in text and in JSON."""
    db = tmp_path / "wtmp.db"
    ll2 = tmp_path / "lastlog2.db"
    login = datetime.datetime(2040, 2, 29, 23, 15, 7, 123456, tzinfo=datetime.timezone.utc)
    logout = login + datetime.timedelta(hours=1, minutes=50)
    row = pam_pyutmp.put_wtmpdb("alice", "pts/2", "far.example", path=db,
                                login_usec=usec(login))
    pam_pyutmp.unput_wtmpdb(row, path=db, logout_usec=usec(logout))
    # `lastlog2 -u` lists users of this system only.
    pam_pyutmp.put_lastlog2_entry("sshd", "root", "pts/2", "far.example", path=ll2,
                                  time_sec=int(login.timestamp()))
    assert rows(db, "SELECT Login, Logout FROM wtmp") == [(usec(login), usec(logout))]
    (read,) = pam_pyutmp.iter_wtmpdb(db)
    assert (read.login_time, read.logout_time) == (login, logout)

    def pyutmp(*args: str) -> str:
        done = subprocess.run(["pyutmp", *args], capture_output=True, text=True,
                              env=READER_ENV, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    text = pyutmp("last", "--source", "wtmpdb", "-f", str(db)).splitlines()[0].split()
    assert text == ["alice", "pts/2", "far.example", *login.strftime("%a %b %d %H:%M").split(),
                    "-", logout.strftime("%H:%M"), "(01:50)"]
    import json

    (session,) = json.loads(pyutmp("last", "--json", "--source", "wtmpdb", "-f", str(db)))[
        "sessions"]
    assert (session["login"], session["end"], session["login_usec"], session["status"]) == (
        login.replace(microsecond=0).isoformat(), logout.replace(microsecond=0).isoformat(),
        usec(login), "closed")
    latest = pyutmp("lastlog", "--source", "lastlog2", "-f", str(ll2), "-u", "root")
    assert latest.splitlines()[1].split()[3:] == login.strftime("%a %b %d %H:%M:%S +0000 %Y"
                                                                ).split()


def test_created_with_upstreams_modes_whatever_the_umask(tmp_path: Path) -> None:
    """Missing directories are made 0755 and databases 0644 even under umask 077, as
    upstream's tmpfiles.d has them, so that every user can read them."""
    wtmpdb = tmp_path / "lib" / "wtmpdb" / "wtmp.db"
    lastlog2 = tmp_path / "lib" / "lastlog" / "lastlog2.db"
    old = os.umask(0o077)
    try:
        pam_pyutmp.put_wtmpdb("alice", "pts/1", "", path=wtmpdb)
        pam_pyutmp.put_lastlog2_entry("su", "alice", "pts/1", "", path=lastlog2)
    finally:
        os.umask(old)
    for path in (wtmpdb.parent, lastlog2.parent, tmp_path / "lib"):
        assert path.stat().st_mode & 0o777 == 0o755, path
    for path in (wtmpdb, lastlog2):
        assert path.stat().st_mode & 0o777 == 0o644, path


def test_rollback_journal_so_an_ordinary_user_can_read(shared_dir: Path) -> None:
    """The databases stay in rollback-journal mode: user nobody, who may not write the
    0755 root-owned directory, still reads them with `pyutmp last` and `pyutmp lastlog`."""
    db = shared_dir / "wtmpdb" / "wtmp.db"
    ll2 = shared_dir / "lastlog" / "lastlog2.db"
    row = pam_pyutmp.put_wtmpdb("alice", "pts/4", "client.example", path=db)
    pam_pyutmp.unput_wtmpdb(row, path=db)
    pam_pyutmp.put_lastlog2_entry("su", "alice", "pts/4", "client.example", path=ll2)
    assert rows(db, "PRAGMA journal_mode") == [("delete",)]
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "pyutmp"]
    for command in (["last", "--source", "wtmpdb", "-f", str(db)],
                    ["lastlog", "--source", "lastlog2", "-f", str(ll2)]):
        done = subprocess.run([*as_nobody, *command], capture_output=True, text=True,
                              env=READER_ENV, cwd="/", check=False)
        assert done.returncode == 0, done.stderr
        assert "alice" in done.stdout and "client.example" in done.stdout


def test_a_locked_database_is_waited_for_and_a_timeout_is_eagain(tmp_path: Path) -> None:
    """While another connection holds the write lock, a login waits for it and then
    writes; with a timeout shorter than the hold it fails with EAGAIN, not a crash."""
    db = tmp_path / "wtmp.db"
    pam_pyutmp.put_wtmpdb("first", "pts/1", "", path=db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(pam_pyutmp.WtmpdbError) as failed:
        pam_pyutmp.put_wtmpdb("late", "pts/2", "", path=db, timeout=0.2)
    assert failed.value.errno == errno.EAGAIN and "locked" in str(failed.value)

    results: list[object] = []
    writer = threading.Thread(target=lambda: results.append(
        pam_pyutmp.put_wtmpdb("waiting", "pts/3", "", path=db, timeout=30)))
    writer.start()
    time.sleep(0.3)  # the writer is now waiting for the lock (no assertion on time)
    holder.execute("COMMIT")
    holder.close()
    writer.join(60)
    assert len(results) == 1 and isinstance(results[0], int)
    assert [user for (user,) in rows(db, "SELECT User FROM wtmp ORDER BY ID")] == [
        "first", "waiting"]


def test_a_paused_reader_does_not_hold_off_a_login(tmp_path: Path) -> None:
    """A reader stopped in the middle of a large database (a pager) holds no lock: a
    login with a short timeout still writes."""
    db = tmp_path / "wtmp.db"
    pam_pyutmp.put_wtmpdb("seed", "pts/0", "", path=db)
    conn = sqlite3.connect(db)
    conn.executemany("INSERT INTO wtmp (Type, User, Login, TTY, RemoteHost, Service) "
                     "VALUES (3, ?, ?, 'pts/1', '', '')",
                     [(f"u{i}", i) for i in range(10_000)])
    conn.commit()
    conn.close()
    reader = pam_pyutmp.iter_wtmpdb(db)
    assert next(reader).user == "u9999"
    pam_pyutmp.put_wtmpdb("during", "pts/2", "", path=db, timeout=0.5)
    assert sum(1 for _ in reader) == 10_000  # the rest, and the new row is not among them
    reader.close()


def test_close_from_another_process_finds_the_open_row_by_user_and_tty(
        tmp_path: Path) -> None:
    """unput_wtmpdb_open closes the newest open row of that user on that tty, as upstream
    finds it, and leaves other users' rows on the same tty open."""
    db = tmp_path / "wtmp.db"
    old = pam_pyutmp.put_wtmpdb("alice", "pts/5", "", path=db, login_usec=1_000_000)
    pam_pyutmp.unput_wtmpdb(old, path=db, logout_usec=2_000_000)
    mine = pam_pyutmp.put_wtmpdb("alice", "pts/5", "", path=db)
    other = pam_pyutmp.put_wtmpdb("bob", "pts/5", "", path=db)
    assert pam_pyutmp.unput_wtmpdb_open("alice", "/dev/pts/5", path=db) == mine
    assert pam_pyutmp.unput_wtmpdb_open("alice", "pts/5", path=db) is None
    logouts = dict(rows(db, "SELECT ID, Logout FROM wtmp"))
    assert logouts[old] == 2_000_000 and logouts[mine] is not None and logouts[other] is None


def test_tty_less_close_only_when_unambiguous(tmp_path: Path) -> None:
    """Without a tty, the open row of a user and service is closed only when it is the only
    one: of two, which one ended cannot be known."""
    db = tmp_path / "wtmp.db"
    pam_pyutmp.put_wtmpdb("alice", None, "", service="webterm", path=db)
    pam_pyutmp.put_wtmpdb("alice", None, "", service="webterm", path=db)
    assert pam_pyutmp.unput_wtmpdb_open("alice", None, service="webterm", path=db) is None
    single = pam_pyutmp.put_wtmpdb("alice", None, "", service="cron", path=db)
    assert pam_pyutmp.unput_wtmpdb_open("alice", None, service="cron", path=db) == single


def test_readers_accept_what_other_writers_leave(tmp_path: Path) -> None:
    """Rows of other writers (lastlog2's import writes NULL hosts and services; wtmpdb
    boot rows) read as '' and the boot shows as "system boot", still running."""
    db = tmp_path / "wtmp.db"
    ll2 = tmp_path / "lastlog2.db"
    conn = sqlite3.connect(db)
    conn.execute(databases.WTMP_TABLE)
    conn.execute("INSERT INTO wtmp VALUES (1, 1, 'reboot', 5000000, NULL, '~', '6.1.0', NULL)")
    conn.commit()
    conn.close()
    conn = sqlite3.connect(ll2)
    conn.execute(UPSTREAM_LASTLOG2)
    conn.execute("INSERT INTO Lastlog2 VALUES ('root', 1788250000, 'tty1', NULL, NULL)")
    conn.commit()
    conn.close()
    assert list(pam_pyutmp.iter_lastlog2(ll2)) == [("root", 1788250000, "tty1", "", "")]
    (boot,) = pam_pyutmp.iter_wtmpdb(db)
    assert (boot.type, boot.logout, boot.service) == (databases.BOOT_TIME, None, "")
    done = subprocess.run(["pyutmp", "last", "-F", "--source", "wtmpdb", "-f", str(db)],
                          capture_output=True, text=True, env=READER_ENV, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split()[:3] == ["reboot", "system", "boot"]
    # `wtmpdb last -F` pads the logout column: "still running" and spaces.
    assert done.stdout.splitlines()[0].rstrip().endswith("- still running")


def test_invalid_users_are_refused_before_any_write(tmp_path: Path) -> None:
    """An empty user or one with control characters is an InvalidFieldError and creates
    no database."""
    db = tmp_path / "wtmp.db"
    for user in ("", "ev\x1bil"):
        with pytest.raises(pam_pyutmp.InvalidFieldError):
            pam_pyutmp.put_wtmpdb(user, "pts/1", "", path=db)
    assert not db.exists()

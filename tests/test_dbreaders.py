"""`pyutmp last --source wtmpdb` and `pyutmp lastlog --source lastlog2` against the
upstream readers, `wtmpdb last` and `lastlog2` (Debian 13), byte for byte, for every
option they share, on rows of every kind, in zones with daylight saving time.

Rows come from the upstream tools where they write what is needed (`wtmpdb boot` and
`wtmpdb shutdown`, `lastlog2 -S`), and otherwise from SQL with the upstream tables
(wtmpdb's lib/sqlite.c, liblastlog2): PAM sessions cannot be given the odd values (a
NULL tty, a logout before its login, 2040) that a reader must survive.  On Debian 12,
which has neither reader, the comparisons skip; the JSON and locking tests run there.
"""

from __future__ import annotations

import calendar
import json
import os
import random
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from test_databases import UPSTREAM_LASTLOG2, UPSTREAM_WTMP

import pam_pyutmp

HAVE_WTMPDB = shutil.which("wtmpdb") is not None
HAVE_LASTLOG2 = shutil.which("lastlog2") is not None
NO_WTMPDB = "wtmpdb's `wtmpdb last` is not on this release (Debian 13 has it)"
NO_LASTLOG2 = "util-linux's `lastlog2` is not on this release (Debian 13 has it)"
# UTC, and zones whose clocks jump: by an hour (Berlin), by half an hour (Lord Howe),
# and by an hour at a half-hour offset (St John's).
ZONES = ("UTC", "Europe/Berlin", "Australia/Lord_Howe", "America/St_Johns")
USEC = 1_000_000
BOOT, RUNLEVEL, SESSION = 1, 2, 3  # wtmpdb.h's types


def utc(text: str) -> int:
    """Microseconds since the epoch of "YYYY-MM-DD HH:MM:SS" in UTC."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S")) * USEC


def rows_of_every_kind() -> list[tuple[object, ...]]:
    """(Type, User, Login, Logout, TTY, RemoteHost, Service), oldest first."""
    return [
        # A boot shut down cleanly, across Europe's spring change of 2026-03-29 01:00 UTC.
        (BOOT, "reboot", utc("2026-03-28 20:00:00"), utc("2026-03-29 03:00:00"), "~",
         "6.12.48+deb13-amd64", ""),
        (SESSION, "alice", utc("2026-03-28 23:30:00"), utc("2026-03-29 02:30:00"), "pts/0",
         "192.0.2.7", "sshd"),
        # Open when that boot ended: "crash" (upstream's word; JSON: "down").
        (SESSION, "bob", utc("2026-03-29 00:10:00"), None, "tty1", "", "login"),
        # NULL tty, host and service, as a foreign writer may leave them.
        (SESSION, "carol", utc("2026-03-29 00:20:00"), utc("2026-03-29 00:21:30"), None, None,
         None),
        # Names longer than the columns, bytes of UTF-8 cut in the middle by them.
        (SESSION, "ünïcödé-user-with-a-long-name", utc("2026-03-29 00:40:00"),
         utc("2026-03-29 01:40:00"), "pts/12345678901234", "a-very-long-host-name.example.org",
         "sshd-session-long-service"),
        # A boot that never shut down: a crash, with a session open in it.
        (BOOT, "reboot", utc("2026-03-30 08:00:00"), None, "~", "6.12.48+deb13-amd64", ""),
        (SESSION, "dave", utc("2026-03-30 08:05:00"), None, "pts/3", "198.51.100.9", "sshd"),
        (SESSION, "root", utc("2026-03-30 09:00:00"), utc("2026-04-02 11:17:00"), "pts/1",
         "2001:db8::1", "sshd"),
        (BOOT, "soft-reboot", utc("2026-06-01 12:00:00"), utc("2026-10-25 03:00:00"), "~",
         "6.12.48+deb13-amd64", ""),
        # The autumn change of 2026-10-25 01:00 UTC: 02:30 comes twice in Berlin.
        (SESSION, "erin", utc("2026-10-25 00:30:00"), utc("2026-10-25 01:30:00"), "pts/4",
         "client.example", "sshd"),
        # A logout before its login: upstream's unsigned arithmetic, kept.
        (SESSION, "frank", utc("2026-10-25 02:00:00"), utc("2026-10-25 01:00:00"), "pts/5", "",
         "sshd"),
        (SESSION, "", utc("2026-11-01 10:00:00"), utc("2026-11-01 10:00:59"), "", "",
         ""),
        (BOOT, "reboot", utc("2040-02-29 23:00:00"), None, "~", "6.12.48+deb13-amd64", ""),
        # Past 2038, and a control character that upstream prints as it is.
        (SESSION, "grace", utc("2040-02-29 23:15:07"), utc("2040-03-01 01:05:07"), "pts/2",
         "far\x1b.example", "sshd"),
        (SESSION, "heidi", utc("2040-03-01 02:00:00"), None, "pts/6", "h.example", "sshd"),
        # A type upstream's reader does not know, with no logout.
        (RUNLEVEL, "runlevel", utc("2040-03-01 03:00:00"), None, "~", "", ""),
    ]


def make_wtmpdb(path: Path, rows: Sequence[tuple[object, ...]]) -> Path:
    conn = sqlite3.connect(path)
    conn.execute(UPSTREAM_WTMP)
    conn.executemany("INSERT INTO wtmp (Type, User, Login, Logout, TTY, RemoteHost, Service) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return path


def shuffled_with_ties(rows: Sequence[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """The rows out of the order of their logins (as `wtmpdb import` writes them), with
    logins shared by two rows: the reader must sort, as upstream's does."""
    mixed = list(rows)
    login = utc("2026-03-30 08:05:00")
    mixed += [(SESSION, "tie1", login, None, "pts/7", "", "sshd"),
              (SESSION, "tie2", login, utc("2026-03-30 08:06:00"), "pts/8", "", "sshd"),
              (SESSION, "tie3", login, utc("2026-03-30 08:06:00"), "pts/9", "", "sshd")]
    random.Random(2038).shuffle(mixed)
    return mixed


def in_id_order(db: Path) -> bool:
    conn = sqlite3.connect(db)
    logins = [login for (login,) in conn.execute("SELECT Login FROM wtmp ORDER BY ID")]
    conn.close()
    return all(a < b for a, b in zip(logins, logins[1:]))


@pytest.fixture(params=["by-id", "sorted"])
def wtmpdb_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A database in the order rows are written (read by ID, without a sort), or one that
    must be sorted, with rows sharing a login and boots that upstream's `wtmpdb boot` and
    `wtmpdb shutdown` wrote last."""
    rows = rows_of_every_kind()
    if request.param == "by-id":
        db = make_wtmpdb(tmp_path / "wtmp.db", rows)
        assert in_id_order(db)
        return db
    db = make_wtmpdb(tmp_path / "wtmp.db", shuffled_with_ties(rows))
    if HAVE_WTMPDB:
        for command in ("boot", "shutdown", "boot"):
            subprocess.run(["wtmpdb", command, "-f", str(db)], capture_output=True,
                           check=True, timeout=60)
    assert not in_id_order(db)
    return db


def both(reader: Sequence[str], ours: Sequence[str], zone: str
         ) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]:
    env = {**os.environ, "TZ": zone, "LC_ALL": "C"}
    upstream = subprocess.run(list(reader), capture_output=True, env=env, cwd="/",
                              check=False, timeout=120)
    mine = subprocess.run(["pyutmp", *ours], capture_output=True, env=env, cwd="/",
                          check=False, timeout=120)
    return upstream, mine


def assert_same_as_wtmpdb_last(db: Path, options: Sequence[str], zone: str) -> None:
    upstream, mine = both(["wtmpdb", "last", "-f", str(db), *options],
                          ["last", "--source", "wtmpdb", "-f", str(db), *options], zone)
    assert upstream.returncode == 0, upstream.stderr
    assert mine.returncode == 0, mine.stderr
    assert mine.stdout == upstream.stdout, (options, zone)


WTMPDB_OPTIONS = [
    [], ["-F"], ["-x"], ["-S"], ["-w"], ["-R"], ["-a"], ["-n", "3"], ["-n", "1", "-x"],
    ["-3"], ["-12", "-F"],
    ["--time-format", "notime"], ["--time-format", "short"], ["--time-format", "full"],
    ["--time-format", "iso"], ["-F", "--time-format", "short"],
    ["--time-format", "iso", "-F"], ["-x", "-F", "-w", "-S"], ["-a", "-S", "-w"],
    ["-R", "-S", "--time-format", "iso"], ["alice", "bob"], ["pts/1", "?"], ["~"],
    ["reboot", "-x"], ["nobody"],
    ["-s", "2026-03-29"], ["-t", "2026-03-30 08:00:00"], ["-p", "2026-03-29 02:00:00"],
    ["-p", "2026-03-30 10:00:00", "-x"], ["-s", "2026-03-29 00:00:00", "-t", "2026-10-25"],
    ["-s", "today"], ["-t", "yesterday"], ["-n", "4", "-s", "2026-03-01", "--time-format",
                                           "iso"],
]


@pytest.mark.skipif(not HAVE_WTMPDB, reason=NO_WTMPDB)
@pytest.mark.parametrize("options", WTMPDB_OPTIONS, ids=" ".join)
def test_wtmpdb_last_is_upstreams_byte_for_byte(wtmpdb_file: Path, options: list[str]
                                                ) -> None:
    """Every option and combination lists what `wtmpdb last` lists, to the byte, in UTC
    and in zones that change their clocks, whether the rows need sorting or not."""
    for zone in ZONES:
        assert_same_as_wtmpdb_last(wtmpdb_file, options, zone)


@pytest.mark.skipif(not HAVE_WTMPDB, reason=NO_WTMPDB)
def test_dns_and_ip_options_are_upstreams(tmp_path: Path) -> None:
    """-d and -i look hosts up as `wtmpdb last` does (hosts /etc/hosts knows, so that no
    lookup waits for a network)."""
    login = utc("2026-05-01 10:00:00")
    rows = [(SESSION, f"u{i}", login + i * 60 * USEC, login + i * 90 * USEC, f"pts/{i}", host,
             "sshd") for i, host in enumerate(["", "127.0.0.1", "localhost", "::1"])]
    db = make_wtmpdb(tmp_path / "wtmp.db", rows)
    for options in (["-d"], ["-i"], ["-d", "-w"], ["-i", "-a"], ["-d", "-x", "-S"]):
        assert_same_as_wtmpdb_last(db, options, "Europe/Berlin")


@pytest.mark.skipif(not HAVE_WTMPDB, reason=NO_WTMPDB)
def test_many_rows_random_are_upstreams(tmp_path: Path) -> None:
    """20,000 rows of random kinds, users and times, read by ID and sorted, list as
    `wtmpdb last` lists them (the buffers wrap many times)."""
    rnd = random.Random(7)
    rows: list[tuple[object, ...]] = []
    login = utc("2025-01-01 00:00:00")
    for i in range(20_000):
        login += rnd.randrange(1, 3 * 3600 * USEC)
        kind = BOOT if i % 300 == 0 else SESSION
        logout = None if rnd.random() < 0.1 else login + rnd.randrange(0, 5 * 86400 * USEC)
        rows.append((kind, "reboot" if kind == BOOT else rnd.choice(["root", "ä" * 9, "x"]),
                     login, logout, "~" if kind == BOOT else f"pts/{rnd.randrange(99)}",
                     rnd.choice(["", "10.0.0.1", "h" * 40]), "sshd"))
    by_id = make_wtmpdb(tmp_path / "by-id.db", rows)
    rows[100], rows[200] = rows[200], rows[100]
    sorted_ = make_wtmpdb(tmp_path / "sorted.db", rows)
    assert in_id_order(by_id) and not in_id_order(sorted_)
    for db in (by_id, sorted_):
        for options in ([], ["-x", "-F", "-w"], ["root", "-S", "--time-format", "iso"]):
            assert_same_as_wtmpdb_last(db, options, "Europe/Berlin")


@pytest.mark.skipif(not HAVE_WTMPDB, reason=NO_WTMPDB)
def test_empty_file_and_empty_table_are_upstreams(tmp_path: Path) -> None:
    """An empty file "has no entries", as Debian's wtmpdb says; a table without rows
    too; a file without the table is an error for both."""
    empty = tmp_path / "empty.db"
    empty.touch()
    no_rows = make_wtmpdb(tmp_path / "no-rows.db", [])
    for options in ([], ["-F"], ["--time-format", "notime"]):
        assert_same_as_wtmpdb_last(empty, options, "UTC")
        assert_same_as_wtmpdb_last(no_rows, options, "UTC")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t(x)")
    conn.close()
    upstream, mine = both(["wtmpdb", "last", "-f", str(other)],
                          ["last", "--source", "wtmpdb", "-f", str(other)], "UTC")
    assert (upstream.returncode, mine.returncode) == (1, 1)
    assert mine.stdout == upstream.stdout == b""
    assert mine.stderr.decode().startswith("pyutmp: ") and b"no such table" in mine.stderr


def pyutmp_json(db: Path, *options: str, zone: str = "Europe/Berlin") -> bytes:
    done = subprocess.run(["pyutmp", "last", "--source", "wtmpdb", "-f", str(db), *options],
                          capture_output=True, env={**os.environ, "TZ": zone}, cwd="/",
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def expected_sessions(db: Path) -> list[tuple[str, str, int, int | None, str]]:
    """(type, user, login, end, status) of each row, newest first, as the JSON must tell
    them, worked out here from all the rows at once."""
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT Type, User, Login, Logout FROM wtmp "
                        "ORDER BY Login DESC, Logout ASC").fetchall()
    conn.close()
    out: list[tuple[str, str, int, int | None, str]] = []
    for i, (kind, user, login, logout) in enumerate(rows):
        newer_boots = [r[2] for r in rows[:i] if r[0] == BOOT]
        own_boot = next((r for r in rows[i + 1:] if r[0] == BOOT), None)
        name = {BOOT: "boot", SESSION: "session"}.get(kind, "unknown")
        if logout is not None:
            out.append((name, user, login, logout, "closed"))
        elif (kind != BOOT and own_boot is not None and own_boot[3] is not None
              and own_boot[3] >= login):
            out.append((name, user, login, own_boot[3], "down"))
        elif newer_boots:
            out.append((name, user, login, newer_boots[-1], "crash"))
        else:
            out.append((name, user, login, None,
                        "still running" if kind == BOOT else "still logged in"))
    return out


@pytest.mark.parametrize("order", ["by-id", "sorted"])
def test_json_states_what_is_true(tmp_path: Path, order: str) -> None:
    """--json: a row with a logout is closed at it; a boot without one is still running
    unless a later boot came (a crash, ended by that boot); a session without one ended
    "down" at its boot's shutdown, or "crash" at the next boot, or is still logged in.
    The document is json.dumps(indent=1)'s to the byte, with today's keys."""
    rows = rows_of_every_kind()
    db = make_wtmpdb(tmp_path / "wtmp.db", rows if order == "by-id" else
                     shuffled_with_ties(rows))
    text = pyutmp_json(db, "--json")
    document = json.loads(text)
    assert text.decode() == json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    assert list(document) == ["source", "file", "begins", "sessions"]
    assert document["source"] == "wtmpdb" and document["file"] == str(db)
    assert document["begins"] == "2026-03-28T21:00:00+01:00"
    sessions = document["sessions"]
    assert [list(s) for s in sessions[:1]] == [[
        "type", "user", "line", "host", "service", "login", "login_usec", "end", "end_usec",
        "status", "duration_sec"]]
    assert [(s["type"], s["user"], s["login_usec"], s["end_usec"], s["status"])
            for s in sessions] == expected_sessions(db)
    for s in sessions:
        if s["end_usec"] is not None:
            assert s["duration_sec"] == s["end_usec"] // USEC - s["login_usec"] // USEC
    by_user = {s["user"]: s for s in sessions}
    assert by_user["carol"]["line"] == "" and by_user["carol"]["host"] == ""
    assert by_user["grace"]["host"] == "far\x1b.example"
    assert by_user["grace"]["login"] == "2040-03-01T00:15:07+01:00"
    assert by_user["erin"]["login"] == "2026-10-25T02:30:00+02:00"
    assert by_user["erin"]["end"] == "2026-10-25T02:30:00+01:00"
    assert by_user["reboot"]["line"] == "system boot"

    lines = [json.loads(line) for line in pyutmp_json(db, "--json-lines").splitlines()]
    assert lines == sessions
    assert len(pyutmp_json(db, "--json-lines", "-n", "2", "alice", "bob").splitlines()) == 2


def test_json_is_valid_whatever_the_bytes(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 (a foreign writer's) become in JSON the surrogates
    Python's surrogateescape gives them, as a wtmp file's do, so that the document still
    parses and the bytes come back; controls and quotes are escaped."""
    db = tmp_path / "wtmp.db"
    conn = sqlite3.connect(db)
    conn.execute(UPSTREAM_WTMP)
    conn.execute("INSERT INTO wtmp (Type, User, Login, TTY, RemoteHost, Service) "
                 "VALUES (3, CAST(X'6f6b' AS TEXT), 5000000, CAST(X'70ff74' AS TEXT), "
                 "'q\"\\\n\t\x01', '')")
    conn.commit()
    conn.close()
    document = pyutmp_json(db, "--json")
    document.decode("utf-8")  # strict: the document is UTF-8
    (session,) = json.loads(document)["sessions"]
    assert (session["user"], session["line"], session["host"]) == ("ok", "p\udcfft",
                                                                   "q\"\\\n\t\x01")
    assert session["line"].encode("utf-8", "surrogateescape") == b"p\xfft"


def test_a_paused_reader_lets_logins_write(tmp_path: Path) -> None:
    """A listing whose reader stops (a pager) holds no lock: while nothing reads its
    output, a login's row is written, and the listing then comes out whole."""
    rows = [(SESSION, f"user{i}", (1_700_000_000 + i * 60) * USEC, None, f"pts/{i % 50}",
             "client.example", "sshd") for i in range(20_000)]
    db = make_wtmpdb(tmp_path / "wtmp.db", rows)
    whole = subprocess.run(["pyutmp", "last", "--source", "wtmpdb", "-f", str(db)],
                           capture_output=True, check=True, timeout=120).stdout
    assert len(whole) > 1_000_000  # far more than a pipe holds
    reader = subprocess.Popen(["pyutmp", "last", "--source", "wtmpdb", "-f", str(db)],
                              stdout=subprocess.PIPE)
    try:
        assert reader.stdout is not None
        assert reader.stdout.read(100)  # listing has begun, and the pipe is full again
        # With the lock held until the reader reads on, this waits 30 s and fails.
        pam_pyutmp.put_wtmpdb("during", "pts/99", "", path=db, timeout=30)
        rest = reader.stdout.read()
    finally:
        if reader.poll() is None:
            reader.kill()
        reader.wait(60)
    assert reader.returncode == 0
    assert whole[:100] + rest == whole


def test_bad_time_and_clashing_options_are_one_line_errors(tmp_path: Path) -> None:
    """A TIME wtmpdb would refuse, and options it refuses together, are one "pyutmp:"
    line and exit 1."""
    db = make_wtmpdb(tmp_path / "wtmp.db", rows_of_every_kind())
    for options in (["-s", "last tuesday"], ["-p", "2026-13-01"], ["-R", "-a"], ["-d", "-i"]):
        done = subprocess.run(["pyutmp", "last", "--source", "wtmpdb", "-f", str(db),
                               *options], capture_output=True, text=True, check=False)
        assert done.returncode == 1, options
        assert done.stderr.startswith("pyutmp: ") and len(done.stderr.splitlines()) == 1
        assert done.stdout == ""


# --- lastlog2 -----------------------------------------------------------------------


def make_lastlog2(path: Path) -> Path:
    now = int(time.time())
    conn = sqlite3.connect(path)
    conn.execute(UPSTREAM_LASTLOG2)
    conn.executemany("INSERT INTO Lastlog2 VALUES (?, ?, ?, ?, ?)", [
        ("root", now - 5 * 3600, "pts/0", "192.0.2.1", "sshd"),
        ("daemon", 0, "", "", ""),
        ("bin", now - 40 * 86400 - 3600, "tty1", None, None),
        ("sys", utc("2026-03-29 01:30:00") // USEC, "pts/123456789",
         "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff%eth0123", "login"),
        ("ünïcödé", utc("2026-10-25 00:30:00") // USEC, "pts/9", "h.example", "su"),
        ("mail", "not a number", "pts/1", "x", "y"),
        ("news", -86400, "pts/2", "", "sshd"),
        ("z" * 20, 2**40, "pts/3", "", ""),
        ("nobody", utc("2040-02-29 23:15:07") // USEC, "", "far.example", ""),
        ("sync", 12345, "tty7", "console.example", "cron"),
    ])
    conn.commit()
    conn.close()
    if HAVE_LASTLOG2:
        # liblastlog2's own write (it updates a row that is there) of the current time.
        subprocess.run(["lastlog2", "-d", str(path), "-S", "-u", "sync"], check=True,
                       capture_output=True, timeout=60)
    return path


LASTLOG2_OPTIONS = [
    [], ["-s"], ["-a"], ["-a", "-s"], ["-b", "1"], ["-t", "1"], ["-t", "100"],
    ["-b", "10", "-s"], ["-b", "0", "-t", "100000"], ["-u", "root"], ["-u", "root", "-s"],
    ["-u", "daemon"], ["-u", "daemon", "-a"], ["-u", "sys", "-s"], ["-u", "lp"],
    ["-u", "lp", "-s"], ["-u", "nobody", "-b", "1"], ["-u", "sync", "-t", "1"],
]


@pytest.mark.skipif(not HAVE_LASTLOG2, reason=NO_LASTLOG2)
@pytest.mark.parametrize("options", LASTLOG2_OPTIONS, ids=" ".join)
def test_lastlog2_is_upstreams_byte_for_byte(tmp_path: Path, options: list[str]) -> None:
    """Every listing option of `lastlog2` (-u -a -b -t -s) prints what it prints, to the
    byte: its header's trailing space, the date column, the service column, the error
    line of a time that is not a number, users who never logged in."""
    db = make_lastlog2(tmp_path / "lastlog2.db")
    for zone in ZONES:
        upstream, mine = both(["lastlog2", "-d", str(db), *options],
                              ["lastlog", "--source", "lastlog2", "-d", str(db), *options],
                              zone)
        assert (mine.returncode, upstream.returncode) == (0, 0), mine.stderr
        assert mine.stdout == upstream.stdout, (options, zone)


@pytest.mark.skipif(not HAVE_LASTLOG2, reason=NO_LASTLOG2)
def test_lastlog2_without_database_is_upstreams(tmp_path: Path) -> None:
    """No database: -u USER says "never logged in", as lastlog2 does; the full listing is
    an error for both; an unknown user is an error for both."""
    missing = tmp_path / "none.db"
    for options, code in ((["-u", "root"], 0), ([], 1)):
        upstream, mine = both(["lastlog2", "-d", str(missing), *options],
                              ["lastlog", "--source", "lastlog2", "-d", str(missing),
                               *options], "UTC")
        assert (mine.returncode, upstream.returncode) == (code, code)
        assert mine.stdout == upstream.stdout
    db = make_lastlog2(tmp_path / "lastlog2.db")
    upstream, mine = both(["lastlog2", "-d", str(db), "-u", "no-such-user"],
                          ["lastlog", "--source", "lastlog2", "-d", str(db), "-u",
                           "no-such-user"], "UTC")
    assert (mine.returncode, upstream.returncode) == (1, 1)
    assert mine.stdout == upstream.stdout == b""


def test_lastlog2_json_follows_the_listing_options(tmp_path: Path) -> None:
    """--json lists the rows the text lists: -a drops users who never logged in, -t and
    -b filter by age; -u of a user without a row is a user who never logged in."""
    db = make_lastlog2(tmp_path / "lastlog2.db")

    def users(*options: str) -> list[tuple[str, int]]:
        done = subprocess.run(["pyutmp", "lastlog", "--source", "lastlog2", "-d", str(db),
                               "--json", *options], capture_output=True, check=True,
                              timeout=60)
        return [(u["user"], u["time_sec"]) for u in json.loads(done.stdout)["users"]]

    everyone = users()
    assert ("daemon", 0) in everyone and len(everyone) >= 9
    assert ("daemon", 0) not in users("-a")
    recent = [name for name, _ in users("-t", "1")]
    assert "root" in recent and "bin" not in recent and "daemon" not in recent
    old = [name for name, _ in users("-b", "10")]
    assert "bin" in old and "root" not in old
    assert users("-u", "lp") == [("lp", 0)]

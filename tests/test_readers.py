"""Sessions written with the API, read back by the stock readers: who, last, utmpdump, lastlog."""

from __future__ import annotations

import datetime
import os
import re
import time
from pathlib import Path

import pytest
import stockreaders
from stockreaders import wait_past

import pam_pyutmp
from pam_pyutmp import slots, utmpfile
from pam_pyutmp.records import Record
from pam_pyutmp.system import DEAD_PROCESS, USER_PROCESS, UTMPX_SIZE

FAR_PID = 5_000_000  # above any pid_max (2**22): no such process


def iso(tv_sec: int) -> str:
    """A second as `last --time-format iso` prints it with TZ=UTC."""
    return datetime.datetime.fromtimestamp(tv_sec, tz=datetime.timezone.utc).isoformat()


def wtmp_records(path: Path) -> list[Record]:
    return list(utmpfile.iter_wtmp(str(path)))


def logout_of(path: Path, entry: pam_pyutmp.UtmpEntry) -> Record:
    """The wtmp logout record of ``entry``'s session: the first one on its line after its
    login record."""
    records = wtmp_records(path)
    start = records.index(entry.record)
    return next(r for r in records[start + 1:]
                if r.type == DEAD_PROCESS and r.line == entry.line and r.pid == entry.record.pid)


# --- who ---------------------------------------------------------------------

def test_who_lists_user_line_host_and_drops_only_the_ended_session(acct, readers) -> None:
    """who lists each live session with its user, line and host, and after unput_utmp only
    the ended one is gone."""
    first = pam_pyutmp.put_utmp("alice", "/dev/pts/4", "192.0.2.44", **acct.paths)
    second = pam_pyutmp.put_utmp("bob", "tty5", "client.example", **acct.paths)
    listed = readers.who(acct.utmp)
    assert [(w[0], w[1], w[-1]) for w in listed] == [
        ("alice", "pts/4", "(192.0.2.44)"),
        ("bob", "tty5", "(client.example)"),
    ]
    assert pam_pyutmp.unput_utmp(first) is True
    assert [(w[0], w[1]) for w in readers.who(acct.utmp)] == [("bob", "tty5")]
    assert pam_pyutmp.unput_utmp(second) is True
    assert readers.who(acct.utmp) == []


def test_no_tty_session_shows_in_who_as_service_slash_number(acct, readers) -> None:
    """A session without a tty is listed by who on line "<service>/<n>", the lowest free n."""
    first = pam_pyutmp.put_utmp("alice", "", "192.0.2.8", service="webterm", **acct.paths)
    second = pam_pyutmp.put_utmp("bob", None, "", service="webterm", **acct.paths)
    listed = readers.who(acct.utmp)
    assert [(w[0], w[1]) for w in listed] == [("alice", "webterm/0"), ("bob", "webterm/1")]
    assert listed[0][-1] == "(192.0.2.8)"
    assert (first.line, second.line) == ("webterm/0", "webterm/1")
    assert first.id != second.id
    pam_pyutmp.unput_utmp(first)
    pam_pyutmp.unput_utmp(second)
    assert readers.who(acct.utmp) == []


def test_ended_no_tty_ids_are_reused_so_utmp_does_not_grow(acct, readers) -> None:
    """Many sequential tty-less sessions reuse the ended sessions' slot: utmp keeps one slot
    per concurrently live session, while wtmp gets every login and logout."""
    held = pam_pyutmp.put_utmp("keeper", "", service="su", **acct.paths)
    ids = set()
    for _ in range(25):
        entry = pam_pyutmp.put_utmp("alice", "", service="su", **acct.paths)
        ids.add((entry.id, entry.line))
        assert pam_pyutmp.unput_utmp(entry) is True
    assert ids == {(slots.notty_id(1), "su/1")}
    assert acct.utmp.stat().st_size == 2 * UTMPX_SIZE
    assert [(w[0], w[1]) for w in readers.who(acct.utmp)] == [("keeper", "su/0")]
    assert len(wtmp_records(acct.wtmp)) == 1 + 2 * 25
    pam_pyutmp.unput_utmp(held)
    records = utmpfile.read(str(acct.utmp))
    assert [(r.type, r.id) for r in records] == [
        (DEAD_PROCESS, slots.notty_id(0)), (DEAD_PROCESS, slots.notty_id(1))]


# --- last --------------------------------------------------------------------

def test_last_pairs_every_login_with_its_logout_time(acct, readers) -> None:
    """last shows each session, tty and tty-less, interleaved and with a reused no-tty line,
    as a login/logout pair with the logout time written, never "gone" or "still"."""
    # pid defaults to this (live) test process, so `last` judges the records as it would
    # those of a running login program.
    a = pam_pyutmp.put_utmp("alice", "pts/11", "192.0.2.11", **acct.paths)
    b = pam_pyutmp.put_utmp("bob", "", "198.51.100.2", service="su", **acct.paths)
    pam_pyutmp.unput_utmp(b)
    c = pam_pyutmp.put_utmp("carol", "", "host.example", service="su", **acct.paths)
    pam_pyutmp.unput_utmp(a)
    pam_pyutmp.unput_utmp(c)
    assert b.line == c.line == "su/0"

    logouts = {e.user: logout_of(acct.wtmp, e) for e in (a, b, c)}
    lines = readers.last(acct.wtmp, after_logout=max(r.tv_sec for r in logouts.values()))
    for line in lines:
        assert not re.search(r"gone|no logout|still|crash|down", line), line
    shown = [line.split() for line in lines]
    assert [w[:3] for w in shown] == [
        ["carol", "su/0", "host.example"],
        ["bob", "su/0", "198.51.100.2"],
        ["alice", "pts/11", "192.0.2.11"],
    ]
    for words in shown:
        entry = {"alice": a, "bob": b, "carol": c}[words[0]]
        assert words[3:6] == [iso(entry.record.tv_sec), "-", iso(logouts[words[0]].tv_sec)]


def test_last_pairs_the_records_of_another_live_process(acct, readers) -> None:
    """Records written by a separate process carry its pid; who lists its session while it
    lives and last pairs its logout with its login."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: log in, report, stay alive until told, then log out
        code = 1
        try:
            os.close(ready_r)
            os.close(go_w)
            entry = pam_pyutmp.put_utmp("dave", "pts/12", "192.0.2.12", **acct.paths)
            os.write(ready_w, b"1")
            os.read(go_r, 1)
            code = 0 if pam_pyutmp.unput_utmp(entry) else 2
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(go_r)
    try:
        assert os.read(ready_r, 1) == b"1", "the child could not log in"
        assert [(w[0], w[1]) for w in readers.who(acct.utmp)] == [("dave", "pts/12")]
    finally:
        os.write(go_w, b"x")
        os.close(go_w)
        os.close(ready_r)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    login, logout = wtmp_records(acct.wtmp)
    assert (login.type, logout.type) == (USER_PROCESS, DEAD_PROCESS)
    assert (login.pid, logout.pid) == (pid, pid)
    (line,) = readers.last(acct.wtmp, after_logout=logout.tv_sec)
    assert line.split()[:6] == [
        "dave", "pts/12", "192.0.2.12", iso(login.tv_sec), "-", iso(logout.tv_sec)]


# --- utmpdump ----------------------------------------------------------------

DUMP_LINE = re.compile(r"^\[(\d+)\] \[(\d+)\] \[(.{4})\] \[(.*?) *\] \[(.*?) *\] \[(.*?) *\] "
                       r"\[(.*?) *\] \[(.*)\]$")


def test_utmpdump_text_round_trips_to_identical_bytes(acct, readers) -> None:
    """`utmpdump -r` of utmpdump's text of our utmp and wtmp files gives them back byte for
    byte, so every byte we write is a field the reference tool knows."""
    # utmpdump's text has no ut_session column and pads ut_id with spaces, so the records
    # use session 0 and lines whose id is four bytes long.
    sessions = [
        ("alice", "pts/1", "192.0.2.7"),
        ("bob", "/dev/pts/23", "2001:db8::7"),
        ("carol", "tty3", "::ffff:192.0.2.9"),
        ("dave", "", "host.example"),
        ("erin", "pts/100", "h" * 300),
        ("f" * 32, "pts/" + "9" * 28, "fe80::1%eth0"),
    ]
    entries = [pam_pyutmp.put_utmp(user, tty, host, service="ssh", session=0, **acct.paths)
               for user, tty, host in sessions]
    for entry in entries[:3]:
        pam_pyutmp.unput_utmp(entry)
    for path, count in ((acct.utmp, 6), (acct.wtmp, 9)):
        data = path.read_bytes()
        assert len(data) == count * UTMPX_SIZE
        assert readers.undump(readers.utmpdump(path)) == data


def test_utmpdump_fields_agree_with_our_reader(acct, readers) -> None:
    """Every field utmpdump prints for our records equals what utmpfile.read and iter_wtmp
    decode from the same bytes."""
    entries = [
        pam_pyutmp.put_utmp("alice", "pts/2", "192.0.2.2", **acct.paths),
        pam_pyutmp.put_utmp("bob", "", "2001:db8::2", service="su", **acct.paths),
        pam_pyutmp.put_utmp("carol", ":0", "::ffff:198.51.100.9", **acct.paths),
    ]
    pam_pyutmp.unput_utmp(entries[1])
    for path, ours in ((acct.utmp, utmpfile.read(str(acct.utmp))),
                       (acct.wtmp, wtmp_records(acct.wtmp))):
        dumped = [DUMP_LINE.match(line)
                  for line in readers.utmpdump(path).decode().splitlines()]
        assert len(dumped) == len(ours) > 0
        for match, rec in zip(dumped, ours):
            assert match is not None
            when = datetime.datetime.fromtimestamp(
                rec.tv_sec, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
            fields = (int(match[1]), int(match[2]), *match.groups()[2:])
            assert fields == (
                rec.type, rec.pid, rec.id.ljust(4), rec.user, rec.line, rec.host,
                rec.address or "0.0.0.0", f"{when},{rec.tv_usec:06d}+00:00")
    assert {r.address for r in wtmp_records(acct.wtmp)} == {
        "192.0.2.2", "2001:db8::2", "198.51.100.9", None}


# --- lastlog -----------------------------------------------------------------

@pytest.fixture
def chroot(tmp_path: Path) -> Path:
    """A root holding etc/passwd with two users and an empty var/log."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "var" / "log").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "pyalice:x:4321:4321::/home/pyalice:/bin/sh\n"
        "pybob:x:4322:4322::/home/pybob:/bin/sh\n"
    )
    return root


def test_lastlog_in_chroot_shows_line_host_and_time(chroot, readers) -> None:
    """`lastlog -R root -u user` shows the line, host and time put_lastlog_entry wrote at
    that user's uid, and the previous login is returned by the next call."""
    path = chroot / "var" / "log" / "lastlog"
    first = pam_pyutmp.put_lastlog_entry("sshd", "pyalice", "/dev/pts/6", "192.0.2.66",
                                         lastlog_path=path, uid=4321)
    assert first is None
    entry = pam_pyutmp.last_login("pyalice", lastlog_path=path, uid=4321)
    assert entry is not None and (entry.line, entry.host) == ("pts/6", "192.0.2.66")

    header, row = readers.lastlog(chroot, "pyalice")
    assert header.split()[0] == "Username"
    words = row.split()
    assert words[:3] == ["pyalice", "pts/6", "192.0.2.66"]
    assert words[3:] == entry.datetime.strftime("%a %b %e %H:%M:%S %z %Y").split()
    # The neighbour's record, one slot further, is still empty.
    assert "Never logged in" in readers.lastlog(chroot, "pybob")[1]

    again = pam_pyutmp.put_lastlog_entry("webterm", "pyalice", "", "client.example",
                                         lastlog_path=path, uid=4321)
    assert again == entry
    assert readers.lastlog(chroot, "pyalice")[1].split()[:2] == ["pyalice", "client.example"]


# --- login_session -------------------------------------------------------------

def test_login_session_writes_all_three_and_closes_even_on_error(acct, readers) -> None:
    """login_session leaves a live utmp slot, a wtmp login and a lastlog entry inside the
    block, and closes the session when the block raises."""
    class Boom(Exception):
        pass

    with pytest.raises(Boom), pam_pyutmp.login_session(
            "root", "pts/9", "192.0.2.99", service="webterm", lastlog_path=acct.lastlog,
            **acct.paths) as entry:
        assert [(w[0], w[1]) for w in readers.who(acct.utmp)] == [("root", "pts/9")]
        seen = pam_pyutmp.last_login("root", lastlog_path=acct.lastlog, uid=0)
        assert seen is not None and (seen.line, seen.host) == ("pts/9", "192.0.2.99")
        raise Boom
    assert readers.who(acct.utmp) == []
    records = wtmp_records(acct.wtmp)
    assert [(r.type, r.line) for r in records] == [(USER_PROCESS, "pts/9"),
                                                    (DEAD_PROCESS, "pts/9")]
    (line,) = readers.last(acct.wtmp, after_logout=records[1].tv_sec)
    assert line.split()[:6] == ["root", "pts/9", "192.0.2.99", iso(records[0].tv_sec), "-",
                                iso(records[1].tv_sec)]
    assert entry.line == "pts/9"


# --- acctread, the stand-in for the readers a release lacks --------------------

@pytest.mark.skipif(not (stockreaders.HAVE_LAST and stockreaders.HAVE_UTMPDUMP
                         and stockreaders.HAVE_LASTLOG),
                    reason="no util-linux last, utmpdump or shadow lastlog on this release to "
                           "check acctread against")
def test_acctread_reads_what_the_stock_readers_read(acct, chroot, readers) -> None:
    """tests/acctread.c, which reads for the tests where Debian 13 has no utmpdump, util-linux
    last or shadow lastlog, prints what those print for the same files (closed, live and gone
    sessions, a tty-less slot, IPv4 and IPv6 hosts), and its undump writes utmpdump -r's bytes."""
    ended = pam_pyutmp.put_utmp("alice", "pts/21", "192.0.2.21", **acct.paths)
    pam_pyutmp.put_utmp("bob", "", "2001:db8::22", service="webterm", **acct.paths)
    pam_pyutmp.put_utmp("carol", "pts/23", "client.example", pid=FAR_PID, **acct.paths)
    pam_pyutmp.unput_utmp(ended)
    lastlog = chroot / "var" / "log" / "lastlog"
    pam_pyutmp.put_lastlog_entry("sshd", "pyalice", "pts/6", "192.0.2.66", lastlog_path=lastlog,
                                 uid=4321)
    tool = stockreaders.acctread()

    def both(stock: list[str], ours: list[str]) -> tuple[bytes, bytes]:
        return readers.run(*stock), readers.run(tool, *ours)

    for path in (acct.utmp, acct.wtmp):
        stock, ours = both(["utmpdump", str(path)], ["dump", str(path)])
        assert stock == ours and stock.count(b"\n") >= 3
        assert readers.undump(stock) == stockreaders.undump_with_acctread(stock)
    wait_past(int(time.time()))
    stock, ours = both(["last", "-w", "--time-format", "iso", "-f", str(acct.wtmp)],
                       ["last", str(acct.wtmp)])
    assert stock == ours and b"gone - no logout" in stock and b" - " in stock
    for user in ("pyalice", "pybob"):
        stock, ours = both(["lastlog", "-R", str(chroot), "-u", user],
                           ["lastlog", str(lastlog), user, str(chroot / "etc" / "passwd")])
        assert stock == ours

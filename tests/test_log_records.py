"""Log records of the events: the systemd journal's native protocol where its socket
exists (fields of their own, a MESSAGE_ID per kind of event), syslog otherwise, and the
count of records that could not be delivered, reported by the next one delivered."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pamfakes import handle

from pam_pyutmp import pam, syslogger


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[socket.socket]:
    """A datagram socket at the path the module takes for the journal's."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(syslogger.JOURNAL_SOCKET)
    sock.settimeout(2)
    yield sock
    sock.close()


def journal_fields(datagram: bytes) -> dict[str, str]:
    lines = datagram.decode().split("\n")
    assert lines[-1] == "", datagram
    return dict(line.split("=", 1) for line in lines[:-1])


def args_for(acct) -> list[str]:
    return [f"utmp={acct.utmp}", f"wtmp={acct.wtmp}", f"lastlog={acct.lastlog}"]


def test_events_go_to_the_journal_with_fields_of_their_own(acct, logs, journal) -> None:
    """With a journal socket, each event is one native-protocol record: MESSAGE (the same
    text a syslog line has), its MESSAGE_ID, PRIORITY, facility authpriv, the ident and pid,
    and PYUTMP_ fields a collector takes apart without a regular expression; nothing goes
    to /dev/log."""
    h = handle(tty="ssh", service="sshd", rhost="192.0.2.9")
    assert pam.open_session(h, 0, args_for(acct)) == pam.PAM_SUCCESS
    assert pam.close_session(h, 0, args_for(acct)) == pam.PAM_SUCCESS
    opened, closed = (journal_fields(journal.recv(65536)) for _ in range(2))

    assert opened["MESSAGE_ID"] == syslogger.MESSAGE_IDS["session-opened"]
    assert closed["MESSAGE_ID"] == syslogger.MESSAGE_IDS["session-closed"]
    assert opened["MESSAGE"].startswith("session opened: service=sshd user=root tty=ssh ")
    assert (opened["PRIORITY"], opened["SYSLOG_FACILITY"], opened["SYSLOG_IDENTIFIER"]) == (
        "6", "10", "pam_pyutmp")
    assert {key: opened[key] for key in ("PYUTMP_EVENT", "PYUTMP_USER", "PYUTMP_UID",
                                         "PYUTMP_SERVICE", "PYUTMP_TTY", "PYUTMP_LINE",
                                         "PYUTMP_HOST", "PYUTMP_BACKEND", "PYUTMP_OUTCOME")} == {
        "PYUTMP_EVENT": "session-opened", "PYUTMP_USER": "root", "PYUTMP_UID": "0",
        "PYUTMP_SERVICE": "sshd", "PYUTMP_TTY": "ssh", "PYUTMP_LINE": "sshd/0",
        "PYUTMP_HOST": "192.0.2.9", "PYUTMP_BACKEND": "files", "PYUTMP_OUTCOME": "ok"}
    assert opened["SYSLOG_PID"] == opened["PYUTMP_PID"]
    assert logs.lines() == []


def test_journal_fields_are_escaped_and_capped(acct, logs, journal) -> None:
    """A value with a newline or ESC cannot add a field or a line: escaped, as in the text."""
    forged = "x\nPYUTMP_USER=admin\x1b[2J" + "h" * 400
    assert pam.open_session(handle(rhost=forged), 0, args_for(acct)) == pam.PAM_SUCCESS
    fields = journal_fields(journal.recv(65536))
    while "PYUTMP_EVENT" not in fields:  # the notices on the host come first, plain
        assert "MESSAGE_ID" not in fields and "PYUTMP_USER" not in fields
        fields = journal_fields(journal.recv(65536))
    assert fields["PYUTMP_USER"] == "root"
    assert fields["PYUTMP_HOST"].startswith("x\\x0aPYUTMP_USER=admin\\x1b[2J")
    assert fields["PYUTMP_HOST"].endswith(syslogger.CUT)


def test_a_record_that_cannot_be_delivered_is_counted_and_reported_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs) -> None:
    """No log daemon listening: the record is counted in the lost file; the next record
    delivered (here by syslog) ends in lost=N, and the count starts again."""
    socket_path = syslogger.SOCKET_PATH
    monkeypatch.setattr(syslogger, "SOCKET_PATH", str(tmp_path / "no-daemon"))
    syslogger.log(syslogger.LOG_INFO, "first")
    syslogger.log(syslogger.LOG_INFO, "second")
    assert Path(syslogger.LOST_FILE).stat().st_size == 2
    monkeypatch.setattr(syslogger, "SOCKET_PATH", socket_path)
    syslogger.log(syslogger.LOG_INFO, "third")
    syslogger.log(syslogger.LOG_INFO, "fourth")
    lines = logs.lines()
    assert [line.rpartition(": ")[2] for line in lines] == ["third lost=2", "fourth"]
    assert Path(syslogger.LOST_FILE).stat().st_size == 0


def test_a_full_queue_costs_one_bounded_wait_and_is_counted(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """A log daemon that reads nothing: its queue fills, a record waits SEND_TIMEOUT for
    room, then counts as lost, and the login goes on; the journal the same."""
    import time

    reader = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    reader.bind(str(tmp_path / "slow.sock"))
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    filler.setblocking(False)
    try:
        filler.connect(str(tmp_path / "slow.sock"))
        while True:  # until the queue takes no more
            filler.send(b"x" * 1000)
    except BlockingIOError:
        pass
    monkeypatch.setattr(syslogger, "SOCKET_PATH", str(tmp_path / "slow.sock"))
    started = time.monotonic()
    syslogger.log(syslogger.LOG_INFO, "waits")
    waited = time.monotonic() - started
    reader.close()
    filler.close()
    assert syslogger.SEND_TIMEOUT <= waited < syslogger.SEND_TIMEOUT + 2
    assert Path(syslogger.LOST_FILE).stat().st_size == 1


@pytest.mark.parametrize(("values", "expected"), [
    ({"user": "a\\b", "tty": "x"}, 'user="a\\\\b" tty=x'),
    ({"user": "evil\x1b[2J", "host": ""}, 'user="evil\\\\x1b[2J" host=""'),
    ({"user": "tab\tuser"}, 'user="tab\\\\x09user"'),
    ({"host": "ends\\"}, 'host="ends\\\\"'),
])
def test_a_value_with_a_backslash_is_quoted_and_its_backslash_escaped(
        values: dict[str, str], expected: str) -> None:
    """Every backslash of a line is inside quotes and escaped, those of \\xNN too: a reader
    that takes a backslash as the escape character everywhere (liblognorm's string parser,
    the collector of the fleet recipe) reads back the value as written, not "evilx1b[2J"."""
    assert syslogger.fields(**values) == expected


def test_a_report_never_empties_the_count_while_a_loss_is_being_added() -> None:
    """An adder holds the count's lock (shared) while it appends: a reporter then leaves the
    count as it is, and a later record reports all of it.  The file is root's alone (0600):
    no other user can open it and hold its lock."""
    import fcntl
    import os
    import stat

    syslogger._count_lost(2)
    assert stat.S_IMODE(os.stat(syslogger.LOST_FILE).st_mode) == 0o600
    adder = os.open(syslogger.LOST_FILE, os.O_WRONLY)
    try:
        fcntl.flock(adder, fcntl.LOCK_SH)
        assert syslogger._take_lost() == 0
        assert os.stat(syslogger.LOST_FILE).st_size == 2
    finally:
        os.close(adder)
    syslogger._count_lost(1)
    assert syslogger._take_lost() == 3
    assert syslogger._take_lost() == 0


def test_a_loss_added_while_a_report_empties_the_count_is_kept() -> None:
    """A reporter holds the lock (exclusive) between reading the count and emptying it: an
    adder waits for it (a bounded wait), so its loss lands after the emptying, not in it."""
    import fcntl
    import os
    import threading
    import time

    syslogger._count_lost(1)
    reporter = os.open(syslogger.LOST_FILE, os.O_RDWR)
    try:
        fcntl.flock(reporter, fcntl.LOCK_EX)
        adder = threading.Thread(target=syslogger._count_lost, args=(1,))
        adder.start()
        time.sleep(0.03)  # the adder is at the lock now
        os.ftruncate(reporter, 0)  # the reporter empties what it has read
    finally:
        os.close(reporter)
    adder.join(5)
    assert os.stat(syslogger.LOST_FILE).st_size == 1

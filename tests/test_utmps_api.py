"""The library API on the utmps backend, through the stand-in daemons
(tests/utmps_standin.py, checked against the real daemons' transcripts in
test_utmps_transcripts.py): sessions, the daemons' access rules as callers with other
credentials meet them, and daemons that are down or hang."""

from __future__ import annotations

import contextlib
import errno
import json
import multiprocessing
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import pam_pyutmp
from pam_pyutmp.errors import PyutmpError, UtmpError, WtmpError
from pam_pyutmp.utmps import UtmpdClient, WtmpdClient

STANDIN = Path(__file__).with_name("utmps_standin.py")
UTMP_GID = 43  # the daemons' group in the transcripts (group utmp on Debian)
NOBODY = 65534
# README.txt's packed record, to read the daemons' files without the client's decoder.
DAEMON_RECORD = struct.Struct("<h2xi32s4s32s256shhi4xqq16s20s4x")
WAIT = 30.0  # bound on waits that only a hang would reach


class Slot(NamedTuple):
    type: int
    pid: int
    line: str
    id: str
    user: str
    host: str


def daemon_file(path: Path) -> list[Slot]:
    """The records of a file the daemons keep, decoded with README's table."""
    data = path.read_bytes() if path.exists() else b""
    out = []
    for n in range(0, len(data), DAEMON_RECORD.size):
        fields = DAEMON_RECORD.unpack(data[n : n + DAEMON_RECORD.size])
        text = [field.split(b"\0", 1)[0].decode() for field in fields[2:6]]
        out.append(Slot(fields[0], fields[1], *text))
    return out


@dataclass
class Daemons:
    utmpd: str
    wtmpd: str
    utmp: Path
    wtmp: Path
    processes: dict[str, subprocess.Popen[str]]

    @property
    def api(self) -> dict[str, Any]:
        return {"backend": "utmps", "utmpd_socket": self.utmpd, "wtmpd_socket": self.wtmpd}

    @contextlib.contextmanager
    def stopped(self, daemon: str) -> Iterator[None]:
        """The daemon hangs (SIGSTOP): connections queue in its backlog, unanswered."""
        process = self.processes[daemon]
        process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            process.send_signal(signal.SIGCONT)


def start_standin(*argv: str) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, str(STANDIN), *argv], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None and process.stdout.readline() == "\n"
    return process


@pytest.fixture
def daemons(shared_dir: Path) -> Iterator[Daemons]:
    """utmpd and wtmpd stand-ins as upstream runs them: group utmp, utmp in /run/utmps,
    wtmp in /var/log (here: directories of a temp dir that any user may enter)."""
    run, log = shared_dir / "run-utmps", shared_dir / "log"
    run.mkdir()
    log.mkdir()
    found = Daemons(str(run / ".utmpd-socket"), str(run / ".wtmpd-socket"), run / "utmp",
                    log / "wtmp", {})
    try:
        found.processes["utmpd"] = start_standin("utmpd", found.utmpd, str(run),
                                                 "--egid", str(UTMP_GID))
        found.processes["wtmpd"] = start_standin("wtmpd", found.wtmpd, str(log),
                                                 "--egid", str(UTMP_GID))
        yield found
    finally:
        for process in found.processes.values():
            process.send_signal(signal.SIGCONT)
            process.terminate()
            process.wait(WAIT)


def as_caller(uid: int, gid: int, groups: list[int], call: Callable[[], object]) -> dict[str, Any]:
    """Run ``call`` in a child with these real and effective ids; what it returned, or the
    error it raised (type, errno, message)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        report: dict[str, Any] = {}
        try:
            os.close(read_end)
            os.setgroups(groups)
            os.setregid(gid, gid)
            os.setreuid(uid, uid)
            report["result"] = repr(call())
        except PyutmpError as err:
            report.update(error=type(err).__name__, errno=err.errno, message=err.strerror)
        except BaseException as err:
            report["crash"] = repr(err)
        finally:
            os.write(write_end, json.dumps(report).encode())
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    report = json.loads(data)
    assert "crash" not in report, report
    return report


def test_a_session_opens_and_closes_on_one_slot_with_a_wtmp_pair(daemons: Daemons,
                                                                 tty: str) -> None:
    """put_utmp/unput_utmp through the daemons: a USER_PROCESS slot that the logout turns
    DEAD_PROCESS in place, listed through utmpd, and a login/logout pair in wtmp."""
    entry = pam_pyutmp.put_utmp("root", tty, "192.0.2.9", service="svc", **daemons.api)
    line = tty.removeprefix("/dev/")
    assert isinstance(entry.utmp, UtmpdClient) and isinstance(entry.wtmp, WtmpdClient)
    listed = UtmpdClient(daemons.utmpd).read()
    assert listed == [entry.record]
    assert (listed[0].line, listed[0].id, listed[0].address) == (line, line[-4:], "192.0.2.9")

    assert pam_pyutmp.unput_utmp(entry) is True
    assert [(s.type, s.line, s.id, s.user) for s in daemon_file(daemons.utmp)] == [
        (8, line, line[-4:], "")]
    assert [(s.type, s.line, s.user, s.host) for s in daemon_file(daemons.wtmp)] == [
        (7, line, "root", "192.0.2.9"), (8, line, "", "")]

    assert pam_pyutmp.unput_utmp(entry) is False  # closed already: nothing written
    assert len(daemon_file(daemons.wtmp)) == 2


def test_tty_less_sessions_of_two_services_each_close_their_own_record(
        daemons: Daemons) -> None:
    """After an su session without a tty ended (P000 "su/0"), a webterm one takes P000
    too; utmpd keeps it as a second record (it replaces only on the same line), and its
    logout closes that record, not the ended su one."""
    su = pam_pyutmp.put_utmp("root", "", "", service="su", **daemons.api)
    assert pam_pyutmp.unput_utmp(su)
    web = pam_pyutmp.put_utmp("root", "", "", service="webterm", **daemons.api)
    assert (su.id, su.line, web.id, web.line) == ("P000", "su/0", "P000", "webterm/0")

    assert pam_pyutmp.unput_utmp(web) is True
    assert [(s.type, s.line, s.id) for s in daemon_file(daemons.utmp)] == [
        (8, "su/0", "P000"), (8, "webterm/0", "P000")]
    assert [(s.type, s.line) for s in daemon_file(daemons.wtmp)][-1] == (8, "webterm/0")


def test_login_session_writes_the_daemons_and_the_lastlog_file(daemons: Daemons,
                                                               tmp_path: Path) -> None:
    """login_session on the utmps backend: the session listed through utmpd while it
    runs, closed after; lastlog stays a file."""
    lastlog = tmp_path / "lastlog"
    with pam_pyutmp.login_session("root", "pts/9", "client.example", service="svc",
                                  lastlog_path=lastlog, **daemons.api) as entry:
        assert [r.user for r in UtmpdClient(daemons.utmpd).read() if r.type == 7] == ["root"]
    assert [r.type for r in UtmpdClient(daemons.utmpd).read()] == [8]
    assert [s.type for s in daemon_file(daemons.wtmp)] == [7, 8]
    previous = pam_pyutmp.last_login("root", lastlog_path=lastlog)
    assert previous is not None and (previous.line, previous.host) == (entry.line,
                                                                       "client.example")


def test_auto_picks_utmps_when_the_utmpd_socket_exists(daemons: Daemons) -> None:
    """backend="auto" with an existing utmpd socket writes through the daemons."""
    entry = pam_pyutmp.put_utmp("root", "pts/4", "", utmpd_socket=daemons.utmpd,
                                wtmpd_socket=daemons.wtmpd)
    assert isinstance(entry.utmp, UtmpdClient)
    assert [s.line for s in daemon_file(daemons.utmp)] == ["pts/4"]


@pytest.mark.parametrize("groups", [[], [UTMP_GID]], ids=["no-groups", "utmp-supplementary"])
def test_a_caller_without_egid_utmp_is_refused_with_the_fix(daemons: Daemons,
                                                            groups: list[int]) -> None:
    """A non-root caller whose effective group is not utmp (as a supplementary group it
    does not count) gets UtmpError EPERM naming the fix; nothing is written."""
    report = as_caller(NOBODY, NOBODY, groups, lambda: pam_pyutmp.put_utmp(
        "nobody", "pts/5", "", **daemons.api))
    assert (report["error"], report["errno"]) == ("UtmpError", errno.EPERM)
    assert report["message"].startswith(
        "utmpd refused the write: needs root or effective group utmp (chgrp utmp "
        "PROG; chmod g+s PROG, or run it under s6-setuidgid); this process has euid 65534, "
        "egid 65534"), report
    assert daemon_file(daemons.utmp) == [] and daemon_file(daemons.wtmp) == []


def test_egid_utmp_writes_utmp_and_wtmp_for_its_own_user(daemons: Daemons) -> None:
    """A non-root caller with egid utmp opens a session of its own user: utmp and wtmp
    written; its logout closes utmp but wtmpd refuses the logout record (it names no
    user, so only root may append it): WtmpError EPERM saying so."""
    def session() -> object:
        entry = pam_pyutmp.put_utmp("nobody", "pts/6", "", **daemons.api)
        return pam_pyutmp.unput_utmp(entry)

    report = as_caller(NOBODY, UTMP_GID, [], session)
    assert (report["error"], report["errno"]) == ("WtmpError", errno.EPERM)
    assert "only root may append it" in report["message"]
    assert [(s.type, s.user) for s in daemon_file(daemons.utmp)] == [(8, "")]
    assert [(s.type, s.user) for s in daemon_file(daemons.wtmp)] == [(7, "nobody")]


def test_egid_utmp_for_another_user_is_all_or_nothing(daemons: Daemons) -> None:
    """egid utmp logging in another user: utmpd takes the slot, wtmpd refuses the record
    (uid mismatch), so put_utmp closes the slot again and raises WtmpError EPERM."""
    report = as_caller(NOBODY, UTMP_GID, [], lambda: pam_pyutmp.put_utmp(
        "root", "pts/6", "", **daemons.api))
    assert (report["error"], report["errno"]) == ("WtmpError", errno.EPERM)
    assert "the record's user ('root')" in report["message"]
    assert [(s.type, s.line) for s in daemon_file(daemons.utmp)] == [(8, "pts/6")]
    assert daemon_file(daemons.wtmp) == []


def test_a_missing_socket_or_a_dead_daemon_fails_at_once(tmp_path: Path) -> None:
    """No socket: UtmpError ENOENT; a socket nobody listens on (the daemon died):
    ECONNREFUSED; both name the daemon, within a bounded wait."""
    missing = str(tmp_path / "none")
    dead = tmp_path / "dead"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(dead))  # bound, never listening: as a daemon that is gone
    start = time.monotonic()
    with pytest.raises(UtmpError) as no_socket:
        pam_pyutmp.put_utmp("root", "pts/1", "", backend="utmps", utmpd_socket=missing)
    with pytest.raises(UtmpError) as refused:
        pam_pyutmp.put_utmp("root", "pts/1", "", backend="utmps", utmpd_socket=str(dead))
    with pytest.raises(WtmpError) as no_wtmpd:
        pam_pyutmp.put_utmp("root", "pts/1", "", backend="utmps", utmp=False,
                            wtmpd_socket=str(dead))
    assert time.monotonic() - start < WAIT
    assert no_socket.value.errno == errno.ENOENT and "is utmps-utmpd running?" in str(
        no_socket.value)
    assert refused.value.errno == errno.ECONNREFUSED
    assert "utmps-utmpd is not running" in str(refused.value)
    assert no_wtmpd.value.errno == errno.ECONNREFUSED


def test_a_hung_utmpd_costs_at_most_the_timeout(daemons: Daemons) -> None:
    """With utmpd stopped (SIGSTOP), put_utmp raises UtmpError ETIMEDOUT after about
    utmps_timeout (bounded: well under the margin) and writes no wtmp record."""
    start = time.monotonic()
    with daemons.stopped("utmpd"), pytest.raises(UtmpError) as hung:
        pam_pyutmp.put_utmp("root", "pts/2", "", utmps_timeout=1, **daemons.api)
    elapsed = time.monotonic() - start
    assert hung.value.errno == errno.ETIMEDOUT and "no answer within 1 s" in str(hung.value)
    assert elapsed < 1 + 8, elapsed
    assert daemon_file(daemons.wtmp) == []


def test_a_hung_wtmpd_undoes_the_utmp_slot(daemons: Daemons) -> None:
    """With wtmpd stopped, put_utmp raises WtmpError ETIMEDOUT after about the timeout
    and closes the utmp slot it had opened (all or nothing)."""
    start = time.monotonic()
    with daemons.stopped("wtmpd"), pytest.raises(WtmpError) as hung:
        pam_pyutmp.put_utmp("root", "pts/2", "", utmps_timeout=1, **daemons.api)
    assert hung.value.errno == errno.ETIMEDOUT
    assert time.monotonic() - start < 1 + 8
    assert [(s.type, s.line) for s in daemon_file(daemons.utmp)] == [(8, "pts/2")]


SESSIONS = 24


def concurrent_session(i: int, api: dict[str, Any], barrier: Any, results: Any) -> None:
    report: dict[str, Any] = {"i": i}
    try:
        barrier.wait(WAIT)
        entry = pam_pyutmp.put_utmp("root", "", "", service="svc", utmps_timeout=WAIT,
                                    **api)
        report["id"] = entry.id
        barrier.wait(WAIT)  # all live at once before any closes
        report["closed"] = pam_pyutmp.unput_utmp(entry)
    except BaseException as err:
        report["error"] = repr(err)
        barrier.abort()
    results.put(report)


def test_concurrent_tty_less_logins_get_distinct_slots(daemons: Daemons) -> None:
    """24 processes opening tty-less sessions at once through utmpd (which has no lock
    across connections) get 24 distinct ids, and every logout closes its own slot."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(SESSIONS)
    results = ctx.Queue()
    workers = [ctx.Process(target=concurrent_session, args=(i, daemons.api, barrier, results))
               for i in range(SESSIONS)]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=WAIT * 2) for _ in workers]
    for worker in workers:
        worker.join(WAIT)
    assert [r for r in reports if "error" in r] == []
    assert len({r["id"] for r in reports}) == SESSIONS
    assert all(r["closed"] for r in reports)
    assert {s.type for s in daemon_file(daemons.utmp)} == {8}
    assert len(daemon_file(daemons.wtmp)) == 2 * SESSIONS


def test_killed_tty_less_sessions_free_their_numbers_through_utmpd(daemons: Daemons) -> None:
    """As with the files: the next tty-less login takes the lowest number a session whose
    process is gone held, and retires the other such slots (no user, time kept)."""
    doomed = subprocess.Popen(["sleep", "60"])
    ghosts = [pam_pyutmp.put_utmp("ghost", "", "", service="su", pid=doomed.pid, **daemons.api)
              for _ in range(2)]
    assert [g.line for g in ghosts] == ["su/0", "su/1"]
    doomed.kill()
    doomed.wait()
    live = pam_pyutmp.put_utmp("root", "", "", service="su", **daemons.api)

    assert (live.id, live.line) == ("P000", "su/0")
    assert [(s.type, s.line, s.user, s.tv_sec) for s in UtmpdClient(daemons.utmpd).read()] == [
        (7, "su/0", "root", live.record.tv_sec), (8, "su/1", "", ghosts[1].record.tv_sec)]
    assert pam_pyutmp.unput_utmp(live) is True

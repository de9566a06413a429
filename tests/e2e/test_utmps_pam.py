"""The PAM module on the utmps backend, end to end: pamtester, real libpam and
pam_python.so in the sandbox, talking to the utmpd and wtmpd stand-ins
(tests/utmps_standin.py, held to the real daemons' transcripts in
tests/test_utmps_transcripts.py).

The stand-ins run outside the sandbox's mount namespace on sockets in ROOT/run/utmps,
which the sandbox sees as /run/utmps, where upstream puts them; their utmp is
ROOT/run/utmps/utmp and their wtmp ROOT/log/wtmp (/var/log/wtmp inside).
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .sandbox import SYSTEM_PYTHON, Sandbox, reader

STANDIN = Path(__file__).parents[1] / "utmps_standin.py"
UTMP_GID = 43  # the daemons' group in the transcripts (group utmp on Debian)
SOCKETS = "utmpd_socket=/run/utmps/.utmpd-socket wtmpd_socket=/run/utmps/.wtmpd-socket"
SESSION_ERR = "Cannot make/remove an entry for the specified session"
DAEMON_RECORD = struct.Struct("<h2xi32s4s32s256shhi4xqq16s20s4x")  # README.txt's table
LIST = ("from pam_pyutmp.utmps import UtmpdClient\n"
        "for r in UtmpdClient('/run/utmps/.utmpd-socket').read():\n"
        "    print(r.type, r.user, r.line, r.id, r.host)\n")
WAIT = 30.0


def daemon_file(path: Path) -> list[tuple[int, str, str, str, str]]:
    """(type, user, line, id, host) of each record of a file the daemons keep."""
    data = path.read_bytes() if path.exists() else b""
    out = []
    for n in range(0, len(data), DAEMON_RECORD.size):
        fields = DAEMON_RECORD.unpack(data[n : n + DAEMON_RECORD.size])
        line, id_, user, host = (f.split(b"\0", 1)[0].decode() for f in fields[2:6])
        out.append((fields[0], user, line, id_, host))
    return out


@dataclass
class Daemons:
    utmp: Path
    wtmp: Path
    processes: list[subprocess.Popen[str]]

    def stop(self) -> None:
        """Both daemons hang (SIGSTOP): connections wait in their backlogs, unanswered."""
        for process in self.processes:
            process.send_signal(signal.SIGSTOP)


@pytest.fixture
def daemons(sandbox: Sandbox) -> Iterator[Daemons]:
    run = sandbox.root / "run" / "utmps"
    run.mkdir(mode=0o755)
    log = sandbox.root / "log"
    processes = []
    try:
        for daemon, workdir in (("utmpd", run), ("wtmpd", log)):
            process = subprocess.Popen(
                [SYSTEM_PYTHON, str(STANDIN), daemon, str(run / f".{daemon}-socket"),
                 str(workdir), "--egid", str(UTMP_GID)], stdout=subprocess.PIPE, text=True)
            processes.append(process)
            assert process.stdout is not None and process.stdout.readline() == "\n"
        yield Daemons(run / "utmp", log / "wtmp", processes)
    finally:
        for process in processes:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            process.wait(WAIT)


def required(box: Sandbox, options: str) -> None:
    """The module alone and required, so its own code is what pamtester reports."""
    box.service("svc", box.module_line(options, control="required"))


def loadable_by_anyone(box: Sandbox, shared_dir: Path) -> None:
    """The native loader's pam_pyutmp.so is built under pytest's temp root, which is
    0700: a copy in a directory anyone may enter, for a service that is not root."""
    if box.native_module is not None:
        copy = shared_dir / box.native_module.name
        shutil.copy2(box.native_module, copy)
        box.native_module = copy


def test_login_listing_and_logout_in_separate_processes(sandbox: Sandbox, daemons: Daemons,
                                                        tty: str) -> None:
    """pamtester opens a session through the daemons, a listing through utmpd shows it,
    another pamtester closes it: the same slot DEAD_PROCESS, a login/logout pair in wtmp,
    lastlog written as a file, the C library's utmp untouched, both log lines."""
    required(sandbox, f"backend=utmps {SOCKETS}")
    line = tty.removeprefix("/dev/")
    items = f"-I tty={tty} -I rhost=client.example"
    script = (f"pamtester {items} svc root open_session && "
              f"{SYSTEM_PYTHON} -c \"$LIST\" && "
              f"pamtester {items} svc root close_session")
    result = sandbox.run(["sh", "-c", script], env={**os.environ, "LIST": LIST})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"7 root {line} {line[-4:]} client.example" in result.stdout.splitlines()

    assert daemon_file(daemons.utmp) == [(8, "", line, line[-4:], "")]
    assert daemon_file(daemons.wtmp) == [(7, "root", line, line[-4:], "client.example"),
                                         (8, "", line, line[-4:], "")]
    assert "client.example" in reader(sandbox, "lastlog", "-u", "root")
    assert sandbox.utmp.read_bytes() == b""
    logged = sandbox.our_syslog()
    assert sum("session opened" in text and f"line={line}" in text for text in logged) == 1
    assert sum("session closed" in text and f"line={line}" in text for text in logged) == 1


def test_tty_less_session_opened_and_closed_in_one_process(sandbox: Sandbox,
                                                           daemons: Daemons) -> None:
    """open_session and close_session in one pamtester without a tty: slot P000 "svc/0"
    written and closed through utmpd, its wtmp pair through wtmpd."""
    required(sandbox, f"backend=utmps {SOCKETS} nolastlog")
    result = sandbox.run(["pamtester", "svc", "root", "open_session", "close_session"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert daemon_file(daemons.utmp) == [(8, "", "svc/0", "P000", "")]
    assert [(r[0], r[2]) for r in daemon_file(daemons.wtmp)] == [(7, "svc/0"), (8, "svc/0")]


def test_auto_finds_the_daemons_at_their_default_sockets(sandbox: Sandbox,
                                                         daemons: Daemons) -> None:
    """With no backend option, a machine with /run/utmps/.utmpd-socket gets its records
    through the daemons, not the C library's files."""
    sandbox.service("svc", sandbox.module_line("nolastlog", control="required"))
    result = sandbox.run(["pamtester", "svc", "root", "open_session", "close_session"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert [r[0] for r in daemon_file(daemons.wtmp)] == [7, 8]
    assert sandbox.utmp.read_bytes() == b"" and sandbox.wtmp.stat().st_size == 800


@pytest.mark.parametrize("groups", ["--clear-groups", f"--groups={UTMP_GID}"])
def test_a_service_without_egid_utmp_gets_session_err_and_the_fix(
        sandbox: Sandbox, daemons: Daemons, groups: str, shared_dir: Path) -> None:
    """A service running as nobody:nogroup (group utmp only supplementary, or not at
    all) is refused by utmpd: PAM_SESSION_ERR and a log line naming the fix; wtmpd
    still takes the login of its own user."""
    loadable_by_anyone(sandbox, shared_dir)
    required(sandbox, f"backend=utmps {SOCKETS} nolastlog")
    result = sandbox.run(["setpriv", "--reuid=65534", "--regid=65534", groups,
                          "pamtester", "svc", "nobody", "open_session"])
    assert result.returncode == 1 and SESSION_ERR in result.stderr, result.stderr
    refusals = [text for text in sandbox.our_syslog() if "[Errno 1]" in text]
    assert len(refusals) == 1
    assert "utmpd refused the write: needs root or effective group utmp (chgrp utmp PROG; " \
           "chmod g+s PROG, or run it under s6-setuidgid)" in refusals[0]
    assert daemon_file(daemons.utmp) == []
    assert [r[:2] for r in daemon_file(daemons.wtmp)] == [(7, "nobody")]


def test_a_service_with_egid_utmp_writes_utmp(sandbox: Sandbox, daemons: Daemons,
                                              shared_dir: Path) -> None:
    """The same service run with effective group utmp (as a setgid-utmp program would
    be) gets its utmp slot and wtmp login: PAM_SUCCESS."""
    loadable_by_anyone(sandbox, shared_dir)
    required(sandbox, f"backend=utmps {SOCKETS} nolastlog")
    result = sandbox.run(["setpriv", "--reuid=65534", f"--regid={UTMP_GID}",
                          "--clear-groups", "pamtester", "svc", "nobody", "open_session"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert [(r[0], r[1], r[2]) for r in daemon_file(daemons.utmp)] == [(7, "nobody", "svc/0")]
    assert [r[:2] for r in daemon_file(daemons.wtmp)] == [(7, "nobody")]


def test_daemons_that_are_down_give_session_err_and_lastlog_still_written(
        sandbox: Sandbox) -> None:
    """No daemons at the configured sockets: the open fails fast with PAM_SESSION_ERR,
    one log line for utmpd and one for wtmpd, and lastlog is written all the same."""
    required(sandbox, f"backend=utmps {SOCKETS}")
    start = time.monotonic()
    result = sandbox.run(["pamtester", "-I", "rhost=client.example", "svc", "root",
                          "open_session"])
    assert time.monotonic() - start < WAIT
    assert result.returncode == 1 and SESSION_ERR in result.stderr, result.stderr
    errors = [text for text in sandbox.our_syslog() if "[Errno 2]" in text]
    assert [("utmpd:" in text, "wtmpd:" in text) for text in errors] == [(True, False),
                                                                        (False, True)]
    assert "client.example" in reader(sandbox, "lastlog", "-u", "root")


def test_hung_daemons_cost_a_login_at_most_their_timeouts(sandbox: Sandbox,
                                                          daemons: Daemons) -> None:
    """Both daemons stopped (SIGSTOP) and utmps_timeout=1: pamtester's open returns
    PAM_SESSION_ERR after about two timeouts (utmpd's and wtmpd's; bounded with a wide
    margin), logging each timeout; lastlog is written."""
    required(sandbox, f"backend=utmps {SOCKETS} utmps_timeout=1")
    daemons.stop()
    start = time.monotonic()
    result = sandbox.run(["pamtester", "-I", "rhost=client.example", "svc", "root",
                          "open_session"])
    elapsed = time.monotonic() - start
    assert result.returncode == 1 and SESSION_ERR in result.stderr, result.stderr
    assert elapsed < 2 * 1 + 10, elapsed
    timeouts = [text for text in sandbox.our_syslog() if "no answer within 1 s" in text]
    assert [("utmpd:" in text, "wtmpd:" in text) for text in timeouts] == [(True, False),
                                                                          (False, True)]
    assert "client.example" in reader(sandbox, "lastlog", "-u", "root")

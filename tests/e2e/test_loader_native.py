"""pam_pyutmp.so, the loader that keeps one Python per process, in the hosts
that break pam_python.so or that it was built for: C programs that fork or run
threads (tests/e2e/pam_host.c), Python programs calling libpam through plain
ctypes.CDLL, a host that runs another Python, and session code that fails.
Everything runs in the sandbox, through real libpam."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from pam_pyutmp import databases

from .sandbox import (
    DEAD_PROCESS,
    USER_PROCESS,
    Sandbox,
    build_host,
    build_native_module,
    closed,
    db_rows,
    dump,
    last_sessions,
    reader,
)
from .test_python_pam import STACK, drive

SESSION_ERR = "Cannot make/remove an entry for the specified session"
PAM_SYSTEM_ERR = 4
PAM_SESSION_ERR = 14
# waitpid statuses of a child that hung: ended by pam_host's alarm(), or killed
# by its bounded wait when it hung inside fork() itself
HUNG_STATUSES = (14, 9)


@dataclass(frozen=True)
class Hosts:
    """pam_host built twice: as is, and claiming to run Python 3.99."""

    plain: Path
    fake_python: Path


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A directory every user may read, for programs and modules built here."""
    path = Path(tempfile.mkdtemp(prefix="pyutmp-hosts-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


@pytest.fixture(scope="module")
def hosts(scratch: Path) -> Hosts:
    return Hosts(build_host(scratch / "pam_host"),
                 build_host(scratch / "pam_host_fake", "-DFAKE_PYTHON", "-rdynamic"))


@pytest.fixture
def box(tmp_path: Path, native_module: Path) -> Sandbox:
    """A sandbox whose module line loads pam_pyutmp.so; service "svc" runs it, required."""
    sandbox = Sandbox.create(tmp_path / "sandbox", "native", native_module)
    sandbox.service("svc", sandbox.module_line(control="required"))
    return sandbox


def host_json(box: Sandbox, argv: list[str | Path], env: dict[str, str] | None = None,
              timeout: float = 300) -> dict:
    result = box.run([str(arg) for arg in argv], env=env, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def ok(session: dict) -> bool:
    return session == {"start": 0, "open": 0, "close": 0, "end": 0}


def opened_and_closed(box: Sandbox) -> tuple[int, int]:
    ours = box.our_syslog()
    return (sum("session opened" in line for line in ours),
            sum("session closed" in line for line in ours))


def test_a_host_that_forks_after_open_closes_the_session_in_the_child(
        box: Sandbox, hosts: Hosts, tty: str) -> None:
    """A C host opens a session, forks, and the child closes it and ends PAM while the parent
    only ends PAM: the child's Python works, and last shows one closed session."""
    env = {**os.environ, "PAM_HOST_TTY": tty}
    out = host_json(box, [hosts.plain, "fork", "svc", "root"], env)

    assert out["session"] == {"start": 0, "open": 0, "close": -1, "end": 0}, out
    assert (out["child_close"], out["child_end"], out["child_status"]) == (0, 0, 0), out
    (session,) = last_sessions(box)
    assert session[:2] == ["root", tty.removeprefix("/dev/")] and closed(session), session
    assert [r.type for r in dump(box, "/var/run/utmp")] == [DEAD_PROCESS]
    assert opened_and_closed(box) == (1, 1)


def test_two_threads_opening_sessions_at_once_both_succeed(box: Sandbox, hosts: Hosts) -> None:
    """Two threads of a fresh C host open and close sessions at the same moment, so both may
    start Python: in ten such hosts every session succeeds and is recorded once."""
    for _ in range(10):
        out = host_json(box, [hosts.plain, "threads", "2", "svc", "root"])
        assert all(ok(session) for session in out["sessions"]), out

    wtmp = dump(box, "/var/log/wtmp")
    assert sorted(r.type for r in wtmp) == [USER_PROCESS] * 20 + [DEAD_PROCESS] * 20
    assert all(r.type == DEAD_PROCESS for r in dump(box, "/var/run/utmp"))
    assert opened_and_closed(box) == (20, 20)


def test_forks_while_another_thread_runs_python_give_children_that_work(
        box: Sandbox, hosts: Hosts) -> None:
    """A C host forks twenty times while another of its threads opens and closes sessions
    without pause: every child runs a whole session and exits; none hangs on a lock (GIL,
    import lock, utmp lock) that the busy thread held at the fork."""
    out = host_json(box, [hosts.plain, "fork-busy", "20", "svc", "root"])

    assert ok(out["first"]), out
    assert not set(HUNG_STATUSES) & set(out["children"]), f"a child hung: {out}"
    assert out["children"] == [0] * 20, out
    assert out["worker"]["open"] == out["worker"]["close"] == 0 and out["worker_rounds"] > 0


def test_python_pam_through_plain_cdll_opens_and_closes_a_session(box: Sandbox) -> None:
    """python-pam with its stock ctypes.CDLL binding (the GIL released around libpam) runs the
    module in the host's own interpreter: the session is recorded and closed, no crash."""
    box.service("svc", STACK + box.module_line())
    result = drive(box, gil_safe=False)

    assert result.returncode == 0, result.stderr
    said = {words[0]: words[1:] for words in map(str.split, result.stdout.splitlines()) if words}
    assert said["open"] == said["close"] == said["end"] == ["0"], result.stdout
    line = said["tty"][0].removeprefix("/dev/")
    assert said["who"][:2] == ["root", line], result.stdout
    (session,) = last_sessions(box)
    assert session[:3] == ["root", line, "192.0.2.9"] and closed(session), session


def test_a_host_running_another_python_gets_session_err_and_a_log_line(
        box: Sandbox, hosts: Hosts) -> None:
    """In a host that already runs Python 3.99, open and close fail cleanly with
    PAM_SESSION_ERR and say why in syslog; nothing is written and nothing crashes."""
    out = host_json(box, [hosts.fake_python, "fork", "svc", "root"])

    assert out["session"]["open"] == PAM_SESSION_ERR, out
    assert out["child_close"] == PAM_SESSION_ERR and out["child_status"] == 0, out
    said = [line for line in box.syslog() if "pam_pyutmp(svc:session)" in line]
    assert len(said) == 2 and all("the host runs Python 3.99.0" in line for line in said), said
    assert reader(box, "utmpdump", "/var/log/wtmp") == ""


def test_a_step_that_raises_is_system_err_and_costs_no_other_record(
        box: Sandbox, hosts: Hosts, tty: str) -> None:
    """One step of the session code raises (another tool left a lastlog2 row whose time the
    C library cannot show in "Last login"): the C host gets PAM_SYSTEM_ERR and one log line
    naming the error, and does not crash; utmp, wtmp, wtmpdb and lastlog2 have the login all
    the same, and the close in the same transaction ends the session everywhere."""
    wtmpdb, lastlog2 = box.root / "db" / "wtmp.db", box.root / "db" / "lastlog2.db"
    lastlog2.parent.mkdir()
    with closing(sqlite3.connect(lastlog2)) as conn, conn:
        conn.execute(databases.LASTLOG2_TABLE)
        conn.execute("INSERT INTO Lastlog2 VALUES ('root', ?, 'pts/0', '', 'other')", (2**62,))
    box.service("svc", box.module_line(f"nolastlog wtmpdb={wtmpdb} lastlog2={lastlog2}",
                                       control="required"))

    out = host_json(box, [hosts.plain, "session", "svc", "root"],
                    {**os.environ, "PAM_HOST_TTY": tty})

    session, said = out["session"], box.our_syslog()
    # close_session's own code is libpam's: it reuses the chain open_session froze, in which
    # this required module failed.  That the module's close ran is in the log and the files.
    assert (session["start"], session["open"], session["end"]) == (0, PAM_SYSTEM_ERR, 0), out
    errors = [line for line in said if line.startswith("<83>")]  # authpriv.err
    assert len(errors) == 1 and "open_session: internal error OSError" in errors[0], said
    assert any("session closed:" in line for line in said), said
    line = tty.removeprefix("/dev/")
    assert [(r.type, r.line) for r in dump(box, "/var/log/wtmp")] == [
        (USER_PROCESS, line), (DEAD_PROCESS, line)]
    assert [r.type for r in dump(box, "/var/run/utmp")] == [DEAD_PROCESS]
    assert db_rows(wtmpdb, "SELECT User, TTY, Logout IS NOT NULL FROM wtmp") == [
        ("root", line, 1)]
    ((name, lastlog2_line, when),) = db_rows(lastlog2, "SELECT Name, TTY, Time FROM Lastlog2")
    assert (name, lastlog2_line) == ("root", line), name
    assert isinstance(when, int) and abs(time.time() - when) < 600, when


def module_running(directory: Path, native_source: str) -> Path:
    """pam_pyutmp.so built for a package in ``directory`` whose pam_pyutmp.native is
    ``native_source``."""
    package = directory / "pam_pyutmp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "native.py").write_text(native_source)
    # Named as installed: libpam names the module in its log lines by the file name.
    return build_native_module(directory / "pam_pyutmp.so", "--package-dir", str(directory))


BROKEN_PACKAGES = {
    "raises": ('def open_session(pamh, flags, argc, argv):\n'
               '    raise RuntimeError("boom \\x1b[2J")\n', "RuntimeError: boom ?[2J"),
    "returns_no_code": ('def open_session(pamh, flags, argc, argv):\n'
                        '    return "yes"\n', "returned no PAM code"),
    "fails_to_import": ('import no_such_module_anywhere\n',
                        "ModuleNotFoundError: No module named 'no_such_module_anywhere'"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN_PACKAGES))
def test_python_failures_become_session_err_and_syslog_lines(
        box: Sandbox, scratch: Path, kind: str) -> None:
    """Session code that raises, returns no PAM code or cannot be imported gives
    PAM_SESSION_ERR and the reason (a traceback, control characters made '?') in syslog,
    never a crash or a traceback on the host's stderr."""
    source, expected = BROKEN_PACKAGES[kind]
    module = module_running(scratch / f"broken-{kind}", source)
    box.service("svc", f"session required {module}\n")

    result = box.run(["pamtester", "-v", "svc", "root", "open_session"])

    assert result.returncode == 1 and SESSION_ERR in result.stderr, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    said = [line for line in box.syslog() if "pam_pyutmp(svc:session): open_session:" in line]
    assert any(line.endswith(expected) for line in said), said
    assert all("\x1b" not in line for line in box.syslog())


ISOLATION_PROBE = '''\
import json, sys, warnings
def open_session(pamh, flags, argc, argv):
    with open("/run/facts.json", "w") as out:
        json.dump({"path": sys.path, "flags": [sys.flags.isolated, sys.flags.no_site,
                   sys.flags.ignore_environment, sys.flags.no_user_site],
                   "site": "site" in sys.modules, "executable": sys.executable,
                   "prefix": sys.prefix, "utf8": sys.flags.utf8_mode,
                   "stdio": [sys.stdout is None, sys.stderr is None]}, out)
    warnings.warn("probe-warning", RuntimeWarning)
    print("probe-print")
    return 0
def close_session(pamh, flags, argc, argv):
    return 0
'''


def test_embedded_python_is_isolated_from_the_host(box: Sandbox, hosts: Hosts,
                                                   scratch: Path) -> None:
    """Python started by the module ignores the host's PYTHON* variables, imports no site,
    has the system interpreter's prefix and the sys.path fixed at build time, writes no .pyc,
    writes nothing to the host's stdout or stderr (not a warning, not a print), and leaves the
    host's SIGINT, SIGPIPE and SIGXFSZ handling and its locale alone."""
    module = module_running(scratch / "probe", ISOLATION_PROBE)
    package = module.parent / "pam_pyutmp"
    box.service("svc", f"session required {module}\n")
    # For the host alone: the sandbox's own helpers run Python too.
    env = ["env", "PYTHONPATH=/from-the-environment", "PYTHONHOME=/nowhere",
           "PYTHONUSERBASE=/from-the-environment", "PYTHONDONTWRITEBYTECODE="]

    result = box.run([*env, str(hosts.plain), "isolation", "svc", "root"])

    assert result.returncode == 0, result.stdout + result.stderr
    assert "probe-" not in result.stdout + result.stderr, result.stdout + result.stderr
    out = json.loads(result.stdout)
    assert ok(out["session"]), out
    assert out["sigint_kept"] and out["sigpipe_kept"] and out["sigxfsz_kept"], out
    assert out["locale_kept"], out
    facts = json.loads((box.root / "run" / "facts.json").read_text())
    assert facts["flags"] == [1, 1, 1, 1] and not facts["site"] and facts["utf8"] == 1, facts
    assert facts["executable"] == "/usr/bin/python3" and facts["prefix"] == "/usr", facts
    assert facts["stdio"] == [True, True], facts
    assert str(package.parent) in facts["path"], facts
    assert not [entry for entry in facts["path"] if "from-the-environment" in entry
                or "site-packages" in entry or "/root/" in entry], facts
    assert not (package / "__pycache__").exists()


def test_rss_stays_flat_over_10000_sessions(box: Sandbox, hosts: Hosts, tty: str) -> None:
    """A C host running 10,000 pam_start..open..close..pam_end cycles grows by less than 1 MB
    after its first 100: Python is started once, and nothing is kept per transaction."""
    env = {**os.environ, "PAM_HOST_TTY": tty}
    out = host_json(box, [hosts.plain, "cycles", "10000", "svc", "root"], env, timeout=900)

    assert out["failed"] == 0 and out["messages"] == 9999, out  # "Last login", from the 2nd on
    growth = out["rss_kb_end"] - out["rss_kb_after_100"]
    assert growth < 1024, out

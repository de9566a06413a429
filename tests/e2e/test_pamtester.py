"""pamtester drives real libpam and the installed module, through each loader."""

from __future__ import annotations

import os

from .sandbox import Sandbox, closed, last_sessions, reader


def test_open_writes_utmp_wtmp_lastlog_and_close_pairs_them(sandbox: Sandbox) -> None:
    """An open/close through pamtester leaves a closed pair in last and the login in lastlog."""
    sandbox.service("svc", sandbox.module_line())
    master, slave = os.openpty()
    tty = os.ttyname(slave)
    try:
        result = sandbox.run(["pamtester", "-v", "-I", f"tty={tty}", "-I",
                              "rhost=client.example", "svc", "root",
                              "open_session", "close_session"])
    finally:
        os.close(master)
        os.close(slave)
    assert result.returncode == 0, result.stdout + result.stderr
    assert reader(sandbox, "who", "/run/utmp") == ""
    (session,) = last_sessions(sandbox)
    assert session[:3] == ["root", tty.removeprefix("/dev/"), "client.example"], session
    assert closed(session), session
    assert "client.example" in reader(sandbox, "lastlog", "-u", "root")
    opened = [line for line in sandbox.our_syslog() if "session opened" in line]
    assert len(opened) == 1 and "user=root" in opened[0] and "service=svc" in opened[0]


def test_open_session_is_listed_by_who(sandbox: Sandbox) -> None:
    """After an open without a close, who lists the session on its tty with its host."""
    sandbox.service("svc", sandbox.module_line())
    master, slave = os.openpty()
    tty = os.ttyname(slave)
    script = f"pamtester -I tty={tty} -I rhost=192.0.2.4 svc root open_session && who /run/utmp"
    try:
        result = sandbox.run(["sh", "-c", script])
    finally:
        os.close(master)
        os.close(slave)
    assert result.returncode == 0, result.stderr
    listed = [line.split() for line in result.stdout.splitlines() if line.startswith("root ")]
    assert listed and listed[0][1] == tty.removeprefix("/dev/") and listed[0][-1] == "(192.0.2.4)"


def test_the_module_twice_in_one_stack_records_one_session(sandbox: Sandbox) -> None:
    """A service that has the module twice (its own include and a system-wide line): one
    closed pair in last, one login in lastlog, one notice line that names the cause."""
    sandbox.service("common-session", sandbox.module_line())
    sandbox.service("svc", sandbox.module_line() + "@include common-session\n")
    result = sandbox.run(["pamtester", "-v", "svc", "root", "open_session", "close_session"])
    assert result.returncode == 0, result.stdout + result.stderr
    (session,) = last_sessions(sandbox)
    assert session[:2] == ["root", "svc/0"] and closed(session), session
    ours = sandbox.our_syslog()
    assert sum("module runs twice in this PAM stack" in line for line in ours) == 1, ours
    assert sum("session opened" in line for line in ours) == 1, ours
    assert sum("session closed" in line for line in ours) == 1, ours

"""pamtester drives real libpam and pam_python.so with the installed module."""

from __future__ import annotations

from .sandbox import Sandbox, reader

OPEN_CLOSE = ["open_session", "close_session"]


def pamtester(box: Sandbox, *ops: str, tty: str = "", rhost: str = "", user: str = "root"):
    items = []
    if tty:
        items += ["-I", f"tty={tty}"]
    if rhost:
        items += ["-I", f"rhost={rhost}"]
    return box.run(["pamtester", "-v", *items, "svc", user, *ops])


def test_open_writes_utmp_wtmp_lastlog_and_close_pairs_them(sandbox: Sandbox) -> None:
    """An open/close through pamtester leaves a closed pair in last and the login in lastlog."""
    sandbox.service("svc", sandbox.module_line())
    result = pamtester(sandbox, *OPEN_CLOSE, rhost="client.example")
    assert result.returncode == 0, result.stdout + result.stderr
    assert reader(sandbox, "who", "/var/run/utmp") == ""
    wtmp = reader(sandbox, "utmpdump", "/var/log/wtmp")
    assert wtmp.count("[7] [") == 1 and wtmp.count("[8] [") == 1, wtmp
    assert "client.example" in reader(sandbox, "lastlog", "-u", "root")
    opened = [line for line in sandbox.our_syslog() if "session opened" in line]
    assert len(opened) == 1 and "user=root" in opened[0] and "service=svc" in opened[0]

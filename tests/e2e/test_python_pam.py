"""python-pam, in-process in a Python host, drives libpam and the module (each loader)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .sandbox import Sandbox, closed, last_sessions, reader

DRIVER = '''
import ctypes, os, subprocess, sys
sys.path.insert(0, {here!r})
import pam
from pam.__internals import PAM_RHOST, PAM_TTY
from gil_safe_pam import hold_gil_in_libpam
if {gil_safe!r}:
    hold_gil_in_libpam()
master, slave = os.openpty()
p = pam.PamAuthenticator()
assert p.authenticate("root", "", service="svc", call_end=False), p.reason
p.pam_set_item(p.handle, PAM_TTY, ctypes.c_char_p(os.ttyname(slave).encode()))
p.pam_set_item(p.handle, PAM_RHOST, ctypes.c_char_p(b"192.0.2.9"))
print("open", p.open_session())
print("who", subprocess.run(["who", "/run/utmp"], capture_output=True, text=True).stdout)
print("close", p.close_session())
print("end", p.end())
print("tty", os.ttyname(slave))
'''

STACK = "auth required pam_permit.so\naccount required pam_permit.so\n"


def drive(box: Sandbox, gil_safe: bool):
    code = DRIVER.format(here=str(Path(__file__).parent), gil_safe=gil_safe)
    return box.run([sys.executable, "-c", code])


def test_python_pam_with_gil_held_opens_and_closes_a_session(sandbox: Sandbox) -> None:
    """Through PyDLL, python-pam opens and closes a session recorded in utmp and wtmp."""
    sandbox.service("svc", STACK + sandbox.module_line())
    result = drive(sandbox, gil_safe=True)
    assert result.returncode == 0, result.stderr
    said = {words[0]: words[1:] for words in map(str.split, result.stdout.splitlines()) if words}
    assert said["open"] == said["close"] == said["end"] == ["0"]
    line = said["tty"][0].removeprefix("/dev/")
    assert said["who"][:2] == ["root", line] and said["who"][-1] == "(192.0.2.9)"
    assert reader(sandbox, "who", "/run/utmp") == ""
    (session,) = last_sessions(sandbox)
    assert session[:3] == ["root", line, "192.0.2.9"] and closed(session), session
    assert "192.0.2.9" in reader(sandbox, "lastlog", "-u", "root")


@pytest.mark.parametrize("loader", ["pam_python"])  # pam_pyutmp.so takes the GIL itself
def test_python_pam_through_plain_cdll_crashes_without_the_fix(sandbox: Sandbox) -> None:
    """The stock CDLL binding crashes the host: the fix above is what makes the test possible."""
    sandbox.service("svc", STACK + sandbox.module_line())
    result = drive(sandbox, gil_safe=False)
    assert result.returncode != 0

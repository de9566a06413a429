"""python-pam, in-process in a Python host, drives libpam and pam_python.so."""

from __future__ import annotations

import sys
from pathlib import Path

from .sandbox import Sandbox, reader

DRIVER = '''
import ctypes, sys
sys.path.insert(0, {here!r})
import pam
from pam.__internals import PAM_RHOST
from gil_safe_pam import hold_gil_in_libpam
if {gil_safe!r}:
    hold_gil_in_libpam()
p = pam.PamAuthenticator()
assert p.authenticate("root", "", service="svc", call_end=False), p.reason
p.pam_set_item(p.handle, PAM_RHOST, ctypes.c_char_p(b"192.0.2.9"))
print("open", p.open_session())
print("close", p.close_session())
print("end", p.end())
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
    assert result.stdout.split() == ["open", "0", "close", "0", "end", "0"]
    dump = reader(sandbox, "utmpdump", "/var/log/wtmp")
    assert dump.count("[7] [") == 1 and dump.count("[8] [") == 1, dump
    assert "192.0.2.9" in dump
    assert reader(sandbox, "who", "/var/run/utmp") == ""


def test_python_pam_through_plain_cdll_crashes_without_the_fix(sandbox: Sandbox) -> None:
    """The stock CDLL binding crashes the host: the fix above is what makes the test possible."""
    sandbox.service("svc", STACK + sandbox.module_line())
    result = drive(sandbox, gil_safe=False)
    assert result.returncode != 0

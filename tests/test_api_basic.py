"""The library API writes records the stock readers understand."""

from __future__ import annotations

import errno
import subprocess
import time

import pytest

import pam_pyutmp
from pam_pyutmp import system, utmpfile
from pam_pyutmp.system import DEAD_PROCESS, USER_PROCESS


def who(path: object) -> str:
    return subprocess.run(["who", str(path)], check=True, capture_output=True, text=True).stdout


def test_put_then_unput_shows_then_hides_session_in_who(acct) -> None:
    """who lists a live session with user, line and host, and drops it after unput."""
    entry = pam_pyutmp.put_utmp("root", "/dev/pts/7", "192.0.2.7", **acct.paths)
    listed = who(acct.utmp).split()
    assert listed[:2] == ["root", "pts/7"] and listed[-1] == "(192.0.2.7)"
    assert pam_pyutmp.unput_utmp(entry) is True
    assert who(acct.utmp) == ""


def test_unput_marks_the_same_slot_dead(acct) -> None:
    """The logout reuses the login's slot: same line and id, no new slot."""
    entry = pam_pyutmp.put_utmp("root", "pts/3", **acct.paths)
    pam_pyutmp.unput_utmp(entry)
    slots = utmpfile.read(str(acct.utmp))
    assert [(s.type, s.line, s.id) for s in slots] == [(DEAD_PROCESS, "pts/3", "ts/3")]
    wtmp = list(utmpfile.iter_wtmp(str(acct.wtmp)))
    assert [(r.type, r.line, r.user) for r in wtmp] == [
        (USER_PROCESS, "pts/3", "root"),
        (DEAD_PROCESS, "pts/3", ""),
    ]


def test_package_under_test_is_the_installed_one() -> None:
    """Tests exercise the package as installed for the system interpreter, as PAM loads it."""
    assert "/dist-packages/" in pam_pyutmp.__file__ or "/site-packages/" in pam_pyutmp.__file__



def test_the_last_second_a_record_holds_is_the_c_librarys(acct, readers) -> None:
    """The last second of the C library's time field (January 2038 where glibc keeps it
    signed, February 2106 where it is unsigned) is written and read back by the stock
    reader as that date; one second later raises EOVERFLOW naming the date and writes
    nothing."""
    last = system.UTMP_TIME_MAX
    assert last in (2**31 - 1, 2**32 - 1)
    entry = pam_pyutmp.put_utmp("root", "pts/4", **acct.paths)
    utmpfile.append_wtmp(str(acct.wtmp), entry.record._replace(tv_sec=last, tv_usec=0))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(last))
    assert readers.utmpdump(acct.wtmp).decode().splitlines()[-1].endswith(
        f"[{stamp},000000+00:00]")

    before = acct.wtmp.read_bytes()
    with pytest.raises(pam_pyutmp.WtmpError) as raised:
        utmpfile.append_wtmp(str(acct.wtmp), entry.record._replace(tv_sec=last + 1, tv_usec=0))
    assert raised.value.errno == errno.EOVERFLOW and stamp[:4] in str(raised.value)
    assert acct.wtmp.read_bytes() == before


def test_every_public_name_is_exported() -> None:
    """The lazily imported public names are exactly __all__, and each resolves."""
    assert sorted(pam_pyutmp.__all__) == sorted(pam_pyutmp._PUBLIC)
    for name in pam_pyutmp.__all__:
        assert getattr(pam_pyutmp, name) is not None

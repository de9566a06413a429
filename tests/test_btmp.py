"""Failed logins: btmp records (the API and an "authfail" auth line through the PAM
layer, with a stand-in handle) and pam_lastlog's showfailed lines at the next login."""

from __future__ import annotations

import grp
import os
import stat
import time
from pathlib import Path

import pytest
from pamfakes import handle
from stockreaders import wait_past

import pam_pyutmp
from pam_pyutmp import pam, utmpfile
from pam_pyutmp.errors import BtmpError
from pam_pyutmp.system import LOGIN_PROCESS, UTMPX_SIZE


def btmp_args(acct, *extra: str) -> list[str]:
    return [f"utmp={acct.utmp}", f"wtmp={acct.wtmp}", f"lastlog={acct.lastlog}",
            f"btmp={acct.root / 'btmp'}", *extra]


def records(path: Path) -> list[tuple[int, str, str, str]]:
    return [(r.type, r.user, r.line, r.host) for r in utmpfile.iter_wtmp(str(path))]


def test_a_missing_btmp_is_made_private_and_gets_one_whole_record(tmp_path: Path) -> None:
    """As util-linux login writes a failed attempt: LOGIN_PROCESS, the user, line and id,
    host and its address, pid and time; btmp, when missing, is made 0660 root:utmp."""
    btmp = tmp_path / "btmp"
    record = pam_pyutmp.put_btmp("root", "/dev/pts/7", "192.0.2.5", service="svc",
                                 btmp_path=btmp)
    assert records(btmp) == [(LOGIN_PROCESS, "root", "pts/7", "192.0.2.5")]
    (written,) = utmpfile.iter_wtmp(str(btmp))
    assert written == record and (written.id, written.pid) == ("ts/7", os.getpid())
    assert written.address == "192.0.2.5"
    st = btmp.stat()
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert (st.st_uid, st.st_gid) == (0, grp.getgrnam("utmp").gr_gid)


def test_a_btmp_others_may_read_is_refused_and_left_alone(tmp_path: Path) -> None:
    """btmp holds what was typed as a user name, passwords too: one that every user may
    read gets nothing more, and the error says how to fix it."""
    btmp = tmp_path / "btmp"
    btmp.write_bytes(b"")
    btmp.chmod(0o644)
    with pytest.raises(BtmpError) as refused:
        pam_pyutmp.put_btmp("root", "", "", service="svc", btmp_path=btmp)
    assert "chmod 0660" in str(refused.value)
    assert btmp.read_bytes() == b"" and stat.S_IMODE(btmp.stat().st_mode) == 0o644


def test_a_torn_tail_is_cut_before_the_record(tmp_path: Path) -> None:
    btmp = tmp_path / "btmp"
    pam_pyutmp.put_btmp("root", "", "", service="svc", btmp_path=btmp)
    with btmp.open("ab") as torn:
        torn.write(b"\x07" * 100)
    pam_pyutmp.put_btmp("root", "", "", service="svc", btmp_path=btmp)
    assert btmp.stat().st_size == 2 * UTMPX_SIZE
    assert [r[2] for r in records(btmp)] == ["svc", "svc"]  # no tty: the service's name


@pytest.mark.parametrize(("user", "options", "stored"), [
    ("root", (), "root"),
    ("no-such-user-xyz", (), "(unknown)"),
    (None, (), "(unknown)"),
    ("no-such-user-xyz", ("typed_names",), "no-such-user-xyz"),
    ("Secr\x1bt", ("typed_names",), "Secr?t"),
])
def test_an_authfail_line_records_the_attempt_under_the_accounts_name(
        acct, logs, user: str | None, options: tuple[str, ...], stored: str) -> None:
    """A name that is no account is stored (and logged) as "(unknown)": it may be a password
    typed one prompt too early; typed_names keeps it, cleaned.  Always PAM_IGNORE."""
    args = btmp_args(acct, "authfail", *options)
    h = handle(user=user, rhost="198.51.100.2")
    assert pam.auth_failed(h, 0, args) == pam.PAM_IGNORE
    assert records(acct.root / "btmp") == [(LOGIN_PROCESS, stored, "svc", "198.51.100.2")]
    (line,) = [line for line in logs.lines() if "failed login recorded" in line]
    if stored == "(unknown)" and user:
        assert user not in line


def test_without_authfail_or_in_a_skipped_service_nothing_is_recorded(acct, logs) -> None:
    for args in (btmp_args(acct), btmp_args(acct, "authfail", "skip_if=svc")):
        assert pam.auth_failed(handle(), 0, args) == pam.PAM_IGNORE
    assert not (acct.root / "btmp").exists()


def test_a_failing_btmp_is_a_log_line_and_still_ignore(acct, logs) -> None:
    args = ["authfail", f"btmp={acct.root}/no/such/dir/btmp"]
    assert pam.auth_failed(handle(), 0, args) == pam.PAM_IGNORE
    assert any("auth_failed: " in line and "cannot append to btmp" in line
               for line in logs.lines())


def test_showfailed_counts_the_failures_since_the_previous_login(acct, logs) -> None:
    """pam_lastlog's wording: the last failed attempt (date, host, line) and how many since
    the previous successful login; none at the login after that; silent, PAM_SILENT and
    nodate/nohost/noterm as for "Last login"."""
    session = btmp_args(acct, "showfailed")
    first = handle(key=1)
    assert pam.open_session(first, 0, session) == pam.PAM_SUCCESS
    assert pam.close_session(first, 0, session) == pam.PAM_SUCCESS
    for host in ("one.example", "two.example"):
        pam.auth_failed(handle(rhost=host), 0, btmp_args(acct, "authfail"))
    # Times are seconds, and an attempt in the second of the previous login counts
    # (as pam_lastlog counts): each step in a second of its own.
    wait_past(int(time.time()))

    quiet = handle(key=2)
    assert pam.open_session(quiet, pam.PAM_SILENT, session) == pam.PAM_SUCCESS
    assert quiet.shown == []
    pam.close_session(quiet, 0, session)
    wait_past(int(time.time()))
    pam.auth_failed(handle(rhost="three.example"), 0, btmp_args(acct, "authfail"))
    wait_past(int(time.time()))
    second = handle(key=3)
    assert pam.open_session(second, 0, session) == pam.PAM_SUCCESS
    assert second.shown[1].startswith("Last failed login: ")
    assert second.shown[1].endswith(" from three.example on svc")
    assert second.shown[2:] == ["There was 1 failed login attempt since the last successful "
                                "login."]
    pam.close_session(second, 0, session)
    wait_past(int(time.time()))

    third = handle(key=4)
    assert pam.open_session(third, 0, [*session, "nodate"]) == pam.PAM_SUCCESS
    assert [text for text in third.shown if "fail" in text] == []


def test_showfailed_says_were_for_more_than_one(acct, logs) -> None:
    session = btmp_args(acct, "showfailed", "nodate", "nohost")
    for host in ("one.example", "two.example"):
        pam.auth_failed(handle(rhost=host), 0, btmp_args(acct, "authfail"))
    first = handle()
    assert pam.open_session(first, 0, session) == pam.PAM_SUCCESS
    assert first.shown == ["Last failed login: on svc",
                           "There were 2 failed login attempts since the last successful login."]


def test_failed_since_reads_back_only_to_the_previous_login(tmp_path: Path) -> None:
    """btmp is read from its end and no further back than the first older record."""
    btmp = tmp_path / "btmp"
    old = pam_pyutmp.put_btmp("root", "", "old.example", service="svc", btmp_path=btmp)
    new = pam_pyutmp.put_btmp("root", "", "new.example", service="svc", btmp_path=btmp)
    pam_pyutmp.put_btmp("other", "", "", service="svc", btmp_path=btmp)
    assert utmpfile.failed_since(str(btmp), "root", new.tv_sec + 1) == (0, None)
    count, latest = utmpfile.failed_since(str(btmp), "root", old.tv_sec)
    assert (count, latest) == (2, new)


def test_files_the_module_makes_are_root_utmp_whatever_the_callers_group_and_umask(
        tmp_path: Path) -> None:
    """lastlog and btmp made by a login of su, which runs with the user's group and umask:
    still owner root, group utmp, 0664 and 0660, as Debian's base-files makes them."""
    tmp_path.chmod(0o777)
    pid = os.fork()
    if pid == 0:
        try:
            os.umask(0o077)
            os.setegid(65534)
            pam_pyutmp.put_lastlog_entry("su", "root", "pts/1", "", uid=0,
                                         lastlog_path=tmp_path / "lastlog")
            pam_pyutmp.put_btmp("root", "", "", service="su", btmp_path=tmp_path / "btmp")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    utmp_gid = grp.getgrnam("utmp").gr_gid
    for name, mode in (("lastlog", 0o664), ("btmp", 0o660)):
        st = (tmp_path / name).stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (mode, 0, utmp_gid), name

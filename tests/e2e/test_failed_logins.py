"""Failed logins through real libpam and pam_unix, with the module enabled system-wide as
`install.sh --enable system` enables it: the real pam-auth-update puts the profile's auth
line into the machine's own common-auth (after pam_unix, which jumps over it on success)
and its session line, with showfailed, into common-session.  Real util-linux su, run by an
ordinary user, and a web-terminal service driven through python-pam."""

from __future__ import annotations

import grp
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from stockreaders import HAVE_LASTB, NO_LASTB, READER_ENV, wait_past

from pam_pyutmp import utmpfile
from pam_pyutmp.records import Record
from pam_pyutmp.system import LOGIN_PROCESS

from .sandbox import Sandbox, Terminal, User, dump, shell_steps

PASSWORD = "right horse battery"
WEBTERM_HOST = "192.0.2.7"
# A web terminal's stack: the machine's common files, as most services have it.
WEBTERM = "@include common-auth\n@include common-account\n@include common-session\n"
# Dates as pam_lastlog prints them, in a zone the test knows.
ENV = {**{k: v for k, v in os.environ.items() if k not in ("PS1", "ENV", "DISPLAY")},
       "TZ": "UTC"}

# A web terminal: one PAM transaction per attempt, the peer's address set before
# pam_authenticate (python-pam sets only the tty, from stdin: none here), the session
# opened after a success.  python-pam's conversation dies with authenticate(), and libpam
# keeps only its address: the session gets one that lives on (as a host that opens
# sessions must give).  Prints, per attempt, whether it passed and what PAM said.
WEBTERM_DRIVER = '''
import ctypes, json, sys
import pam
from pam.__internals import PAM_RHOST, PamConv, conv_func, my_conv

PAM_CONV = 5

def attempt(user, password):
    p = pam.PamAuthenticator()
    authenticate = p.pam_authenticate

    def with_rhost(handle, flags):
        p.pam_set_item(handle, PAM_RHOST, ctypes.c_char_p(sys.argv[2].encode()))
        return authenticate(handle, flags)

    p.pam_authenticate = with_rhost
    passed = p.authenticate(user, password, service="webterm", call_end=False)
    said = []
    if passed:
        conversation = conv_func(lambda n, messages, responses, data: my_conv(
            n, messages, responses, p.libc, said, b"", "utf-8"))
        kept = PamConv(conversation, None)
        p.pam_set_item(p.handle, PAM_CONV, ctypes.addressof(kept))
        p.open_session()
        p.close_session()
    p.end()
    return {"passed": passed, "messages": said}

print(json.dumps([attempt(user, password) for user, password in json.loads(sys.argv[1])]))
'''


def webterm(box: Sandbox, *attempts: tuple[str, str]) -> list[dict[str, Any]]:
    """Each (user, password) attempt through the "webterm" service, in one process."""
    done = box.run([sys.executable, "-c", WEBTERM_DRIVER, json.dumps(attempts), WEBTERM_HOST],
                   env=ENV, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


@pytest.fixture
def system_wide(sandbox: Sandbox) -> Sandbox:
    """The machine's su and common-* files, the webterm service, and the profile enabled
    by the real pam-auth-update."""
    if shutil.which("pam-auth-update") is None:
        pytest.skip("pam-auth-update is not on this machine")
    sandbox.machine_services("su", "su-l")
    sandbox.service("webterm", WEBTERM)
    done = sandbox.enable_profile()
    assert done.returncode == 0, done.stdout + done.stderr
    if "Local modifications" in done.stderr:
        pytest.skip("this machine's common-* files have local changes pam-auth-update keeps")
    assert str(sandbox.native_module) in (sandbox.root / "pam.d" / "common-auth").read_text()
    return sandbox


@pytest.fixture
def target(system_wide: Sandbox) -> User:
    """A user with a password, the one su and the web terminal log in as."""
    return system_wide.add_user("pyutest", password=PASSWORD)


@pytest.fixture
def caller(system_wide: Sandbox, target: User) -> User:
    """An ordinary user, who runs su."""
    return system_wide.add_user("caller")


def su(box: Sandbox, caller: User, target: User, password: str,
       *after: list[str]) -> Terminal:
    """`su - TARGET` run by ``caller`` on a pty of its own, typing ``password``.  A login
    shell: without "-", util-linux su keeps PAM's informational messages to itself."""
    command = ["setpriv", f"--reuid={caller.uid}", f"--regid={caller.gid}", "--init-groups",
               "su", "-", target.name]
    steps = [["expect", "Password: "], ["send", f"{password}\n"], *after]
    return box.on_terminal(command, steps, env=ENV)


def btmp_records(box: Sandbox) -> list[Record]:
    return list(utmpfile.iter_wtmp(str(box.btmp)))


def failed_login_line(record: Record) -> str:
    """pam_lastlog's "Last failed login:" line for ``record`` (TZ=UTC)."""
    when = time.strftime("%a %b %e %H:%M:%S UTC %Y", time.gmtime(record.tv_sec))
    host = f" from {record.host}" if record.host else ""
    return f"Last failed login: {when}{host} on {record.line}"


def told_of_failures(output: str) -> list[str]:
    return [line for line in output.splitlines()
            if line.startswith(("Last failed login:", "There was ", "There were "))]


def debian_btmp(box: Sandbox) -> None:
    """btmp as Debian has it (0660 root:utmp): su appends to btmp only when it exists."""
    box.btmp.touch()
    os.chown(box.btmp, 0, utmp_gid())
    box.btmp.chmod(0o660)


def utmp_gid() -> int:
    return grp.getgrnam("utmp").gr_gid


_RULE = re.compile(r"^(\w+)\s+(\[[^]]*\]|\S+)\s+(\S+)\s*(.*)$")


def rules(path: Path) -> list[tuple[str, str, list[str]]]:
    """(control, module file name, options) of each line of a PAM file."""
    found = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            match = _RULE.match(line.strip())
            assert match, line
            _type, control, module, options = match.groups()
            found.append((control, os.path.basename(module), options.split()))
    return found


def test_pam_auth_update_puts_the_authfail_line_where_only_failures_reach_it(
        system_wide: Sandbox) -> None:
    """In the common-auth pam-auth-update writes, the auth line keeps "[default=ignore]" and
    sits among the primary modules after pam_unix, before pam_deny; every success jump
    above it lands past pam_deny, so a success never runs it and a failure always does."""
    auth = rules(system_wide.root / "pam.d" / "common-auth")
    names = [name for _control, name, _options in auth]
    unix, ours, deny = (names.index(name) for name in ("pam_unix.so", "pam_pyutmp.so",
                                                       "pam_deny.so"))
    assert unix < ours < deny, auth
    assert auth[ours][0] == "[default=ignore]", auth
    assert auth[ours][2] == ["authfail", "skip_if=su,su-l,login,sshd"], auth
    assert auth[deny][0] == "requisite", auth
    for n, (control, _name, _options) in enumerate(auth[:ours]):
        jump = re.search(r"success=(\d+)", control)
        assert jump is None or n + int(jump.group(1)) + 1 > deny, (n, auth)
    assert re.search(r"success=\d+", auth[unix][0]), auth
    session = rules(system_wide.root / "pam.d" / "common-session")
    assert ("optional", "pam_pyutmp.so", ["skip_if=sshd,login", "showfailed"]) in session


def test_su_with_a_wrong_password_leaves_sus_one_record_and_the_next_su_tells_of_it(
        system_wide: Sandbox, caller: User, target: User) -> None:
    """An ordinary user's su with a wrong password: one btmp record, su's own (the module's
    auth line skips su, which writes btmp itself); the next su, with the right password,
    shows "There was 1 failed login attempt" with that attempt's date and line; the one
    after it, nothing of the kind."""
    debian_btmp(system_wide)
    failed = su(system_wide, caller, target, "wrong password")
    assert failed.status != 0 and "Authentication failure" in failed.output, failed.output
    (record,) = btmp_records(system_wide)
    assert (record.type, record.user, record.line) == (LOGIN_PROCESS, target.name, failed.line)
    # pam_lastlog counts attempts at or after the previous login's second.
    wait_past(record.tv_sec)

    second = su(system_wide, caller, target, PASSWORD, *shell_steps("$ "))
    third = su(system_wide, caller, target, PASSWORD, *shell_steps("$ "))

    assert second.status == 0 and third.status == 0, second.output + third.output
    assert told_of_failures(second.output) == [
        failed_login_line(record),
        "There was 1 failed login attempt since the last successful login."], second.output
    assert told_of_failures(third.output) == [], third.output
    assert btmp_records(system_wide) == [record]
    assert not [line for line in system_wide.our_syslog() if "failed login" in line]
    listed = json.loads(pyutmp_lastb(system_wide, "--json"))["sessions"]
    assert [(s["user"], s["line"]) for s in listed] == [(target.name, failed.line)]


def test_webterm_records_each_failed_attempt_and_the_next_login_counts_them(
        system_wide: Sandbox, target: User) -> None:
    """Through python-pam, each failed attempt adds one btmp record (the user, the service's
    name for a line, the peer's address), made 0660 root:utmp where there was no btmp; the
    next successful login is told of both, as pam_lastlog tells."""
    assert not system_wide.btmp.exists()

    results = webterm(system_wide, (target.name, "wrong"), (target.name, "wrong again"),
                      (target.name, PASSWORD))

    assert [r["passed"] for r in results] == [False, False, True], results
    records = btmp_records(system_wide)
    assert [(r.type, r.user, r.line, r.host) for r in records] == [
        (LOGIN_PROCESS, target.name, "webterm", WEBTERM_HOST)] * 2
    assert dump(system_wide, "/var/log/btmp")[1].user == target.name  # a stock reader agrees
    messages = "\n".join(results[2]["messages"])
    assert told_of_failures(messages) == [
        failed_login_line(records[-1]),
        "There were 2 failed login attempts since the last successful login."], messages
    st = system_wide.btmp.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o660, 0, utmp_gid())
    recorded = [line for line in system_wide.our_syslog() if "failed login recorded" in line]
    assert len(recorded) == 2, system_wide.our_syslog()


def test_a_name_that_is_no_account_is_stored_as_unknown(system_wide: Sandbox) -> None:
    """pam_unix fails for a name that is no account (it may be a password typed one prompt
    too early): the record holds "(unknown)", never the name."""
    (result,) = webterm(system_wide, ("Secret-typed-too-early", "x"))

    assert result["passed"] is False
    assert [(r.user, r.line) for r in btmp_records(system_wide)] == [("(unknown)", "webterm")]
    assert "Secret-typed-too-early" not in system_wide.btmp.read_bytes().decode("latin-1")
    assert not [line for line in system_wide.syslog() if "Secret-typed" in line
                and " pam_pyutmp[" in line]


@pytest.mark.parametrize("mode", [0o600, 0o644], ids=["0600", "0644"])
def test_btmp_is_never_widened(system_wide: Sandbox, target: User, mode: int) -> None:
    """A btmp only root may read keeps its mode and gets the record; one that others may
    read gets none, and a log line says how to fix it."""
    system_wide.btmp.write_bytes(b"")
    system_wide.btmp.chmod(mode)

    webterm(system_wide, (target.name, "wrong"))

    assert stat.S_IMODE(system_wide.btmp.stat().st_mode) == mode
    count = len(btmp_records(system_wide))
    if mode == 0o600:
        assert count == 1
    else:
        assert count == 0
        assert [line for line in system_wide.our_syslog() if "chmod 0660" in line]


def pyutmp_lastb(box: Sandbox, *options: str) -> str:
    done = box.run(["pyutmp", "lastb", *options, "-f", "/var/log/btmp"], env=READER_ENV)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not HAVE_LASTB, reason=NO_LASTB)
def test_lastb_and_pyutmp_lastb_print_the_same_of_sus_and_the_modules_records(
        system_wide: Sandbox, caller: User, target: User) -> None:
    """btmp with su's record of a failed su and the module's of two failed web-terminal
    attempts: util-linux `lastb -f` and `pyutmp lastb -f` print the same bytes."""
    debian_btmp(system_wide)
    su(system_wide, caller, target, "wrong password")
    webterm(system_wide, (target.name, "wrong"), ("no-such-account", "x"))
    assert len(btmp_records(system_wide)) == 3

    for options in ([], ["-w", "--time-format", "iso"], ["-F"]):
        done = system_wide.run(["lastb", *options, "-f", "/var/log/btmp"], env=READER_ENV)
        assert done.returncode == 0, done.stderr
        assert pyutmp_lastb(system_wide, *options) == done.stdout, options

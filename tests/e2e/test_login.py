"""Real login, `login -f USER` as root on a pty of its own inside the sandbox,
with the release's accounting in its stack and pam_pyutmp next to it.

Debian 12's login is shadow's: it writes utmp, and pam_lastlog in its stack
writes wtmp and lastlog.  Its entry for pts/N has the id "/N" (the line from
its fourth character), not "ts/N", so the module's entry for the same terminal
never lands in login's slot: without ``skip_if=login`` who lists the session
twice.  Debian 13's login is util-linux's and writes no record (and there is
no pam_lastlog): there the module's records are the session's only ones."""

from __future__ import annotations

import pytest
from stockreaders import HAVE_PAM_LASTLOG, LOGIN_WRITES_UTMP

from .sandbox import (
    DEAD_PROCESS,
    USER_PROCESS,
    Sandbox,
    User,
    closed,
    dump,
    last_sessions,
    shell_steps,
)

# No password is asked: root passes (login -f skips authentication, setcred remains).
AUTH = ("auth sufficient pam_rootok.so\nauth required pam_deny.so\n"
        "account required pam_permit.so\nsession required pam_permit.so\n")
# As on Debian 12: pam_lastlog records the login in wtmp and lastlog, login itself in utmp.
LASTLOG = "session optional pam_lastlog.so\n" if HAVE_PAM_LASTLOG else ""


@pytest.fixture
def user(sandbox: Sandbox) -> User:
    return sandbox.add_user("pyutest")


def login_stack(box: Sandbox, options: str) -> None:
    box.service("login", AUTH + LASTLOG + box.module_line(options))


def who_lines(lines: list[str]) -> list[list[str]]:
    return [line.split()[:2] for line in lines]


def test_login_alone_writes_the_records_this_release_is_said_to_write(
        sandbox: Sandbox, user: User) -> None:
    """Without the module, login (and pam_lastlog where it exists) lists the session in utmp on
    Debian 12 and writes no record on Debian 13: the fact the tests below rest on."""
    sandbox.service("login", AUTH + LASTLOG)
    term = sandbox.on_terminal(["login", "-f", user.name], shell_steps("$ ", "who /run/utmp"))
    assert term.status == 0, term.output

    listed = [[user.name, term.line]] if LOGIN_WRITES_UTMP else []
    assert who_lines(term.section(0)) == listed, term.output


def test_login_with_skip_if_login_leaves_only_logins_own_records(
        sandbox: Sandbox, user: User) -> None:
    """With skip_if=login the module, loaded and run in login's stack, writes nothing: who shows
    login's one entry, wtmp holds only pam_lastlog's closed pair, syslog no session of ours
    (Debian 13: no record at all, as login writes none)."""
    login_stack(sandbox, "skip_if=login debug")
    term = sandbox.on_terminal(["login", "-f", user.name], shell_steps("$ ", "who /run/utmp"))
    assert term.status == 0, term.output

    ours = sandbox.our_syslog()
    if not LOGIN_WRITES_UTMP:  # nothing at all: login writes no record of its own
        assert who_lines(term.section(0)) == [], term.output
        assert dump(sandbox, "/var/run/utmp") == dump(sandbox, "/var/log/wtmp") == []
        assert last_sessions(sandbox) == []
    else:
        assert who_lines(term.section(0)) == [[user.name, term.line]], term.output
        utmp = dump(sandbox, "/var/run/utmp")
        # login's own entry (login leaves it to whoever started it to close).
        assert [(r.type, r.id, r.line, r.user) for r in utmp] == [
            (USER_PROCESS, term.line[3:], term.line, user.name)], utmp
        wtmp = dump(sandbox, "/var/log/wtmp")
        assert [(r.type, r.id, r.line) for r in wtmp] == [(USER_PROCESS, "", term.line),
                                                          (DEAD_PROCESS, "", term.line)], wtmp
        sessions = last_sessions(sandbox)
        assert [s[:2] for s in sessions] == [[user.name, term.line]] and closed(sessions[0])
    assert any("open_session: skipped for this service" in line and "service=login" in line
               for line in ours), sandbox.syslog()
    assert not [line for line in ours if "session opened" in line or "session closed" in line]


def test_login_without_skip_if_adds_a_second_entry_and_clobbers_nothing(
        sandbox: Sandbox, user: User) -> None:
    """Without skip_if=login the module (it loads though login empties the environment) adds its
    own entry (id "ts/N") beside login's ("/N"), so who lists the session twice; neither record
    overwrites the other and the module closes its own: why login's stack needs skip_if=login
    on Debian 12.  wtmp, lastlog and "Last login" it leaves to pam_lastlog, which is in the
    stack: one pair in wtmp.  (Debian 13: the module's records are the only ones.)"""
    login_stack(sandbox, "")
    term = sandbox.on_terminal(["login", "-f", user.name], shell_steps("$ ", "who /run/utmp"))
    assert term.status == 0, term.output

    theirs = 1 if LOGIN_WRITES_UTMP else 0
    assert who_lines(term.section(0)) == [[user.name, term.line]] * (1 + theirs), term.output
    utmp = dump(sandbox, "/var/run/utmp")
    assert sorted((r.type, r.id, r.line) for r in utmp) == sorted([
        (USER_PROCESS, term.line[3:], term.line),  # login's, untouched
    ] * theirs + [
        (DEAD_PROCESS, term.line[-4:], term.line),  # ours, closed at logout
    ]), utmp
    wtmp = dump(sandbox, "/var/log/wtmp")
    pair_id = "" if HAVE_PAM_LASTLOG else term.line[-4:]  # pam_lastlog's pair, else ours
    assert [(r.type, r.id) for r in wtmp] == [(USER_PROCESS, pair_id),
                                              (DEAD_PROCESS, pair_id)], wtmp
    sessions = last_sessions(sandbox)
    assert [s[:2] for s in sessions] == [[user.name, term.line]], sessions
    assert all(closed(s) for s in sessions), sessions
    assert term.output.count("Last login") <= 1, term.output


def test_su_inside_a_login_session_gets_a_slot_of_its_own(sandbox: Sandbox, user: User) -> None:
    """su on a terminal where login holds a live entry (id "/N", so only the line tells) gets a
    tty-less slot ("su-l/0"), so last keeps the login session open until login's own logout.
    (Debian 13: login holds no entry, so su's session is recorded on the terminal.)"""
    login_stack(sandbox, "skip_if=login")
    other = sandbox.add_user("pyuother")
    # The outer session is the test user's: su to another needs no password here.
    sandbox.service("su-l", "auth sufficient pam_permit.so\naccount required pam_permit.so\n"
                            "session required pam_permit.so\n" + sandbox.module_line())
    steps = [["expect", "$ "], ["send", f"su - {other.name}\n"],
             *shell_steps("$ ", "who /run/utmp")[:-1],
             ["send", "exit\n"], ["expect", "$ "], ["send", "exit\n"]]
    term = sandbox.on_terminal(["login", "-f", user.name], steps)
    assert term.status == 0, term.output

    if not LOGIN_WRITES_UTMP:  # no entry of login's holds the terminal: su takes it
        assert who_lines(term.section(0)) == [[other.name, term.line]], term.output
        assert [(r.type, r.id, r.line) for r in dump(sandbox, "/var/run/utmp")] == [
            (DEAD_PROCESS, term.line[-4:], term.line)]
        sessions = last_sessions(sandbox)
        assert [s[:2] for s in sessions] == [[other.name, term.line]] and closed(sessions[0])
        return
    assert sorted(who_lines(term.section(0))) == sorted(
        [[user.name, term.line], [other.name, "su-l/0"]]), term.output
    utmp = dump(sandbox, "/var/run/utmp")
    assert sorted((r.type, r.id, r.line, r.user) for r in utmp) == sorted([
        (USER_PROCESS, term.line[3:], term.line, user.name),  # login's, untouched
        (DEAD_PROCESS, "P000", "su-l/0", ""),
    ]), utmp
    sessions = last_sessions(sandbox)
    assert sorted(s[:2] for s in sessions) == sorted(
        [[user.name, term.line], [other.name, "su-l/0"]]), sessions
    assert all(closed(s) for s in sessions), sessions
    wtmp = dump(sandbox, "/var/log/wtmp")
    assert [(r.type, r.line) for r in wtmp] == [
        (USER_PROCESS, term.line),  # login (pam_lastlog)
        (USER_PROCESS, "su-l/0"), (DEAD_PROCESS, "su-l/0"),  # su inside it
        (DEAD_PROCESS, term.line),  # logout (pam_lastlog)
    ], wtmp

"""Real util-linux su, as root, on a pty of its own inside the sandbox, with
pam_pyutmp in its session stack: what who, w, last and lastlog make of it."""

from __future__ import annotations

import pytest
from stockreaders import HAVE_PAM_LASTLOG

from .sandbox import (
    DEAD_PROCESS,
    USER_PROCESS,
    Sandbox,
    User,
    closed,
    dump,
    last_sessions,
    reader,
    shell_steps,
)

# su's own stack on Debian, cut to what runs without a password: root passes.
SU_STACK = ("auth sufficient pam_rootok.so\nauth required pam_deny.so\n"
            "account required pam_permit.so\nsession required pam_permit.so\n")


@pytest.fixture
def user(sandbox: Sandbox) -> User:
    """A user of the sandbox only, and su (service "su", and "su-l" for `su -`)
    with the module in its session stack."""
    for service in ("su", "su-l"):
        sandbox.service(service, SU_STACK + sandbox.module_line())
    return sandbox.add_user("pyutest")


def words(lines: list[str]) -> list[list[str]]:
    return [line.split() for line in lines]


@pytest.mark.parametrize(("login_shell", "service"), [(True, "su-l"), (False, "su")])
def test_su_session_is_listed_on_its_pty_and_closed_in_last(
        sandbox: Sandbox, user: User, login_shell: bool, service: str) -> None:
    """su on a pty leaves the user on that pty in who and w while the shell runs, and a closed
    login/logout pair for that line in last after it exits."""
    command = ["su", "-", user.name] if login_shell else ["su", user.name]
    term = sandbox.on_terminal(command, shell_steps("$ ", "who /run/utmp", "w -h"))
    assert term.status == 0, term.output

    assert [w[:2] for w in words(term.section(0))] == [[user.name, term.line]], term.output
    assert [user.name, term.line] in [w[:2] for w in words(term.section(1))], term.output

    utmp = dump(sandbox, "/var/run/utmp")
    assert [(r.type, r.line) for r in utmp] == [(DEAD_PROCESS, term.line)], utmp
    wtmp = dump(sandbox, "/var/log/wtmp")
    assert [(r.type, r.line) for r in wtmp] == [(USER_PROCESS, term.line),
                                                (DEAD_PROCESS, term.line)], wtmp
    sessions = last_sessions(sandbox)
    assert [s[:2] for s in sessions] == [[user.name, term.line]], sessions
    assert closed(sessions[0]), sessions
    ours = sandbox.our_syslog()
    assert sum("session opened" in line and f"service={service} " in line for line in ours) == 1
    assert sum("session closed" in line and f"line={term.line} " in line for line in ours) == 1


def test_second_su_shows_last_login_and_lastlog_lists_the_user(
        sandbox: Sandbox, user: User) -> None:
    """The second su shows "Last login ... on <first su's pty>" through su's conversation (the
    first shows none), and lastlog lists the user's latest su."""
    first = sandbox.on_terminal(["su", "-", user.name], shell_steps("$ "))
    second = sandbox.on_terminal(["su", "-", user.name], shell_steps("$ "))

    assert "Last login" not in first.output, first.output
    messages = [line for line in second.output.splitlines() if line.startswith("Last login:")]
    assert len(messages) == 1, second.output
    assert messages[0].endswith(f" on {first.line}"), messages
    lastlog = reader(sandbox, "lastlog", "-u", user.name).splitlines()
    assert len(lastlog) == 2 and lastlog[1].split()[:2] == [user.name, second.line], lastlog


def test_su_inside_su_gets_a_slot_of_its_own(sandbox: Sandbox, user: User) -> None:
    """su run inside another su's session on the same pty does not take over the outer
    session's entry: it gets a tty-less slot ("su-l/0"), and last pairs both sessions."""
    steps = [["expect", "# "],  # root's shell in the outer su
             ["send", f"su - {user.name}\n"],
             *shell_steps("$ ", "who /run/utmp")[:-1],
             ["send", "exit\n"], ["expect", "# "], ["send", "exit\n"]]
    term = sandbox.on_terminal(["su", "-", "root", "-s", "/bin/sh"], steps)
    assert term.status == 0, term.output

    listed = sorted(w[:2] for w in words(term.section(0)))
    assert listed == sorted([["root", term.line], [user.name, "su-l/0"]]), term.output
    utmp = dump(sandbox, "/var/run/utmp")
    assert sorted((r.type, r.id, r.line) for r in utmp) == sorted(
        [(DEAD_PROCESS, term.line[-4:], term.line), (DEAD_PROCESS, "P000", "su-l/0")]), utmp
    sessions = last_sessions(sandbox)
    assert sorted(s[:2] for s in sessions) == sorted([["root", term.line],
                                                      [user.name, "su-l/0"]]), sessions
    assert all(closed(s) for s in sessions), sessions


@pytest.mark.skipif(not HAVE_PAM_LASTLOG, reason="pam_lastlog is not on this release")
@pytest.mark.parametrize("lastlog_first", [True, False], ids=["pam_lastlog first", "ours first"])
def test_beside_pam_lastlog_one_last_login_line_shows_the_previous_login(
        sandbox: Sandbox, lastlog_first: bool) -> None:
    """pam_lastlog in su's stack, before or after the module: each su shows one "Last login"
    line, the previous login's (never the current one), and wtmp holds one pair per session:
    the module leaves lastlog, wtmp and the message to pam_lastlog."""
    lastlog, ours = "session optional pam_lastlog.so\n", sandbox.module_line()
    sandbox.service("su-l", SU_STACK + (lastlog + ours if lastlog_first else ours + lastlog))
    user = sandbox.add_user("pyutest")
    first = sandbox.on_terminal(["su", "-", user.name], shell_steps("$ "))
    second = sandbox.on_terminal(["su", "-", user.name], shell_steps("$ "))

    assert "Last login" not in first.output, first.output
    messages = [line for line in second.output.splitlines() if line.startswith("Last login")]
    assert len(messages) == 1 and messages[0].endswith(f"on {first.line}"), second.output
    wtmp = dump(sandbox, "/var/log/wtmp")
    assert [r.type for r in wtmp] == [USER_PROCESS, DEAD_PROCESS] * 2, wtmp
    utmp = dump(sandbox, "/var/run/utmp")
    assert {(r.type, r.line) for r in utmp} >= {(DEAD_PROCESS, second.line)}, utmp

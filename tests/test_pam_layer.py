"""The PAM boundary with a stand-in handle: codes, options and log lines.

The handle is a fake (unit level); files, the log socket and the session code
are real.  End-to-end runs through libpam live in tests/e2e.
"""

from __future__ import annotations

import os
import time

import pytest
from pamfakes import FakeHandle, handle

from pam_pyutmp import pam, syslogger, utmpfile
from pam_pyutmp.options import parse
from pam_pyutmp.system import DEAD_PROCESS, USER_PROCESS


@pytest.fixture
def args(acct) -> list[str]:
    return [f"utmp={acct.utmp}", f"wtmp={acct.wtmp}", f"lastlog={acct.lastlog}"]


def test_open_and_close_write_the_records_and_log_one_line_each(acct, args, logs, tty) -> None:
    """A session on a terminal gets its tty's slot, a wtmp pair and two structured log lines."""
    h = handle(tty=tty, rhost="client.example")
    assert pam.open_session(h, 0, args) == pam.PAM_SUCCESS
    line = tty.removeprefix("/dev/")
    (slot,) = utmpfile.read(str(acct.utmp))
    assert (slot.type, slot.line, slot.user, slot.host) == (
        USER_PROCESS, line, "root", "client.example")
    assert pam.close_session(h, 0, args) == pam.PAM_SUCCESS
    assert [r.type for r in utmpfile.iter_wtmp(str(acct.wtmp))] == [USER_PROCESS, DEAD_PROCESS]
    lines = logs.lines()
    assert len(lines) == 2
    assert lines[0].startswith(f"<{syslogger.LOG_AUTHPRIV | syslogger.LOG_INFO}>")
    assert "pam_pyutmp[" in lines[0] and "session opened:" in lines[0]
    assert f"line={line}" in lines[0] and "user=root" in lines[0] and "service=svc" in lines[0]
    assert "session closed:" in lines[1]


def test_no_user_is_user_unknown(args, logs) -> None:
    """Without PAM_USER nothing is written and the code is PAM_USER_UNKNOWN."""
    assert pam.open_session(handle(user=None), 0, args) == pam.PAM_USER_UNKNOWN
    assert any("no user" in line for line in logs.lines())


def test_unknown_user_is_user_unknown(acct, args, logs) -> None:
    """A user without a passwd entry writes nothing and returns PAM_USER_UNKNOWN."""
    assert pam.open_session(handle(user="no-such-user-xyz"), 0, args) == pam.PAM_USER_UNKNOWN
    assert acct.utmp.read_bytes() == b"" and acct.wtmp.read_bytes() == b""
    assert any("unknown user" in line for line in logs.lines())


def test_skip_if_service_is_ignored(acct, args, logs) -> None:
    """A service named in skip_if= gets PAM_IGNORE and no record, at open and close."""
    skip = [*args, "skip_if=other,svc"]
    assert pam.open_session(handle(), 0, skip) == pam.PAM_IGNORE
    assert pam.close_session(handle(), 0, skip) == pam.PAM_IGNORE
    assert acct.utmp.read_bytes() == b"" and acct.wtmp.read_bytes() == b""


def test_ssh_tty_gets_a_slot_of_its_own(acct, args, logs) -> None:
    """PAM_TTY "ssh" (sshd before its pty exists) is no line: the session gets a tty-less slot."""
    h = handle(tty="ssh", service="sshd")
    assert pam.open_session(h, 0, args) == pam.PAM_SUCCESS
    (slot,) = utmpfile.read(str(acct.utmp))
    assert (slot.line, slot.id) == ("sshd/0", "P000")
    assert pam.close_session(h, 0, args) == pam.PAM_SUCCESS
    assert utmpfile.read(str(acct.utmp))[0].type == DEAD_PROCESS


def test_x_display_is_the_line_and_the_host(acct, args, logs) -> None:
    """A display manager's ":0" is used as the line, and as the host when no rhost is set."""
    h = handle(tty=":0", xdisplay=":0", service="lightdm")
    assert pam.open_session(h, 0, args) == pam.PAM_SUCCESS
    (slot,) = utmpfile.read(str(acct.utmp))
    assert (slot.line, slot.id, slot.host) == (":0", ":0", ":0")


def test_long_or_escaped_rhost_is_cleaned_and_logged(acct, args, logs) -> None:
    """A 300-byte rhost with ESC sequences is cut and cleaned; the login succeeds, with a notice."""
    rhost = "\x1b[2J" + "h" * 300
    assert pam.open_session(handle(rhost=rhost), 0, args) == pam.PAM_SUCCESS
    (slot,) = utmpfile.read(str(acct.utmp))
    assert "\x1b" not in slot.host and slot.host.startswith("?[2J")
    notices = [line for line in logs.lines() if "host:" in line]
    assert any("truncated" in line for line in notices)
    assert any("control character" in line for line in notices)
    assert all("\x1b" not in line for line in logs.lines())


def test_a_value_with_line_separators_stays_on_its_log_line(acct, args, logs) -> None:
    """U+2028 and U+2029 end a line for some log viewers: the log line has them escaped."""
    h = handle(rhost="a\u2028b\u2029c")
    assert pam.open_session(h, 0, args) == pam.PAM_SUCCESS
    (opened,) = [line for line in logs.lines() if "session opened" in line]
    assert "\u2028" not in opened and "\u2029" not in opened
    assert 'host="a\\\\u2028b\\\\u2029c"' in opened  # quoted: it has backslashes


def test_unwritable_files_give_session_err_and_a_log_line(tmp_path, logs) -> None:
    """Missing utmp and wtmp files and a lastlog in a missing directory: PAM_SESSION_ERR, logged."""
    missing = tmp_path / "missing"
    args = [f"utmp={missing}/utmp", f"wtmp={missing}/wtmp", f"lastlog={missing}/lastlog"]
    assert pam.open_session(handle(), 0, args) == pam.PAM_SESSION_ERR
    errors = [line for line in logs.lines() if line.startswith("<83>")]  # authpriv.err
    for name in ("utmp", "wtmp", "lastlog"):
        assert any(f"{missing}/{name}" in line for line in errors), name


def test_close_in_another_process_finds_the_slot_again(acct, args, logs, tty) -> None:
    """When this process did not open the session, close finds its slot from the PAM items."""
    h = handle(tty=tty)
    assert pam.open_session(h, 0, args) == pam.PAM_SUCCESS
    other = handle(tty=tty)
    other.key = 2  # another transaction: nothing remembered for it
    pid = os.fork()
    if pid == 0:
        os._exit(pam.close_session(other, 0, args))
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == pam.PAM_SUCCESS
    assert utmpfile.read(str(acct.utmp))[0].type == DEAD_PROCESS
    assert [r.type for r in utmpfile.iter_wtmp(str(acct.wtmp))] == [USER_PROCESS, DEAD_PROCESS]


def test_close_without_open_is_ignored(args, logs) -> None:
    """Closing a session that was never opened writes nothing and returns PAM_IGNORE."""
    assert pam.close_session(handle(), 0, args) == pam.PAM_IGNORE


def test_last_login_message_follows_pam_lastlog(acct, args, logs, tty) -> None:
    """The second login shows "Last login: <date> from <host> on <line>"; PAM_SILENT hides it."""
    first = handle(tty=tty, rhost="one.example")
    pam.open_session(first, 0, args)
    pam.close_session(first, 0, args)
    assert first.shown == []
    second = handle(tty=tty, rhost="two.example")
    pam.open_session(second, 0, args)
    pam.close_session(second, 0, args)
    (message,) = second.shown
    assert message.startswith("Last login: ") and message.endswith(
        f" from one.example on {tty.removeprefix('/dev/')}")
    quiet = handle(tty=tty)
    pam.open_session(quiet, pam.PAM_SILENT, args)
    pam.close_session(quiet, 0, args)
    assert quiet.shown == []


def test_unknown_and_malformed_options_are_logged_and_ignored(acct, args, logs) -> None:
    """A typo in pam.d never fails a login: each bad option is one warning line."""
    bad = [*args, "bogus", "utmp=relative", "lastlog_uid_max=-3"]
    h = handle()
    assert pam.open_session(h, 0, bad) == pam.PAM_SUCCESS
    warnings = [line for line in logs.lines() if "option ignored" in line]
    assert len(warnings) == 3


def test_internal_error_is_system_err_not_an_exception(args, logs) -> None:
    """A handle that raises becomes PAM_SYSTEM_ERR and one log line, never an exception."""

    class Broken(FakeHandle):
        def items(self) -> pam.Items:
            raise RuntimeError("boom")

    assert pam.open_session(Broken({}), 0, args) == pam.PAM_SYSTEM_ERR
    assert any("internal error RuntimeError: boom" in line for line in logs.lines())


def test_options_are_parsed_once() -> None:
    """The same argument list gives the same parsed object."""
    assert parse(("debug", "nowtmp")) is parse(("debug", "nowtmp"))
    assert parse(("debug", "nowtmp")).nowtmp


def test_a_fifo_at_the_utmp_path_costs_a_log_line_not_a_hang(acct, logs, tmp_path) -> None:
    """A FIFO planted where utmp should be (nothing ever opens its other end) makes the open
    fail at once with PAM_SESSION_ERR, wtmp still written; a close in another process, which
    must read utmp to find the session, returns at once too, with a log line naming the file."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    args = [f"utmp={fifo}", f"wtmp={acct.wtmp}", f"lastlog={acct.lastlog}", "nowtmp"]
    started = time.monotonic()
    assert pam.open_session(handle(), 0, [*args[:-1]]) == pam.PAM_SESSION_ERR
    assert [r.type for r in utmpfile.iter_wtmp(str(acct.wtmp))] == [USER_PROCESS]
    pam._open_sessions.clear()  # the close comes from another process
    assert pam.close_session(handle(), 0, args) == pam.PAM_IGNORE
    assert time.monotonic() - started < 5
    lines = logs.lines()
    assert any("cannot look for the session" in line and str(fifo) in line
               for line in lines), lines


@pytest.mark.parametrize("word", ["utmp=/run/u\udcff", "utmp=/run/u\x1b[2J", "utmp=run/utmp"])
def test_a_malformed_path_option_is_logged_and_ignored_and_costs_no_other_file(
        acct, logs, word) -> None:
    """A path option that is not UTF-8 (its bytes arrive as surrogates), holds a control
    character or is relative is one log line and ignored: the other files are written and the
    session opens and closes with PAM_SUCCESS (noutmp keeps the ignored option's default, the
    machine's utmp, out of the test)."""
    args = [word, "noutmp", f"wtmp={acct.wtmp}", f"lastlog={acct.lastlog}"]
    assert pam.open_session(handle(), 0, args) == pam.PAM_SUCCESS
    assert pam.close_session(handle(), 0, args) == pam.PAM_SUCCESS
    assert [r.type for r in utmpfile.iter_wtmp(str(acct.wtmp))] == [USER_PROCESS, DEAD_PROCESS]
    lines = logs.lines()
    assert any("ignored" in line or "must be" in line for line in lines), lines
    assert not any("internal error" in line for line in lines), lines
    assert all("\x1b" not in line for line in lines)


def test_log_lines_fit_a_syslog_relay_and_mark_what_was_cut(acct, args, logs) -> None:
    """A 10,000-character user name and tty give log lines of at most 1024 bytes (what RFC 3164
    relays carry), each cut marked, the other fields still in the line."""
    long_user, long_tty = "u" * 10_000, "/dev/" + "t" * 10_000
    assert pam.open_session(handle(user=long_user, tty=long_tty, rhost="client.example"), 0,
                            args) != pam.PAM_SUCCESS
    lines = logs.lines()
    assert lines and all(len(line.encode()) <= syslogger.LINE_MAX for line in lines), [
        len(line) for line in lines]
    assert any(syslogger.CUT in line and "service=svc" in line for line in lines), lines


def test_a_second_instance_in_one_stack_writes_nothing(acct, args, logs) -> None:
    """The module twice in one PAM transaction (a service's include and a system-wide line):
    one login and one logout, one notice line; after the close the
    same handle opens a session again as the first time."""
    h = handle()
    assert pam.open_session(h, 0, args) == pam.PAM_SUCCESS
    assert pam.open_session(h, 0, [*args, "debug"]) == pam.PAM_IGNORE
    # The instance that opened closes (libpam replays the open results at close).
    assert pam.close_session(h, 0, args) == pam.PAM_SUCCESS
    assert pam.close_session(h, 0, args) == pam.PAM_IGNORE
    assert [r.type for r in utmpfile.iter_wtmp(str(acct.wtmp))] == [USER_PROCESS, DEAD_PROCESS]
    lines = logs.lines()
    assert sum("module runs twice in this PAM stack" in line for line in lines) == 1
    assert sum("session opened" in line for line in lines) == 1
    assert sum("session closed" in line for line in lines) == 1

    assert pam.open_session(h, 0, args) == pam.PAM_SUCCESS
    assert pam.close_session(h, 0, args) == pam.PAM_SUCCESS
    assert len(list(utmpfile.iter_wtmp(str(acct.wtmp)))) == 4


# Values of PAM_TTY and whether terminal() takes them; "{tty}" is a pty the test opens
# ("/dev/pts/N"), "{line}" the same without /dev/.
TERMINAL_TABLE = [
    ("{tty}", True), ("{line}", True),
    (":0", True), (":1.0", True), (":12", True),
    ("/dev/null", False), ("null", False), ("/dev/zero", False),
    ("/dev/ptmx", False), ("ptmx", False), ("pts/ptmx", False),  # the pty multiplexer
    ("/dev/tty", False), ("tty", False),  # "my controlling terminal", whichever it is
    ("/dev/fd/0", False), ("fd/0", False), ("/dev/stdin", False),  # symlinks, not followed
    ("../../dev/null", False), ("/dev/../dev/{line}", False), ("./{line}", False),
    ("{line}/", False), ("/dev//{line}", False), ("pts/./{number}", False),
    ("/dev/pts", False),  # a directory
    ("ssh", False), ("", False), ("not/a/device", False), ("pts/\udcff", False),
    (":", False), (":x", False), (":0.", False), ("::0", False), (":0.1.2", False),
    (":\u0660", False),  # an Arabic-Indic zero: a digit to str.isdigit, not to X
]


@pytest.mark.parametrize(("template", "is_terminal"), TERMINAL_TABLE)
def test_terminal_takes_ptys_and_displays_and_nothing_else(tty, template, is_terminal) -> None:
    """terminal() gives back a pty's name, with or without /dev/, and an X display; any
    other device (null, ptmx, /dev/tty), a symlink (fd/0, stdin), a path leaving /dev or
    with an empty or "." part, and a plain word give None: a tty-less slot."""
    line = tty.removeprefix("/dev/")
    value = template.format(tty=tty, line=line, number=line.rpartition("/")[2])
    assert pam.terminal(value) == (value if is_terminal else None)


def test_unset_pam_tty_is_no_terminal() -> None:
    """An unset PAM_TTY names nothing."""
    assert pam.terminal(None) is None


def existing(*paths: str) -> list[str]:
    """The devices of ``paths`` this machine has (a container may have neither)."""
    return [path for path in paths if os.path.exists(path)]


KERNEL_TERMINALS = existing("/dev/tty1", "/dev/console")


@pytest.mark.skipif(not KERNEL_TERMINALS, reason="no /dev/tty1 or /dev/console on this machine")
@pytest.mark.parametrize("sysfs", [True, False], ids=["sysfs", "no-sysfs"])
def test_kernel_terminals_are_terminals_with_or_without_sysfs(
        tty, monkeypatch, sysfs) -> None:
    """tty1 and the console (the kernel's tty class in sysfs; without sysfs, major 4 and
    5:1) are terminals, a pty too; /dev/null, /dev/tty and ptmx are not, either way."""
    if not sysfs:
        monkeypatch.setattr(pam, "SYS_DEV_CHAR", "/nonexistent/sys/dev/char")
    for path in [*KERNEL_TERMINALS, tty]:
        assert pam.terminal(path) == path
        assert pam.terminal(path.removeprefix("/dev/")) == path.removeprefix("/dev/")
    for path in ("/dev/null", "/dev/tty", "/dev/ptmx", "/dev/pts/ptmx"):
        assert pam.terminal(path) is None, path

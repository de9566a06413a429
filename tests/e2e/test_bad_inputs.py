"""Bad PAM inputs through pamtester, real libpam and each loader: one log
line each, the right code, and never a crash of the host program."""

from __future__ import annotations

import signal

import pytest

from pam_pyutmp import utmpfile
from pam_pyutmp.system import LASTLOG_SIZE

from .sandbox import DEAD_PROCESS, USER_PROCESS, Sandbox, dump, reader

SESSION_ERR = "Cannot make/remove an entry for the specified session"
USER_UNKNOWN = "User not known to the underlying authentication module"


def pamtester(box: Sandbox, user: str | bytes, *items: bytes | str):
    argv: list[str | bytes] = ["pamtester", "-v"]
    for item in items:
        argv += ["-I", item]
    argv += ["svc", user, "open_session", "close_session"]
    result = box.run(argv, text=False)  # type: ignore[list-item]
    assert result.returncode >= 0 and -result.returncode not in (
        signal.SIGSEGV, signal.SIGABRT), "pamtester crashed"
    return result.returncode, (result.stdout + result.stderr).decode("utf-8", "replace")


def required(box: Sandbox, options: str = "") -> None:
    """The module alone and required, so its own code is what pamtester reports."""
    box.service("svc", box.module_line(options, control="required"))


def test_empty_user_is_user_unknown(sandbox: Sandbox) -> None:
    """An empty PAM_USER fails with PAM_USER_UNKNOWN and a log line."""
    required(sandbox)
    status, out = pamtester(sandbox, "")
    assert status == 1 and USER_UNKNOWN in out
    assert any("no user" in line for line in sandbox.our_syslog())


def test_unknown_user_is_user_unknown(sandbox: Sandbox) -> None:
    """A user with no passwd entry fails with PAM_USER_UNKNOWN and writes nothing."""
    required(sandbox)
    status, out = pamtester(sandbox, "nobody-such-user")
    assert status == 1 and USER_UNKNOWN in out
    assert any("unknown user" in line for line in sandbox.our_syslog())
    assert reader(sandbox, "utmpdump", "/var/run/utmp").count("[7]") == 0


# PAM_TTY values that name no terminal: a word, a path to nothing, devices that are no
# line (/dev/null, the pty multiplexer, "my controlling terminal"), symlinks, a way out of /dev.
NO_TERMINALS = [None, "ssh", "not/a/device", "/dev/null", "ptmx", "pts/ptmx", "/dev/tty",
                "fd/0", "/dev/stdin", "../../dev/null"]


@pytest.mark.parametrize("tty_item", NO_TERMINALS)
def test_no_terminal_gets_a_tty_less_slot(sandbox: Sandbox, tty_item: str | None) -> None:
    """No tty, sshd's "ssh", a non-device, a device that is no terminal, a symlink or a path
    out of /dev: a slot "svc/0" of its own, opened and closed, and never that name as line."""
    required(sandbox, "debug")
    status, out = pamtester(sandbox, "root", *([f"tty={tty_item}"] if tty_item else []))
    assert status == 0, out
    for path in ("/var/run/utmp", "/var/log/wtmp"):
        records = dump(sandbox, path)
        assert {(r.line, r.id) for r in records} == {("svc/0", "P000")}, records
    assert [r.type for r in dump(sandbox, "/var/log/wtmp")] == [USER_PROCESS, DEAD_PROCESS]
    said = sandbox.our_syslog()
    assert any("PAM_TTY is no terminal" in line for line in said) == bool(tty_item), said


@pytest.mark.parametrize("short", [False, True], ids=["/dev/pts/N", "pts/N"])
def test_a_pty_is_recorded_as_its_line(sandbox: Sandbox, tty: str, short: bool) -> None:
    """A pty, named with or without /dev/, is the session's line and id in utmp and wtmp."""
    required(sandbox)
    line = tty.removeprefix("/dev/")
    status, out = pamtester(sandbox, "root", f"tty={line if short else tty}")
    assert status == 0, out
    for path in ("/var/run/utmp", "/var/log/wtmp"):
        assert {(r.line, r.id) for r in dump(sandbox, path)} == {(line, line[-4:])}


def test_display_is_recorded_as_line(sandbox: Sandbox) -> None:
    """An X display ":0" becomes line and id ":0"."""
    required(sandbox)
    status, out = pamtester(sandbox, "root", "tty=:0")
    assert status == 0, out
    assert "[:0  ]" in reader(sandbox, "utmpdump", "/var/log/wtmp")


@pytest.mark.parametrize("rhost", [b"h" * 300, b"bad\xff\xfebytes", b"\x1b]0;owned\x07\x1b[2J"])
def test_hostile_rhost_is_cleaned_logged_and_login_succeeds(sandbox: Sandbox, tty: str,
                                                            rhost: bytes) -> None:
    """Overlong, non-UTF-8 or escape-laden rhosts are cleaned, noted in the log, and allowed."""
    required(sandbox)
    status, out = pamtester(sandbox, "root", f"tty={tty}", b"rhost=" + rhost)
    assert status == 0, out
    hosts = [record.host for record in utmpfile.iter_wtmp(str(sandbox.wtmp))]
    assert any(hosts) and all(host.isprintable() for host in hosts)
    for host in hosts:
        host.encode("utf-8", "surrogateescape").decode("utf-8")  # raises on bytes not UTF-8
    assert any("host:" in line for line in sandbox.our_syslog())


def test_unwritable_files_are_session_err(sandbox: Sandbox, tty: str) -> None:
    """utmp/wtmp paths that cannot be written give PAM_SESSION_ERR and error lines."""
    missing = sandbox.root / "nowhere"
    required(sandbox, f"utmp={missing}/utmp wtmp={missing}/wtmp lastlog={missing}/lastlog")
    status, out = pamtester(sandbox, "root", f"tty={tty}")
    assert status == 1 and SESSION_ERR in out
    errors = [line for line in sandbox.our_syslog() if line.startswith("<83>")]
    assert len(errors) >= 3


def test_bogus_options_are_logged_and_ignored(sandbox: Sandbox, tty: str) -> None:
    """Unknown options never fail the login: each is one warning, the session is written."""
    required(sandbox, "frobnicate utmp=relative/path")
    status, out = pamtester(sandbox, "root", f"tty={tty}")
    assert status == 0, out
    assert sum("option ignored" in line for line in sandbox.our_syslog()) == 4  # open + close
    assert "[7] [" in reader(sandbox, "utmpdump", "/var/log/wtmp")


def test_non_utf8_user_is_user_unknown_not_a_crash(sandbox: Sandbox) -> None:
    """A user name that is not UTF-8 reaches the module (read raw from libpam) and is unknown."""
    required(sandbox)
    status, out = pamtester(sandbox, b"r\xffoot")
    assert status == 1 and USER_UNKNOWN in out
    lines = sandbox.our_syslog()
    assert any("unknown user" in line and 'user="r\\\\xffoot" ' in line for line in lines), lines


def test_non_utf8_tty_gets_a_tty_less_slot(sandbox: Sandbox) -> None:
    """A PAM_TTY that is not UTF-8 names no device: the session gets a tty-less slot."""
    required(sandbox)
    status, out = pamtester(sandbox, "root", b"tty=pts/\xff")
    assert status == 0, out
    assert "[svc/0" in reader(sandbox, "utmpdump", "/var/log/wtmp")


# The largest uid useradd gives: 4294967294 is (uid_t)-2 and 4294967295 is (uid_t)-1.
BIG_UID = 2**32 - 3


def big_uid_login(box: Sandbox, tty: str, cap: int) -> str:
    """A session of a user with uid 4294967293 on ``tty`` from 192.0.2.77, with
    lastlog_uid_max=``cap``: it succeeds, and utmp and wtmp have it whatever the cap."""
    user = box.add_user("biguid", uid=BIG_UID).name
    required(box, f"debug lastlog_uid_max={cap}")
    status, out = pamtester(box, user, f"tty={tty}", "rhost=192.0.2.77")
    assert status == 0, out
    wtmp = dump(box, "/var/log/wtmp")
    assert [(r.type, r.user) for r in wtmp[:1]] == [(USER_PROCESS, user)], wtmp
    assert [r.type for r in wtmp] == [USER_PROCESS, DEAD_PROCESS]
    assert any("session opened: " in line and f" uid={BIG_UID}" in line
               for line in box.our_syslog())
    return user


def test_a_uid_near_2_to_32_lands_in_lastlog_at_its_64_bit_offset(sandbox: Sandbox,
                                                                  tty: str) -> None:
    """Under a cap above it, uid 4294967293's login is the lastlog record at uid * record size
    (an offset past 32 bits) of a sparse file, and the stock reader shows it."""
    user = big_uid_login(sandbox, tty, cap=2**32 - 2)
    try:
        status = sandbox.lastlog.stat()
        assert status.st_size == (BIG_UID + 1) * LASTLOG_SIZE
        assert status.st_blocks * 512 < 2**20  # sparse: the hole costs no disk
        with sandbox.lastlog.open("rb") as lastlog:
            lastlog.seek(BIG_UID * LASTLOG_SIZE)
            record = lastlog.read()
        assert len(record) == LASTLOG_SIZE and b"192.0.2.77" in record
        shown = reader(sandbox, "lastlog", "-u", user).splitlines()[1].split()
        assert shown[:3] == [user, tty.removeprefix("/dev/"), "192.0.2.77"], shown
    finally:
        sandbox.lastlog.unlink()  # a sparse terabyte is best not left in pytest's tmp dirs


def test_a_uid_near_2_to_32_above_the_cap_is_left_out_of_lastlog(sandbox: Sandbox,
                                                                 tty: str) -> None:
    """Under a cap below it (lastlog_uid_max=60000), uid 4294967293's login writes no lastlog
    (no terabyte file is made), says so in a debug line, and the session still succeeds."""
    big_uid_login(sandbox, tty, cap=60000)
    assert not sandbox.lastlog.exists()
    said = sandbox.our_syslog()
    assert any(f"uid {BIG_UID} is above the lastlog cap 60000" in line for line in said), said

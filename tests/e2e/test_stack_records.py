"""One record per login event on the release's own stacks.

Real `su -`, `sudo -i`, `runuser -l`, `login -f` and sshd run with their service
files as this machine has them in /etc/pam.d (auth cut to what lets root in
without a password; every session line as it comes), next to whatever the
release runs there: pam_lastlog in Debian 12's login, pam_wtmpdb and
pam_lastlog2 in Debian 13's common-session, login's and sshd's own records.
The module is enabled as install.sh enables it: per service (the include file
pam.d/pyutmp after the service's session lines), system-wide (the line of the
pam-auth-update profile pam.d/pam-configs/pyutmp in common-session), or both at
once, its line with the options install.sh gives it on this machine.  Each
session leaves one live utmp entry, one wtmp pair, one wtmpdb row (where
pam_wtmpdb is installed), one lastlog or lastlog2 login and one "Last login" line,
the login before it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from stockreaders import (
    HAVE_PAM_LASTLOG2,
    HAVE_PAM_WTMPDB,
    LOGIN_WRITES_UTMP,
    have_pam_module,
)

from pam_pyutmp import stack

from .sandbox import (
    DEAD_PROCESS,
    REPO,
    USER_PROCESS,
    Sandbox,
    Terminal,
    User,
    closed,
    db_rows,
    dump,
    last_sessions,
    reader,
    shell_steps,
    wait_for,
)
from .test_sshd import SSHD, SshServer, server  # noqa: F401  (server: the fixture)

# The machine's files the five programs' stacks are made of.
STACK_FILES = ("su", "su-l", "sudo", "sudo-i", "runuser", "runuser-l", "login", "sshd",
               "common-auth", "common-account", "common-session",
               "common-session-noninteractive", "common-password")
# common-auth cut to what lets root in without a password (su and runuser start
# with pam_rootok themselves; login -f and sshd's key need only setcred).
AUTH = "auth sufficient pam_rootok.so\nauth required pam_deny.so\n"
INSTALLED_MODULE = "/usr/local/lib/security/pam_pyutmp.so"  # as the repo's files name it
INCLUDE_LINE = "session include pyutmp\n"
MODES = ("service", "system", "both")
# utmp and wtmp as Debian 13's wtmpdb keeps them: /var/lib/wtmpdb/wtmp.db links here.
WTMPDB = "log/wtmp.db"
LASTLOG2 = "lib/lastlog/lastlog2.db"
NOTICE = "this PAM transaction's session is open already"


@dataclass(frozen=True)
class Program:
    """A program that opens a login session, and the PAM service it opens it as."""

    name: str
    service: str
    argv: tuple[str, ...]  # "{user}" stands for the user


PROGRAMS = (
    Program("su", "su-l", ("su", "-", "{user}")),
    Program("sudo", "sudo-i", ("sudo", "-i", "-u", "{user}")),
    Program("runuser", "runuser-l", ("runuser", "-l", "{user}")),
    Program("login", "login", ("login", "-f", "{user}")),
    Program("sshd", "sshd", ()),  # the client's argv comes from SshServer
)


def installed(program: Program) -> None:
    """Skip, with the reason, where the program or its service file is missing here."""
    binary = SSHD if program.name == "sshd" else program.name
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} is not installed")
    if not Path("/etc/pam.d", program.service).exists():
        pytest.skip(f"/etc/pam.d/{program.service} is missing")


# --- the stacks -----------------------------------------------------------------

def ours(words: list[str]) -> bool:
    """A line of an earlier install of the module (the machine's stacks may have one)."""
    return "pyutmp" in words or any(word.endswith("pam_pyutmp.so") for word in words)


def copy_machine_stacks(box: Sandbox) -> None:
    """The machine's service files, less any line of the module and with auth cut."""
    for name in STACK_FILES:
        path = Path("/etc/pam.d", name)
        if not path.exists():
            continue
        kept = [line for line in path.read_text().splitlines(keepends=True)
                if not ours(stack.pam_words(line.split("#", 1)[0]))]
        box.service(name, AUTH if name == "common-auth" else "".join(kept))


def lastlog_as_the_machine(box: Sandbox) -> None:
    """An empty lastlog where the machine keeps one: sshd writes it only when it exists."""
    if Path("/var/log/lastlog").exists():
        box.lastlog.touch()


def machine_options() -> str:
    """What install.sh appends to the module line on this machine (machine_options)."""
    return "".join(f" {option}" for option, module in (("wtmpdb", "pam_wtmpdb.so"),
                                                         ("lastlog2", "pam_lastlog2.so"))
                   if have_pam_module(module))


def skipped_services() -> str:
    """install.sh's skipped_services: sshd, and login where it calls the C library's
    pututline (shadow's login, Debian 12; Debian 13's writes no record)."""
    login = shutil.which("login")
    writes = login is not None and re.search(rb"pututx?line", Path(login).read_bytes())
    return "sshd,login" if writes else "sshd"


def fitted(box: Sandbox, line: str) -> str:
    """A module line of the repo's files as install.sh installs it, with this sandbox's
    module in place of the installed one."""
    return (line.replace(INSTALLED_MODULE, str(box.native_module))
            .replace("skip_if=sshd,login", f"skip_if={skipped_services()}") + machine_options())


def include_file(box: Sandbox) -> str:
    """pam.d/pyutmp as installed: comments as they are, the module line fitted."""
    return "".join(line if line.startswith("#") or not line.strip() else
                   fitted(box, line.rstrip("\n")) + "\n"
                   for line in (REPO / "pam.d" / "pyutmp").read_text().splitlines(True))


def profile_line(box: Sandbox) -> str:
    """The session line pam-auth-update writes for the profile pam.d/pam-configs/pyutmp."""
    text = (REPO / "pam.d" / "pam-configs" / "pyutmp").read_text()
    body = text.split("\nSession:\n", 1)[1].splitlines()[0]
    return "session\t" + fitted(box, body.strip()) + "\n"


def has_sessions(box: Sandbox, words: list[str]) -> bool:
    """An @include of a file with session lines (install.sh counts it as one)."""
    return (len(words) > 1 and words[0] == "@include"
            and bool(stack.session_lines(words[1], (str(box.root / "pam.d"),))))


def add_after_sessions(box: Sandbox, service: str, added: str) -> None:
    """``added`` after the service's last session line, where install.sh --enable puts it."""
    lines = (box.root / "pam.d" / service).read_text().splitlines(keepends=True)
    last = len(lines)
    for number, line in enumerate(lines):
        words = stack.pam_words(line.split("#", 1)[0])
        if words and (words[0].lstrip("-") == "session" or has_sessions(box, words)):
            last = number + 1
    box.service(service, "".join([*lines[:last], added, *lines[last:]]))


def add_to_common_session(box: Sandbox, added: str) -> None:
    """``added`` where pam-auth-update puts the profile (priority 64): after pam_unix's line
    (the profile "unix", priority 256), before the others (priority 0)."""
    lines = (box.root / "pam.d" / "common-session").read_text().splitlines(keepends=True)
    at = next((n + 1 for n, line in enumerate(lines) if "pam_unix.so" in line), len(lines))
    box.service("common-session", "".join([*lines[:at], added, *lines[at:]]))


def enable(box: Sandbox, program: Program, mode: str, extra: str = "") -> None:
    """The machine's stacks with the module enabled per service, system-wide or both;
    ``extra``: more options on the module's lines."""
    copy_machine_stacks(box)
    lastlog_as_the_machine(box)
    # install.sh --enable system gives a login service that includes no common-session
    # (runuser-l) the include line itself; per service and system-wide, it is added once.
    outside = not reaches_common_session(box, program.service)
    if mode in ("service", "both") or outside:
        box.service("pyutmp", include_file(box).replace(str(box.native_module),
                                                        f"{box.native_module}{extra}"))
        add_after_sessions(box, program.service, INCLUDE_LINE)
    if mode in ("system", "both"):
        line = profile_line(box).replace(str(box.native_module), f"{box.native_module}{extra}")
        add_to_common_session(box, line)


def reaches_common_session(box: Sandbox, service: str) -> bool:
    return any(line.file.endswith("/common-session") for line in session_stack(box, service))


# --- who writes what ------------------------------------------------------------

def session_stack(box: Sandbox, service: str) -> list[stack.ModuleLine]:
    return stack.session_lines(service, (str(box.root / "pam.d"),))


def option(args: tuple[str, ...], name: str) -> str:
    return next((arg.partition("=")[2] for arg in args if arg.startswith(name + "=")), "")


def module_lines(box: Sandbox, program: Program) -> list[stack.ModuleLine]:
    """The module's lines in the service's session stack."""
    return [line for line in session_stack(box, program.service)
            if line.module == "pam_pyutmp.so"]


def module_runs(box: Sandbox, program: Program) -> bool:
    """The module is in the service's stack and does not skip it (skip_if=)."""
    lines = module_lines(box, program)
    return bool(lines) and program.service not in option(lines[0].args, "skip_if").split(",")


def in_stack(box: Sandbox, program: Program, module: str) -> bool:
    """``module`` runs in the service's session stack (and does not skip it)."""
    return any(line.module == module
               and program.service not in option(line.args, "skip_if").split(",")
               for line in session_stack(box, program.service))


# sshd and, from OpenSSH 9.8 on, the per-connection program it runs.
SSHD_PROGRAMS = (SSHD, "/usr/lib/openssh/sshd-session")


def sshd_links(library: str) -> bool:
    """sshd records in wtmpdb or lastlog2 itself (Debian 13's sshd-session links
    libwtmpdb: pam_wtmpdb's profile skips sshd for it)."""
    return any(library.encode() in Path(path).read_bytes()
               for path in SSHD_PROGRAMS if Path(path).exists())


@dataclass(frozen=True)
class Expected:
    """How many records of each kind one session leaves (0 or 1), and why none."""

    utmp: int
    wtmp: int
    wtmpdb: int
    lastlog: int
    lastlog2: int
    message: int  # "Last login" lines at the second session


def expected(box: Sandbox, program: Program) -> Expected:
    runs = module_runs(box, program)
    sshd, login = program.name == "sshd", program.name == "login"
    # Debian 12's login writes utmp and has pam_lastlog (wtmp, lastlog, the message) in its
    # stack; Debian 13's util-linux login writes none, and there is no pam_lastlog.
    lastlog_module = in_stack(box, program, "pam_lastlog.so")
    lastlog2_module = in_stack(box, program, "pam_lastlog2.so")
    wtmpdb = ((runs and HAVE_PAM_WTMPDB) or in_stack(box, program, "pam_wtmpdb.so")
              or (sshd and sshd_links("libwtmpdb")))
    lastlog2 = ((runs and HAVE_PAM_LASTLOG2) or lastlog2_module
                or (sshd and sshd_links("liblastlog2")))
    return Expected(
        utmp=int(runs or sshd or (login and LOGIN_WRITES_UTMP)),
        wtmp=int(runs or sshd or lastlog_module),
        wtmpdb=int(wtmpdb),
        lastlog=int(runs or lastlog_module or (sshd and box.lastlog.exists())),
        lastlog2=int(lastlog2),
        # One of the module, pam_lastlog or pam_lastlog2 (the module leaves it to the other
        # two); else sshd's own, from lastlog (PrintLastLog, turned off where a module
        # prints one: see start()).
        message=int(pam_prints_last_login(box, program)
                    or (sshd and box.lastlog.exists())),
    )


# --- a session ------------------------------------------------------------------

def session(box: Sandbox, program: Program, user: User, ssh: SshServer | None) -> Terminal:
    """One session of ``program`` on a pty of its own: `who /run/utmp` while it runs."""
    argv = ssh.ssh_argv() if ssh else [arg.format(user=user.name) for arg in program.argv]
    term = box.on_terminal(argv, shell_steps("$ ", "who /run/utmp"))
    assert term.status == 0, term.output
    if ssh:  # sshd closes the session once the client has gone
        ssh.wait_logged_out()
        wait_for("sshd's logout in wtmpdb", lambda: all(
            row[0] is not None for row in wtmpdb_rows(box, user.name, "Logout")))
    return term


def live(term: Terminal, user: User) -> list[str]:
    """The lines who listed the user on while the session ran."""
    return [line.split()[1] for line in term.section(0) if line.split()[0] == user.name]


def wtmpdb_rows(box: Sandbox, user: str, columns: str) -> list[tuple[object, ...]]:
    """The user's rows in the wtmpdb databases of the sandbox (one file where
    /var/lib/wtmpdb/wtmp.db links to /var/log/wtmp.db, as on Debian 13)."""
    paths = {path.resolve() for path in (box.root / WTMPDB, box.root / "lib/wtmpdb/wtmp.db")
             if path.exists()}
    return [row for path in sorted(paths)
            for row in db_rows(path, f"SELECT {columns} FROM wtmp WHERE User = '{user}' "
                                     "ORDER BY ID")]


def lastlog2_rows(box: Sandbox, user: str, columns: str) -> list[tuple[object, ...]]:
    path = box.root / LASTLOG2
    if not path.exists():
        return []
    return db_rows(path, f"SELECT {columns} FROM Lastlog2 WHERE Name = '{user}'")


def lastlog_line(box: Sandbox, user: User) -> str:
    """The user's lastlog record as `lastlog -u` prints it ("" for none)."""
    if not (box.root / "log" / "lastlog").exists():
        return ""
    printed = reader(box, "lastlog", "-u", user.name).splitlines()
    return "" if "Never logged in" in printed[1] else printed[1]


def messages(term: Terminal) -> list[str]:
    return [line for line in term.output.splitlines() if line.startswith("Last login")]


def opened(box: Sandbox) -> list[str]:
    return [line for line in box.our_syslog() if "session opened" in line]


# --- the matrix -----------------------------------------------------------------

@pytest.fixture
def prepared(request: pytest.FixtureRequest, sandbox: Sandbox
             ) -> tuple[Program, User, SshServer | None]:
    program: Program = request.param
    installed(program)
    if program.name != "sshd":
        return program, sandbox.add_user("pyutest"), None
    ssh: SshServer = request.getfixturevalue("server")
    return program, ssh.user, ssh


def start(box: Sandbox, ssh: SshServer | None) -> None:
    if ssh:
        if pam_prints_last_login(box, PROGRAMS[4]):
            # pyutmp doctor's fix for sshd's own message beside a module's (Debian 13's
            # pam_lastlog2 in common-session): test_doctor.py shows it is named.
            ssh.more_config = "PrintLastLog no\n"
        ssh.start(None)  # the stack as enable() wrote it


def pam_prints_last_login(box: Sandbox, program: Program) -> bool:
    """The module, pam_lastlog or pam_lastlog2 shows "Last login" in the service's stack
    (the module leaves it to the other two)."""
    return (module_runs(box, program) or in_stack(box, program, "pam_lastlog.so")
            or in_stack(box, program, "pam_lastlog2.so"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("prepared", PROGRAMS, ids=[p.name for p in PROGRAMS], indirect=True)
def test_each_session_is_recorded_once(
        sandbox: Sandbox, prepared: tuple[Program, User, SshServer | None], mode: str) -> None:
    """Two sessions one after the other: while the first runs who lists the user once; after
    it wtmp holds one closed pair and lastlog the login; the second shows one "Last login",
    naming the first's terminal (the first none).  With the module twice in the stack (per
    service and system-wide) the second line records nothing and says so once per session.

    Each program, whoever writes its records: runuser's stack includes no common-session,
    so system-wide enabling gives runuser-l the include line; sshd, and Debian 12's login,
    write their own and are skipped (skip_if); Debian 13's login writes none, and the
    module records it.  sshd prints its own "Last login" beside pam_lastlog2's in
    common-session (Debian 13): with doctor's fix (PrintLastLog no), one."""
    program, user, ssh = prepared
    enable(sandbox, program, mode)
    two_sessions_recorded_once(sandbox, program, user, ssh)


NO_WTMPDB = "pam_wtmpdb is not installed here (Debian 13's libpam-wtmpdb)"
NO_LASTLOG2 = "pam_lastlog2 is not installed here (Debian 13's libpam-lastlog2)"
DATABASES = [
    pytest.param("wtmpdb", marks=pytest.mark.skipif(not HAVE_PAM_WTMPDB, reason=NO_WTMPDB)),
    pytest.param("lastlog2", marks=pytest.mark.skipif(not HAVE_PAM_LASTLOG2, reason=NO_LASTLOG2)),
]


def database_rows(box: Sandbox, user: str, database: str) -> list[tuple[object, ...]]:
    """The user's rows: (user, 1) each, the 1 saying a wtmpdb row has its logout."""
    if database == "wtmpdb":
        return wtmpdb_rows(box, user, "User, Logout IS NOT NULL")
    return lastlog2_rows(box, user, "Name, 1")


@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("prepared", PROGRAMS, ids=[p.name for p in PROGRAMS], indirect=True)
def test_each_session_has_one_database_row(
        sandbox: Sandbox, prepared: tuple[Program, User, SshServer | None], mode: str,
        database: str) -> None:
    """One session leaves one wtmpdb row with its logout and one lastlog2 row, whoever writes
    it: pam_wtmpdb or pam_lastlog2 in common-session (the module, with the options install.sh
    gives it here, leaves the row to them), the module where they are not in the stack
    (runuser), sshd itself (Debian 13's links libwtmpdb; pam_wtmpdb skips sshd).  Where
    pam_wtmpdb is installed every session has its row: Debian 13's `last` reads no other."""
    program, user, ssh = prepared
    enable(sandbox, program, mode)
    want = expected(sandbox, program)
    start(sandbox, ssh)
    session(sandbox, program, user, ssh)
    count = want.wtmpdb if database == "wtmpdb" else want.lastlog2
    if database == "wtmpdb":  # Debian 13's `last` reads wtmpdb alone: every session is there
        assert count == 1, want
    rows = database_rows(sandbox, user.name, database)
    assert rows == [(user.name, 1)] * count, (want, rows)


def two_sessions_recorded_once(sandbox: Sandbox, program: Program, user: User,
                               ssh: SshServer | None) -> None:
    """The checks of test_each_session_is_recorded_once on the stacks as they are now."""
    want = expected(sandbox, program)
    # What every program must leave, whoever writes it: one live entry, one wtmp pair,
    # a last login kept, at most one message.
    assert (want.utmp, want.wtmp, want.message) == (1, 1, 1), want
    assert want.lastlog or want.lastlog2, want
    start(sandbox, ssh)

    first = session(sandbox, program, user, ssh)
    lines = live(first, user)
    assert len(lines) == want.utmp, (want, first.output)
    line = lines[0] if lines else first.line  # the terminal the records name

    wtmp = dump(sandbox, "/var/log/wtmp")
    logins = {r.line for r in wtmp if r.type == USER_PROCESS and r.user == user.name}
    pair = [r.type for r in wtmp if r.line in logins]
    assert pair == [USER_PROCESS, DEAD_PROCESS] * want.wtmp, (want, wtmp)
    sessions = [s for s in last_sessions(sandbox) if s[0] == user.name]
    assert len(sessions) == want.wtmp and all(closed(s) for s in sessions), sessions
    record = lastlog_line(sandbox, user)
    assert bool(record) == bool(want.lastlog) and (not record or line in record), (want, record)
    ours = opened(sandbox)
    assert len(ours) == int(module_runs(sandbox, program)), ours
    notices = [entry for entry in sandbox.our_syslog() if NOTICE in entry]
    # Twice in the stack where the service includes common-session (runuser's does not).
    twice = len(module_lines(sandbox, program)) > 1 and bool(ours)
    assert len(notices) == int(twice), notices

    second = session(sandbox, program, user, ssh)
    shown = messages(second)
    assert len(shown) == want.message, (want, second.output)
    # An ssh login's messages name the host: sshd's no line, pam_lastlog2's PAM_TTY "ssh".
    previous = "from 127.0.0.1" if program.name == "sshd" else f"on {line}"
    assert all(previous in message for message in shown), (previous, shown)
    assert "Last login" not in first.output, first.output  # no login before the first


# --- rows as the distribution's modules write them ----------------------------------

def without(box: Sandbox, module: str) -> None:
    """common-session without ``module``'s line."""
    text = (box.root / "pam.d" / "common-session").read_text()
    box.service("common-session", "".join(line for line in text.splitlines(True)
                                          if module not in line))


COMPARED = {program.name: program for program in PROGRAMS if program.name in ("su", "sudo")}


@pytest.mark.skipif(not (HAVE_PAM_WTMPDB and HAVE_PAM_LASTLOG2),
                    reason="pam_wtmpdb and pam_lastlog2 are not both installed here "
                           "(Debian 13's libpam-wtmpdb and libpam-lastlog2)")
@pytest.mark.parametrize("name", COMPARED)
def test_rows_match_pam_wtmpdb_and_pam_lastlog2(sandbox: Sandbox, name: str) -> None:
    """The same session recorded by pam_wtmpdb and pam_lastlog2 alone (the module absent),
    then by the module alone (wtmpdb lastlog2 on, those two modules out of common-session):
    the rows agree column by column but for the row ID and the times."""
    program = COMPARED[name]
    installed(program)
    user = sandbox.add_user("pyutest")
    copy_machine_stacks(sandbox)
    assert not module_runs(sandbox, program)
    theirs = session(sandbox, program, user, None)
    their_row = lastlog2_rows(sandbox, user.name, "Name, TTY, RemoteHost, Service")

    enable(sandbox, program, "service")
    for module in ("pam_wtmpdb.so", "pam_lastlog2.so"):
        without(sandbox, module)
    assert module_runs(sandbox, program) and not in_stack(sandbox, program, "pam_wtmpdb.so")
    mine = session(sandbox, program, user, None)
    my_row = lastlog2_rows(sandbox, user.name, "Name, TTY, RemoteHost, Service")

    columns = ("Type, User, TTY, RemoteHost, Service, Login IS NOT NULL, "
               "Logout IS NOT NULL")
    rows = wtmpdb_rows(sandbox, user.name, columns)
    assert len(rows) == 2, rows
    assert _same_tty(rows[0], theirs) == _same_tty(rows[1], mine), rows
    assert [_same_tty(row, theirs) for row in their_row] == \
           [_same_tty(row, mine) for row in my_row], (their_row, my_row)
    assert len(opened(sandbox)) == 1


def _same_tty(row: tuple[object, ...], term: Terminal) -> tuple[object, ...]:
    """``row`` with the session's terminal, where it names it, as "<tty>": the two
    sessions ran on two ptys."""
    return tuple("<tty>" if value == term.line else value for value in row)


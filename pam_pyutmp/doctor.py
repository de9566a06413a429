"""`pyutmp doctor`: is pam_pyutmp set up right, end to end?

Each check gives findings: ok, warn (works, but not as it should) or fail
(something a login or a reader trips on), each with what to do about it.
Every path is read under ``root`` ("/" for this machine), so tests seed a
broken system in a directory and look at what the doctor says about it.
"""

from __future__ import annotations

import errno
import glob
import grp
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from typing import NamedTuple

from pam_pyutmp import options as module_options
from pam_pyutmp import stack, stores, syslogger
from pam_pyutmp.stack import pam_words
from pam_pyutmp.system import (
    DEFAULT_BTMP,
    DEFAULT_LASTLOG,
    DEFAULT_LASTLOG2,
    DEFAULT_UTMP,
    DEFAULT_WTMP,
    DEFAULT_WTMPDB,
    LASTLOG_SIZE,
    LOGIN_DEFS,
    lastlog_uid_max,
)

OK, WARN, FAIL = "ok", "warn", "fail"
PAM_DIR = "/etc/pam.d"
INCLUDE_FILE = "pyutmp"  # /etc/pam.d/pyutmp, which install.sh writes
INCLUDE_LINE = f"session include {INCLUDE_FILE}"
SECURITY_DIRS = ("/lib/security", "/lib64/security", "/usr/lib/security", "/usr/lib64/security",
                 "/lib/*/security", "/usr/lib/*/security")
# Services that write utmp, wtmp and lastlog themselves (see pam_pyutmp(8)).
SELF_RECORDING = ("sshd", "login")
SSHD_CONFIG = "/etc/ssh/sshd_config"
# sshd and, from OpenSSH 9.8 on, the per-connection program that prints the message.
SSHD_PROGRAMS = ("/usr/sbin/sshd", "/usr/lib/openssh/sshd-session")
IMPORT_TIMEOUT = 60  # seconds for the interpreter to import the module
SOCKET_TIMEOUT = 2.0


class Finding(NamedTuple):
    check: str  # what was checked: "loader", "module", "pam.d", "pam_python", "file", ...
    status: str  # OK, WARN or FAIL
    message: str
    fix: str = ""

    def text(self) -> str:
        head = {OK: "ok  ", WARN: "WARN", FAIL: "FAIL"}[self.status]
        line = f"{head} {self.check}: {self.message}"
        return line + (f"\n     fix: {self.fix}" if self.fix else "")


class ModuleLine(NamedTuple):
    """A line of a PAM service file that runs pam_pyutmp."""

    service: str  # the file's name under /etc/pam.d
    number: int
    control: str
    loader: str  # "pam_python.so" or "pam_pyutmp.so" (the native loader)
    module_file: str | None  # the file pam_python.so loads; None for the native loader
    args: tuple[str, ...]
    module: str = ""  # the module as the line names it (a path, or a name in PAM's dirs)


def failed(findings: list[Finding]) -> bool:
    return any(finding.status == FAIL for finding in findings)


def run(root: str = "/", python: str | None = None) -> list[Finding]:
    """Every check, in the order a login meets what it checks."""
    system = _System(root)
    lines = list(system.module_lines())
    findings = list(_check_pam_d(system, lines))
    findings += _check_loader(system, lines, python)
    for opts in _option_sets(lines):
        findings += _check_files(system, opts)
        findings += _check_sockets(system, opts)
        if not opts.nolastlog:
            findings += _check_lastlog_cap(system, opts)
        findings += _check_databases(system, opts)
    findings += _check_lost_records(system)
    # One finding per subject: option sets that share a file repeat its checks.
    return list(dict.fromkeys(findings))


def _check_lost_records(system: _System) -> Iterator[Finding]:
    """Log records the log daemon did not take in time, not yet reported by a later one."""
    try:
        lost = os.stat(system.path(syslogger.LOST_FILE)).st_size
    except OSError:
        return
    if lost:
        yield Finding("log", WARN, f"{lost} log record(s) of pam_pyutmp could not be delivered "
                                   f"(the log daemon took none within {syslogger.SEND_TIMEOUT:g} "
                                   "s) and no later record has reported them yet",
                      "check the log daemon (journald or rsyslog) and its queue "
                      "(sysctl net.unix.max_dgram_qlen)")


class _System:
    """The machine under ``root``."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def path(self, path: str) -> str:
        """``path`` of the checked system, as this process reaches it."""
        return os.path.join(self.root, path.lstrip("/"))

    def pam_files(self) -> list[str]:
        directory = self.path(PAM_DIR)
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return []
        return [name for name in names if os.path.isfile(os.path.join(directory, name))]

    def pam_lines(self, service: str) -> Iterator[tuple[int, list[str]]]:
        try:
            with open(os.path.join(self.path(PAM_DIR), service), errors="replace") as text:
                lines = text.read().splitlines()
        except OSError:
            return
        for number, line in enumerate(lines, 1):
            words = pam_words(line.split("#", 1)[0])
            if words:
                yield number, words

    def module_lines(self) -> Iterator[ModuleLine]:
        for service in self.pam_files():
            for number, words in self.pam_lines(service):
                if len(words) < 3 or words[0].lstrip("-").lower() != "session":
                    continue
                control, module, args = words[1], words[2], words[3:]
                base = os.path.basename(module)
                if base == "pam_python.so" and args and "pam_pyutmp" in os.path.basename(args[0]):
                    yield ModuleLine(service, number, control, base, args[0], tuple(args[1:]),
                                     module)
                elif base == "pam_pyutmp.so":
                    yield ModuleLine(service, number, control, base, None, tuple(args), module)

    def includes(self, service: str) -> set[str]:
        """The service files whose session lines ``service`` brings in."""
        out = set()
        for _number, words in self.pam_lines(service):
            if words[0] == "@include" and len(words) > 1:
                out.add(os.path.basename(words[1]))
            elif (len(words) > 2 and words[0].lstrip("-").lower() == "session"
                  and words[1] in ("include", "substack")):
                out.add(os.path.basename(words[2]))
        return out

    def group_name(self, gid: int) -> str:
        for entry in self._colon_file("/etc/group"):
            if len(entry) > 2 and entry[2] == str(gid):
                return entry[0]
        try:
            return grp.getgrgid(gid).gr_name if self.root == "/" else str(gid)
        except KeyError:
            return str(gid)

    def group_id(self, name: str) -> int | None:
        for entry in self._colon_file("/etc/group"):
            if len(entry) > 2 and entry[0] == name and entry[2].isdigit():
                return int(entry[2])
        return None

    def uids(self) -> list[tuple[str, int]]:
        return [(entry[0], int(entry[2])) for entry in self._colon_file("/etc/passwd")
                if len(entry) > 2 and entry[2].isdigit()]

    def _colon_file(self, path: str) -> list[list[str]]:
        try:
            with open(self.path(path), errors="replace") as text:
                return [line.split(":") for line in text.read().splitlines()]
        except OSError:
            return []


def _option_sets(lines: list[ModuleLine]) -> list[module_options.Options]:
    """The distinct option sets of the module's lines; the defaults when there is none
    (the files an installed module would use)."""
    sets = [module_options.parse(line.args) for line in lines] or [module_options.Options()]
    return list(dict.fromkeys(sets))


# --- PAM configuration -------------------------------------------------------------


def _check_pam_d(system: _System, lines: list[ModuleLine]) -> Iterator[Finding]:
    pam_dir = system.path(PAM_DIR)
    services = system.pam_files()
    if not services:
        yield Finding("pam.d", FAIL, f"{pam_dir} has no service files",
                      "is this the right --root? PAM reads its services from /etc/pam.d")
        return
    stacks = {service: stack.session_lines(service, (pam_dir,)) for service in services}
    # Each service's lines that run the module, through any include.
    using = {service: [line for line in stack_lines if _runs_module(line)]
             for service, stack_lines in stacks.items()}
    using = {service: found for service, found in using.items() if found}
    for service in services:
        for name in sorted(system.includes(service)):
            if not os.path.exists(os.path.join(pam_dir, name)):
                yield Finding("pam.d", FAIL, f"{pam_dir}/{service} includes {name}, which does "
                                             "not exist: PAM fails that service's sessions",
                              f"./install.sh (it writes {PAM_DIR}/{INCLUDE_FILE}), or remove "
                              "the include line")
    if not lines:
        yield Finding("pam.d", WARN, f"no service in {pam_dir} runs pam_pyutmp",
                      "sudo ./install.sh --enable su (or another service)")
        return
    for line in lines:
        where = f"{pam_dir}/{line.service} line {line.number}"
        opts = module_options.parse(line.args)
        for problem in opts.problems:
            yield Finding("pam.d", WARN, f"{where}: option ignored: {problem}",
                          "see pam_pyutmp(8) for the options")
        if line.control not in ("optional", "[default=ignore]"):
            yield Finding("pam.d", WARN, f"{where}: control {line.control!r}: a failure of "
                                         "pam_pyutmp would refuse the session",
                          "use 'optional', as the include file does")
    # The files only ever included are no services (the include file, common-*).
    users = sorted(name for name in using
                   if name != INCLUDE_FILE and not name.startswith("common-"))
    if not users:
        direct = sorted({line.service for line in lines})
        yield Finding("pam.d", WARN, f"pam_pyutmp is configured ({', '.join(direct)}) "
                                     "but no service includes it",
                      "sudo ./install.sh --enable su (or another service)")
    else:
        yield Finding("pam.d", OK, f"services that run pam_pyutmp: {', '.join(users)}")
    for service in users:
        yield from _check_overlaps(service, stacks[service], using[service])
    if "sshd" in stacks:
        yield from _check_sshd_message(system, stacks["sshd"], using.get("sshd", []))
    for name in SELF_RECORDING:
        if name in using and _writes_own_records(system, name):
            skipping = [line for line in using[name]
                        if name in module_options.parse(line.args).skip_if]
            if not skipping:
                yield Finding("pam.d", WARN, f"{name} runs pam_pyutmp without skip_if={name}: "
                                             f"{name} writes its own records, so each session "
                                             "is recorded twice",
                              f"add skip_if={name} to the module line (the include file has "
                              "skip_if=sshd,login)")


def _writes_own_records(system: _System, program: str) -> bool:
    """sshd writes utmp and wtmp itself; login where it calls the C library's
    pututline (shadow's login; util-linux's login on Debian 13 writes none)."""
    if program != "login":
        return True
    for directory in ("/usr/bin", "/bin"):
        try:
            with open(system.path(f"{directory}/login"), "rb") as binary:
                return re.search(rb"pututx?line", binary.read()) is not None
        except OSError:
            continue
    return True  # no login to look at: assume it does, as Debian 12's


def _runs_module(line: stack.ModuleLine) -> bool:
    return line.module == "pam_pyutmp.so" or (
        line.module == "pam_python.so" and bool(line.args)
        and "pam_pyutmp" in os.path.basename(line.args[0]))


def _check_overlaps(service: str, lines: list[stack.ModuleLine],
                    ours: list[stack.ModuleLine]) -> Iterator[Finding]:
    """The module twice in one stack, and the other writers it leaves records to."""
    if len(ours) > 1:
        where = " and ".join(f"{line.file} line {line.number}" for line in ours)
        yield Finding("pam.d", WARN, f"{service} runs pam_pyutmp {len(ours)} times ({where}): "
                                     "only the first records the session",
                      "keep one of those lines (a service's own include and a system-wide "
                      "line, say)")
    opts = module_options.parse(ours[0].args)
    left = opts.leaving(stack.others_in(lines, service))
    kept = [what for what, mine, theirs in (
        ("wtmp", opts.nowtmp, left.nowtmp), ("lastlog", opts.nolastlog, left.nolastlog),
        ("the \"Last login\" message", opts.nolastlogmsg, left.nolastlogmsg),
        ("wtmpdb", not (opts.wtmpdb or opts.wtmpdb_path),
         not (left.wtmpdb or left.wtmpdb_path)),
        ("lastlog2", not (opts.lastlog2 or opts.lastlog2_path),
         not (left.lastlog2 or left.lastlog2_path)),
    ) if theirs and not mine]
    if kept and not opts.ignore_others:
        others = sorted({line.module for line in lines} & set(stack.WRITERS))
        yield Finding("pam.d", OK, f"{service}: {', '.join(kept)} left to "
                                   f"{', '.join(others)}, which writes it in the same stack")


def _check_sshd_message(system: _System, lines: list[stack.ModuleLine],
                        ours: list[stack.ModuleLine]) -> Iterator[Finding]:
    """sshd prints a "Last login" of its own (PrintLastLog, from lastlog) beside any
    module of its session stack that prints one: Debian 13's pam_lastlog2 in
    common-session does, so a stock ssh login there shows two."""
    printers = [f"pam_lastlog2 ({line.file} line {line.number})" for line in lines
                if line.module == "pam_lastlog2.so" and "silent" not in line.args]
    printers += [f"pam_lastlog ({line.file} line {line.number})" for line in lines
                 if line.module == "pam_lastlog.so" and "silent" not in line.args]
    if ours and not printers:
        opts = module_options.parse(ours[0].args)
        if "sshd" not in opts.skip_if and not opts.nolastlogmsg:
            printers.append(f"pam_pyutmp ({ours[0].file} line {ours[0].number})")
    if not printers or not _sshd_prints_last_login(system):
        return
    yield Finding("pam.d", WARN, f"sshd: an ssh login shows {1 + len(printers)} \"Last login\" "
                                 f"lines: sshd's own (PrintLastLog) and {', '.join(printers)}'s",
                  f"PrintLastLog no in {SSHD_CONFIG}.d/ (a .conf file) or {SSHD_CONFIG}, "
                  "then reload sshd: the session's modules show the last login alone")


def _sshd_prints_last_login(system: _System) -> bool:
    """sshd is here, built to print the last login, and its configuration lets it."""
    built = False
    for program in SSHD_PROGRAMS:
        try:
            with open(system.path(program), "rb") as binary:
                built = built or b"Last login: %s" in binary.read()
        except OSError:
            continue
    if not built:
        return False
    value = _sshd_option(system, "printlastlog", SSHD_CONFIG, 0)
    return value is None or value.lower() != "no"


def _sshd_option(system: _System, name: str, path: str, depth: int) -> str | None:
    """The global value of an sshd_config keyword: the first one met, Include files
    read where they stand (as sshd reads them); a Match block ends the global part."""
    try:
        with open(system.path(path), errors="replace") as config:
            text = config.read()
    except OSError:
        return None
    for line in text.splitlines():
        words = line.split("#", 1)[0].replace("=", " ", 1).split()
        if len(words) < 2:
            continue
        key = words[0].lower()
        if key == "match":
            return None
        if key == "include" and depth < 8:
            for pattern in words[1:]:
                pattern = pattern if pattern.startswith("/") else f"/etc/ssh/{pattern}"
                for found in sorted(glob.glob(system.path(pattern))):
                    inner = "/" + os.path.relpath(found, system.root)
                    value = _sshd_option(system, name, inner, depth + 1)
                    if value is not None:
                        return value
        elif key == name:
            return words[1]
    return None


# --- the loader: pam_pyutmp.so, never pam_python.so --------------------------------

# Services whose program has another name.
_PROGRAM_OF_SERVICE = {"su-l": "su", "sudo-i": "sudo", "polkit-1": "pkexec"}
_PROGRAM_DIRS = ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/lib/polkit-1")
_ESCALATION = ("pam_python.so finds its Python through the caller's PATH, so a user who "
               "runs {program} can make it run their own code as root")


def _security_file(system: _System, name: str) -> str | None:
    for pattern in SECURITY_DIRS:
        for directory in sorted(glob.glob(system.path(pattern))):
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                return candidate
    return None


def _linked_python(path: str) -> str | None:
    """"3.11" for a module linked with libpython3.11."""
    try:
        with open(path, "rb") as shared:
            found = re.search(rb"libpython(\d+\.\d+)", shared.read())
    except OSError:
        return None
    return found.group(1).decode() if found else None


def _setuid_program(system: _System, service: str) -> str | None:
    """The setuid-root program that runs ``service``'s stack for whoever calls it."""
    name = _PROGRAM_OF_SERVICE.get(service, service)
    for directory in _PROGRAM_DIRS:
        path = f"{directory}/{name}"
        try:
            st = os.stat(system.path(path))
        except OSError:
            continue
        if st.st_mode & stat.S_ISUID and st.st_uid == 0:
            return path
    return None


def _check_loader(system: _System, lines: list[ModuleLine], python: str | None
                  ) -> Iterator[Finding]:
    for named in sorted({line.module for line in lines if line.loader == "pam_pyutmp.so"}):
        yield from _check_native(system, named, python)
    pam_dir = system.path(PAM_DIR)
    for line in lines:
        if line.loader == "pam_python.so":
            yield Finding("loader", FAIL,
                          f"{pam_dir}/{line.service} line {line.number} loads pam_pyutmp with "
                          "pam_python.so, which is not supported: it finds its Python through "
                          "the caller's PATH and starts a new one for every PAM transaction",
                          f"./install.sh, then use '{INCLUDE_LINE}' in place of that line "
                          "(it loads pam_pyutmp.so)")
    for service in system.pam_files():
        program = _setuid_program(system, service)
        if program is None:
            continue
        for found in stack.stack_lines(service, (pam_dir,)):
            if found.module != "pam_python.so":
                continue
            yield Finding("pam_python", FAIL,
                          f"root escalation: {found.file} line {found.number} loads "
                          f"pam_python.so in the stack of {program}, a setuid-root program: "
                          + _ESCALATION.format(program=os.path.basename(program)),
                          "remove that line (for pam_pyutmp: "
                          f"'{INCLUDE_LINE}', which loads pam_pyutmp.so)")


def _check_native(system: _System, named: str, python: str | None) -> Iterator[Finding]:
    """pam_pyutmp.so, the native loader: there, and its Python able to import the package."""
    native = (system.path(named) if named.startswith("/")
              else _security_file(system, os.path.basename(named)))
    if native is None or not os.path.isfile(native):
        yield Finding("loader", FAIL, f"{named} (the native loader) is missing, so PAM cannot "
                                      "load the module", "./install.sh")
        return
    version = _linked_python(native)
    yield Finding("loader", OK, f"{native} is there, linked with Python {version or '?'}")
    interpreter = python or _interpreter(version)
    try:
        done = subprocess.run([interpreter, "-I", "-c", "import pam_pyutmp.pam"],
                              capture_output=True, text=True, env={}, cwd="/",
                              timeout=IMPORT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        yield Finding("module", FAIL, f"cannot run {interpreter}: {err}",
                      "give the interpreter the loader links with --python")
        return
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        yield Finding("module", FAIL, f"{interpreter} cannot import pam_pyutmp.pam: "
                                      f"{lines[-1] if lines else done.returncode}",
                      f"./install.sh installs the package for {interpreter}")
    else:
        yield Finding("module", OK, f"{interpreter} imports pam_pyutmp.pam")


def _interpreter(version: str | None) -> str:
    if version is not None and os.path.exists(f"/usr/bin/python{version}"):
        return f"/usr/bin/python{version}"
    return sys.executable


# --- files, sockets ------------------------------------------------------------------


def _backend(system: _System, opts: module_options.Options) -> str:
    if opts.backend != "auto":
        return opts.backend
    socket_path = opts.utmpd_socket or stores.DEFAULT_UTMPD_SOCKET
    return "utmps" if os.path.exists(system.path(socket_path)) else "files"


def _check_files(system: _System, opts: module_options.Options) -> Iterator[Finding]:
    wanted: list[tuple[str, str, bool]] = []  # what, path, created by the module
    if _backend(system, opts) == "files":
        if not opts.noutmp:
            wanted.append(("utmp", opts.utmp_path or DEFAULT_UTMP, False))
        if not opts.nowtmp:
            wanted.append(("wtmp", opts.wtmp_path or DEFAULT_WTMP, False))
    if not opts.nolastlog:
        wanted.append(("lastlog", opts.lastlog_path or DEFAULT_LASTLOG, True))
    utmp_gid = system.group_id("utmp")
    for what, target, created in wanted:
        yield from _check_file(system, what, target, created, utmp_gid)
    yield from _check_btmp(system, opts.btmp_path or DEFAULT_BTMP)


def _check_btmp(system: _System, target: str) -> Iterator[Finding]:
    """btmp holds whatever was typed as a user name, passwords too: no one but root
    and the utmp group may read it (the module refuses to add to it otherwise)."""
    path = system.path(target)
    try:
        st = os.lstat(path)
    except OSError:
        return  # made 0660 at the first failed attempt
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISREG(st.st_mode) and not mode & (stat.S_IROTH | stat.S_IWOTH):
        yield Finding("file", OK, f"btmp {path}: mode {mode:04o}, not readable by others")
        return
    yield Finding("file", FAIL, f"btmp {path} is not a private regular file (mode {mode:04o}): "
                                "it holds what was typed as user names, passwords too, and the "
                                "module adds no failed attempt to it",
                  f"chmod 0660 {target} && chgrp utmp {target}")


def _check_file(system: _System, what: str, target: str, created: bool, utmp_gid: int | None
                ) -> Iterator[Finding]:
    path = system.path(target)
    expected_group = "utmp" if utmp_gid is not None else "root"
    make = (f"install -m 0664 -o root -g {expected_group} /dev/null {target}")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if created:
            yield Finding("file", OK, f"{what} {path} is not there yet: the first login "
                                      "creates it (0664 root:utmp)")
        else:
            yield Finding("file", FAIL, f"{what} {path} is missing: the module never creates "
                                        f"it (a missing {what} means accounting is off), so "
                                        "every session logs an error", make)
        return
    except OSError as err:
        yield Finding("file", FAIL, f"{what} {path}: {err.strerror}")
        return
    if not stat.S_ISREG(st.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
        yield Finding("file", FAIL, f"{what} {path} is {kind}: the module refuses it",
                      f"rm {target} && {make}")
        return
    mode = stat.S_IMODE(st.st_mode)
    problems = []
    if mode & stat.S_IWOTH:
        problems.append((FAIL, f"is writable by everyone (mode {mode:04o}): any user can forge "
                               "or erase login records", f"chmod 0664 {target}"))
    if not mode & stat.S_IROTH:
        reader = {"utmp": "who and w", "wtmp": "last", "lastlog": "lastlog"}[what]
        problems.append((FAIL, f"is not readable by others (mode {mode:04o}): {reader} fail "
                               "for ordinary users", f"chmod 0664 {target}"))
    if st.st_uid != 0:
        problems.append((FAIL, f"belongs to uid {st.st_uid}, not root: that user can forge "
                               "login records", f"chown root {target}"))
    if utmp_gid is not None and st.st_gid not in (utmp_gid, 0):
        problems.append((WARN, f"has group {system.group_name(st.st_gid)}, not utmp: programs "
                               "that write it as group utmp (utempter, screen) cannot",
                         f"chgrp utmp {target}"))
    for status, text, fix in problems:
        yield Finding("file", status, f"{what} {path} {text}", fix)
    if not problems:
        yield Finding("file", OK, f"{what} {path}: mode {mode:04o}, owner root, group "
                                  f"{system.group_name(st.st_gid)}")


def _check_sockets(system: _System, opts: module_options.Options) -> Iterator[Finding]:
    if _backend(system, opts) != "utmps":
        return
    for daemon, target in (("utmpd", opts.utmpd_socket or stores.DEFAULT_UTMPD_SOCKET),
                           ("wtmpd", opts.wtmpd_socket or stores.DEFAULT_WTMPD_SOCKET)):
        yield _check_socket(daemon, system.path(target))


def _check_socket(daemon: str, path: str) -> Finding:
    service = f"utmps-{daemon}"
    try:
        st = os.stat(path)
    except OSError as err:
        return Finding("socket", FAIL, f"{daemon} socket {path}: {err.strerror}: {service} is "
                                       "not running", f"start {service} (on Alpine: rc-service "
                                                      "utmp-init start, or the s6 service)")
    if not stat.S_ISSOCK(st.st_mode):
        return Finding("socket", FAIL, f"{daemon} socket {path} is not a socket")
    if not os.access(path, os.W_OK):
        return Finding("socket", FAIL, f"{daemon} socket {path} is not writable for uid "
                                       f"{os.geteuid()}: connecting needs write permission",
                       "run as root, or check the socket's mode")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as sock:
        sock.settimeout(SOCKET_TIMEOUT)
        try:
            sock.connect(path)
        except OSError as err:
            why = ("nobody listens: the socket file is left from a daemon that is gone"
                   if err.errno == errno.ECONNREFUSED else os.strerror(err.errno or errno.EIO))
            return Finding("socket", FAIL, f"{daemon} socket {path} is unreachable: {why}",
                           f"restart {service}")
    return Finding("socket", OK, f"{daemon} socket {path} accepts connections")


# --- lastlog cap ---------------------------------------------------------------------


def _check_lastlog_cap(system: _System, opts: module_options.Options) -> Iterator[Finding]:
    defs = system.path(LOGIN_DEFS)
    cap = opts.lastlog_uid_max if opts.lastlog_uid_max is not None else lastlog_uid_max(defs)
    source = "lastlog_uid_max=" if opts.lastlog_uid_max is not None else f"{defs}"
    if cap is None:
        yield Finding("lastlog cap", WARN, f"no LASTLOG_UID_MAX in {defs}: a login with a uid "
                                           "near 2^32 makes lastlog a sparse file of about "
                                           f"{2**32 * LASTLOG_SIZE / 1e12:.1f} TB",
                      f"add 'LASTLOG_UID_MAX 4294967293' or lower to {LOGIN_DEFS}, or "
                      "lastlog_uid_max= to the module line")
        return
    above = sorted(name for name, uid in system.uids() if uid > cap)
    text = f"lastlog records uids up to {cap} ({source})"
    if above:
        text += f"; {len(above)} user(s) above it get none: {', '.join(above[:5])}"
    yield Finding("lastlog cap", OK, text)
    path = system.path(opts.lastlog_path or DEFAULT_LASTLOG)
    try:
        size = os.stat(path).st_size
    except OSError:
        return
    if size > (cap + 1) * LASTLOG_SIZE:
        yield Finding("lastlog cap", WARN, f"{path} is {size} bytes, more than the cap allows "
                                           f"({(cap + 1) * LASTLOG_SIZE}): records of uids "
                                           "above it were written before the cap was set",
                      "harmless; `lastlog --clear` of those uids, or leave it")


# --- databases -----------------------------------------------------------------------


def _check_databases(system: _System, opts: module_options.Options) -> Iterator[Finding]:
    from pam_pyutmp import databases  # sqlite3 only for this check

    for what, flag, path, default, columns, table in (
        ("wtmpdb", opts.wtmpdb, opts.wtmpdb_path, DEFAULT_WTMPDB,
         databases.WTMP_COLUMNS, "wtmp"),
        ("lastlog2", opts.lastlog2, opts.lastlog2_path, DEFAULT_LASTLOG2,
         databases.LASTLOG2_COLUMNS, "Lastlog2"),
    ):
        target = path or default
        in_use = flag or path is not None
        if in_use or os.path.exists(system.path(target)):
            yield from _check_database(system, what, target, in_use, columns, table)


def _check_database(system: _System, what: str, target: str, in_use: bool,
                    columns: tuple[str, ...], table: str) -> Iterator[Finding]:
    import sqlite3
    from urllib.parse import quote

    path = system.path(target)
    use = "written by the module" if in_use else "not written by the module"
    directory = os.path.dirname(path)
    if not os.path.exists(path):
        yield Finding("database", OK, f"{what} {path} ({use}) is not there yet: the first "
                                      "login creates it (directories 0755, file 0644)")
        return
    findings = []
    dir_mode = stat.S_IMODE(os.stat(directory).st_mode)
    if dir_mode & 0o005 != 0o005:
        findings.append(Finding("database", FAIL, f"{what}: {directory} has mode "
                                                  f"{dir_mode:04o}: ordinary users cannot "
                                                  "read the database", f"chmod 0755 {directory}"))
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & stat.S_IWOTH:
        findings.append(Finding("database", FAIL, f"{what} {path} is writable by everyone "
                                                  f"(mode {mode:04o})", f"chmod 0644 {target}"))
    if not mode & stat.S_IROTH:
        findings.append(Finding("database", FAIL, f"{what} {path} is not readable by others "
                                                  f"(mode {mode:04o}): last and lastlog2 fail "
                                                  "for ordinary users", f"chmod 0644 {target}"))
    if os.path.exists(path + "-journal"):
        findings.append(Finding("database", WARN, f"{what}: {path}-journal is there: a writer "
                                                  "died mid-transaction; ordinary users cannot "
                                                  "read until root opens the database",
                                "run `pyutmp last --source wtmpdb` (or lastlog) as root once"))
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=5)
        try:
            check = conn.execute("PRAGMA quick_check").fetchall()
            journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
            found = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            nulls = 0
            if table == "wtmp" and found:
                nulls = conn.execute("SELECT COUNT(*) FROM wtmp WHERE Login IS NULL OR Type "
                                     "IS NULL").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as err:
        findings.append(Finding("database", FAIL, f"{what} {path}: {err}",
                                "move it away; the next login starts a new one"))
        yield from findings
        return
    if check != [("ok",)]:
        findings.append(Finding("database", FAIL, f"{what} {path} is damaged: {check[0][0]}",
                                f"sqlite3 {target} .recover, or move it away"))
    if str(journal).lower() == "wal":
        findings.append(Finding("database", WARN, f"{what} {path} is in WAL mode: users who "
                                                  "may not write its directory cannot read it",
                                f"sqlite3 {target} 'PRAGMA journal_mode=DELETE'"))
    if found and tuple(found) != columns:
        findings.append(Finding("database", FAIL, f"{what} {path}: table {table} has columns "
                                                  f"{', '.join(found)}, not {', '.join(columns)}"
                                                  ": the upstream tools reject its rows",
                                "move it away; the next login starts a new one"))
    if nulls:
        findings.append(Finding("database", FAIL, f"{what} {path}: {nulls} row(s) without Login "
                                                  "or Type, which `wtmpdb last` cannot print",
                                f"sqlite3 {target} 'DELETE FROM wtmp WHERE Login IS NULL OR "
                                "Type IS NULL'"))
    if not findings:
        findings.append(Finding("database", OK, f"{what} {path} ({use}): healthy, mode "
                                                f"{mode:04o}, {journal} journal"))
    yield from findings

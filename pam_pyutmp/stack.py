"""A service's session stack as libpam reads it, and what the other modules in it
record, so that each login event is written once.

pam_lastlog writes lastlog and wtmp and shows "Last login"; pam_wtmpdb writes a
wtmpdb row; pam_lastlog2 writes lastlog2 and shows "Last login".  Where one of
them runs for the same service, the module leaves that record (and that
message) to it.  The stack is read from the PAM configuration directories,
which only root writes; the service name is libpam's (PAM_SERVICE), and one
that is not a plain file name is never looked up.
"""

from __future__ import annotations

import posix  # os's C half: os itself is kept off the login path
import time

from pam_pyutmp.system import DEFAULT_LASTLOG2, DEFAULT_WTMPDB, fresh, read_config, remember
from pam_pyutmp.values import Value

# Where libpam looks for a service's file, in its order (the second is the
# distribution's vendor directory of Linux-PAM 1.6 and later).
PAM_DIRS = ("/etc/pam.d", "/usr/lib/pam.d")
# The other modules that keep login records.
WRITERS = ("pam_lastlog.so", "pam_wtmpdb.so", "pam_lastlog2.so")
_FILE_MAX = 64 * 1024  # a PAM file is a few lines; more is not read
_DEPTH_MAX = 8  # includes within includes, as libpam bounds substacks


class ModuleLine(Value):
    """A module line of the stack: the module's file name, its arguments, where it is."""

    _fields = ("module", "args", "file", "number")
    __slots__ = _fields

    def __init__(self, module: str, args: tuple[str, ...], file: str, number: int) -> None:
        self.module = module  # the base name: "pam_lastlog.so"
        self.args = args
        self.file = file  # the PAM file the line is in
        self.number = number


class Others(Value):
    """What other modules of a session stack record: the database paths they
    write (None: none), and whether they write lastlog, wtmp and a "Last login",
    and show the failed attempts."""

    _fields = ("lastlog", "wtmp", "message", "wtmpdb", "lastlog2", "failed")
    __slots__ = _fields

    def __init__(self, lastlog: bool = False, wtmp: bool = False, message: bool = False,
                 wtmpdb: str | None = None, lastlog2: str | None = None,
                 failed: bool = False) -> None:
        self.lastlog = lastlog
        self.wtmp = wtmp
        self.message = message
        self.wtmpdb = wtmpdb
        self.lastlog2 = lastlog2
        self.failed = failed


NONE = Others()


def pam_words(line: str) -> list[str]:
    """The words of a PAM line; a bracketed control ("[success=ok default=bad]") is one."""
    words: list[str] = []
    for word in line.split():
        if words and words[-1].startswith("[") and not words[-1].endswith("]"):
            words[-1] += " " + word
        else:
            words.append(word)
    return words


def plain_name(name: str) -> bool:
    """A service or include name that names a file of the PAM directory itself."""
    return bool(name) and "/" not in name and name not in (".", "..") and "\0" not in name


def service_file(name: str, dirs: tuple[str, ...] = PAM_DIRS) -> str | None:
    """The file libpam reads for ``name``: the first of ``dirs`` that has it."""
    if not plain_name(name):
        return None
    for directory in dirs:
        path = f"{directory}/{name}"
        try:
            posix.stat(path)
        except OSError:
            continue
        return path
    return None


def lines(text: str) -> list[tuple[int, list[str]]]:
    """The numbered word lists of a PAM file: comments dropped, a line ending in a
    backslash joined with the next, as libpam joins them."""
    out: list[tuple[int, list[str]]] = []
    pending, first = "", 0
    for number, raw in enumerate(text.split("\n"), 1):
        if not pending:
            first = number
        line = pending + raw.split("#", 1)[0]
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        words = pam_words(line)
        if words:
            out.append((first, words))
    return out


def session_lines(service: str, dirs: tuple[str, ...] = PAM_DIRS) -> list[ModuleLine]:
    """The module lines of ``service``'s session stack, includes and substacks
    followed (each file once), in the order libpam runs them."""
    return stack_lines(service, dirs, ("session",))


def stack_lines(service: str, dirs: tuple[str, ...] = PAM_DIRS,
                types: tuple[str, ...] = ("auth", "account", "password", "session")
                ) -> list[ModuleLine]:
    """The module lines of ``types`` in ``service``'s stacks, includes followed."""
    found: list[ModuleLine] = []
    _collect(service, dirs, types, found, set(), 0)
    return found


def _collect(name: str, dirs: tuple[str, ...], types: tuple[str, ...], found: list[ModuleLine],
             seen: set[str], depth: int) -> None:
    path = service_file(name, dirs)
    if path is None or path in seen or depth > _DEPTH_MAX:
        return
    seen.add(path)
    text = read_config(path, _FILE_MAX)
    for number, words in lines(text or ""):
        if words[0] == "@include":
            if len(words) > 1:
                _collect(words[1], dirs, types, found, seen, depth + 1)
            continue
        if words[0].lstrip("-").lower() not in types or len(words) < 3:
            continue
        if words[1] in ("include", "substack"):
            _collect(words[2], dirs, types, found, seen, depth + 1)
        else:
            found.append(ModuleLine(words[2].rpartition("/")[2], tuple(words[3:]), path,
                                    number))


def _option(args: tuple[str, ...], name: str) -> str | None:
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key == name:
            return value
    return None


def others_in(modules: list[ModuleLine], service: str) -> Others:
    """What the known writers among ``modules`` record for ``service``."""
    others = Others()
    for line in modules:
        args = line.args
        if line.module == "pam_lastlog.so":
            others.lastlog = others.lastlog or "noupdate" not in args
            others.wtmp = others.wtmp or "nowtmp" not in args
            others.message = others.message or "silent" not in args
            others.failed = others.failed or "showfailed" in args
        elif line.module == "pam_wtmpdb.so":
            skipped = (_option(args, "skip_if") or "").split(",")
            if service not in skipped:
                others.wtmpdb = _option(args, "database") or DEFAULT_WTMPDB
        elif line.module == "pam_lastlog2.so":
            others.lastlog2 = _option(args, "database") or DEFAULT_LASTLOG2
            others.message = others.message or "silent" not in args
    return others


# What a look found, by service: when, and the answer.  A process that runs many
# sessions (pam_pyutmp.so keeps Python) reads the files at most once a second.
_seen: dict[str, tuple[float, Others]] = {}


def others(service: str) -> Others:
    """What the other modules of ``service``'s session stack record (NONE when the
    service has no file, or a name that is no plain file name)."""
    now = time.monotonic()
    seen = _seen.get(service)
    if seen is not None and fresh(seen[0], now):
        return seen[1]
    found = others_in(session_lines(service), service) if plain_name(service) else NONE
    remember(_seen, service, (now, found))
    return found

"""The module's options, as written after the module path in /etc/pam.d.

Parsed once per argument list.  As in Linux-PAM's own modules, an unknown or
malformed option is reported and ignored: a typo must never lock anyone out.
"""

from __future__ import annotations

import posix  # os's C half: os itself is kept off the login path

from pam_pyutmp.stack import NONE, Others
from pam_pyutmp.system import DEFAULT_LASTLOG2, DEFAULT_WTMPDB

FLAGS = {
    "debug": "debug",
    "silent": "silent",
    "noutmp": "noutmp",
    "nowtmp": "nowtmp",
    "nolastlog": "nolastlog",
    "nolastlogmsg": "nolastlogmsg",
    # pam_lastlog's message options
    "nodate": "nodate",
    "noterm": "noterm",
    "nohost": "nohost",
    "never": "never",
    # the SQLite databases, at upstream's paths (wtmpdb=PATH and lastlog2=PATH elsewhere)
    "wtmpdb": "wtmpdb",
    "lastlog2": "lastlog2",
    # every record even where another module of the stack writes it (see stack.py)
    "ignore_others": "ignore_others",
    # failed logins: record one in btmp (auth line), show them at the next login
    "authfail": "authfail",
    "typed_names": "typed_names",
    "showfailed": "showfailed",
}
PATHS = {
    "utmp": "utmp_path",
    "wtmp": "wtmp_path",
    "lastlog": "lastlog_path",
    "btmp": "btmp_path",
    "utmpd_socket": "utmpd_socket",
    "wtmpd_socket": "wtmpd_socket",
    "wtmpdb": "wtmpdb_path",
    "lastlog2": "lastlog2_path",
}
BACKENDS = ("auto", "files", "utmps")
# utmps_timeout= bounds: a login must never wait long on a hung daemon.
UTMPS_TIMEOUT_MAX = 60.0


class Options:
    """The options of one module line.  Each is an instance attribute once given;
    until then it reads as the class attribute here, its default.  Parsed options
    are shared by every call with the same words: read them, never change them."""

    debug: bool = False
    silent: bool = False
    noutmp: bool = False
    nowtmp: bool = False
    nolastlog: bool = False
    nolastlogmsg: bool = False
    nodate: bool = False
    noterm: bool = False
    nohost: bool = False
    never: bool = False
    skip_if: frozenset[str] = frozenset()
    utmp_path: str | None = None
    wtmp_path: str | None = None
    lastlog_path: str | None = None
    lastlog_uid_max: int | None = None  # None: LASTLOG_UID_MAX from login.defs
    backend: str = "auto"  # utmps when its utmpd socket exists, else files
    utmpd_socket: str | None = None
    wtmpd_socket: str | None = None
    utmps_timeout: float | None = None  # seconds per utmps call; None: the stores' default
    wtmpdb: bool = False  # wtmpdb at its default path (or wtmpdb_path)
    wtmpdb_path: str | None = None
    lastlog2: bool = False  # lastlog2 at its default path (or lastlog2_path)
    lastlog2_path: str | None = None
    ignore_others: bool = False
    authfail: bool = False  # an auth line the stack reaches when authentication failed
    typed_names: bool = False  # btmp keeps a name that is no account, not "(unknown)"
    showfailed: bool = False  # pam_lastlog's: the failed attempts since the last login
    btmp_path: str | None = None
    problems: tuple[str, ...] = ()  # the words ignored, each with the reason

    def leaving(self, others: Others) -> Options:
        """These options less the records (and the "Last login" message) that other
        modules of the stack write: a new object, as parsed options are shared."""
        if self.ignore_others or others == NONE:
            return self
        left = Options()
        left.__dict__.update(self.__dict__)
        left.nowtmp = self.nowtmp or others.wtmp
        left.nolastlog = self.nolastlog or others.lastlog
        left.nolastlogmsg = self.nolastlogmsg or others.message
        left.showfailed = self.showfailed and not others.failed
        if _same_database(others.wtmpdb, self.wtmpdb_path or (
                DEFAULT_WTMPDB if self.wtmpdb else None)):
            left.wtmpdb, left.wtmpdb_path = False, None
        if _same_database(others.lastlog2, self.lastlog2_path or (
                DEFAULT_LASTLOG2 if self.lastlog2 else None)):
            left.lastlog2, left.lastlog2_path = False, None
        return left


def _same_database(theirs: str | None, ours: str | None) -> bool:
    """Whether two modules write one database: the same path (both modules' default
    is one), or two names of one file (Debian 13 links /var/lib/wtmpdb/wtmp.db to
    /var/log/wtmp.db)."""
    if theirs is None or ours is None:
        return False
    if theirs == ours:
        return True
    try:
        one, other = posix.stat(theirs), posix.stat(ours)
    except OSError:
        return False
    return (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)


# Parsed option lists, by their words: a host runs the same pam.d lines again
# and again.  A plain dict (functools would cost every start of Python a
# millisecond); bounded, as a host could in theory pass ever new arguments.
_parsed: dict[tuple[str, ...], Options] = {}
_PARSED_MAX = 16


def parse(args: tuple[str, ...]) -> Options:
    """Options from the words after the module path; ``problems`` lists the
    words that were ignored, each with the reason."""
    options = _parsed.get(args)
    if options is None:
        if len(_parsed) >= _PARSED_MAX:
            _parsed.clear()  # a host with ever new arguments starts over
        options = _parsed[args] = _parse(args)
    return options


def _parse(args: tuple[str, ...]) -> Options:
    options = Options()
    problems: list[str] = []
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep and name in FLAGS:
            setattr(options, FLAGS[name], True)
        elif sep and name in PATHS:
            if not value.startswith("/"):
                problems.append(f"{arg}: the path must be absolute")
            elif not value.isprintable():
                # Bytes that are not UTF-8 arrive as surrogates, which are not
                # printable either: the C calls take UTF-8 only.
                problems.append(f"{arg}: the path must be printable UTF-8")
            else:
                setattr(options, PATHS[name], value)
        elif sep and name == "skip_if":
            options.skip_if = frozenset(s for s in value.split(",") if s)
        elif sep and name == "backend":
            if value in BACKENDS:
                options.backend = value
            else:
                problems.append(f"{arg}: the backend is one of {', '.join(BACKENDS)}")
        elif sep and name == "utmps_timeout":
            try:
                seconds = float(value)
            except ValueError:
                seconds = -1.0
            if 0 < seconds <= UTMPS_TIMEOUT_MAX:  # also false for nan
                options.utmps_timeout = seconds
            else:
                problems.append(f"{arg}: not a number of seconds above 0 and at most "
                                f"{UTMPS_TIMEOUT_MAX:g}")
        elif sep and name == "lastlog_uid_max":
            try:
                uid = int(value, 10)
            except ValueError:
                uid = -1
            if uid >= 0:
                options.lastlog_uid_max = uid
            else:
                problems.append(f"{arg}: not a uid")
        else:
            problems.append(f"{arg}: unknown option")
    options.problems = tuple(problems)
    return options

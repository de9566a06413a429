"""The module's options, as written after the module path in /etc/pam.d.

Parsed once per argument list.  As in Linux-PAM's own modules, an unknown or
malformed option is reported and ignored: a typo must never lock anyone out.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

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
}
PATHS = {
    "utmp": "utmp_path",
    "wtmp": "wtmp_path",
    "lastlog": "lastlog_path",
    "utmpd_socket": "utmpd_socket",
    "wtmpd_socket": "wtmpd_socket",
}
BACKENDS = ("auto", "files", "utmps")


class Options(NamedTuple):
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
    problems: tuple[str, ...] = ()  # the words ignored, each with the reason


@lru_cache(maxsize=16)
def parse(args: tuple[str, ...]) -> Options:
    """Options from the words after the module path; ``problems`` lists the
    words that were ignored, each with the reason."""
    values: dict[str, object] = {}
    problems: list[str] = []
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep and name in FLAGS:
            values[FLAGS[name]] = True
        elif sep and name in PATHS:
            if value.startswith("/"):
                values[PATHS[name]] = value
            else:
                problems.append(f"{arg}: the path must be absolute")
        elif sep and name == "skip_if":
            values["skip_if"] = frozenset(s for s in value.split(",") if s)
        elif sep and name == "backend":
            if value in BACKENDS:
                values["backend"] = value
            else:
                problems.append(f"{arg}: the backend is one of {', '.join(BACKENDS)}")
        elif sep and name == "lastlog_uid_max":
            try:
                values["lastlog_uid_max"] = int(value, 10)
                if values["lastlog_uid_max"] < 0:  # type: ignore[operator]
                    raise ValueError
            except ValueError:
                values.pop("lastlog_uid_max", None)
                problems.append(f"{arg}: not a uid")
        else:
            problems.append(f"{arg}: unknown option")
    assert set(values) <= set(Options._fields)
    return Options(**values, problems=tuple(problems))  # type: ignore[arg-type]

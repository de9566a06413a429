"""The listings of wtmpdb (`wtmpdb last`) and lastlog2 (`lastlog2`), written by C.

Each row goes from SQLite to the output inside the private extension
``pam_pyutmp._dbread`` (csrc/pyutmp_dbread.c): a Python object per row made a
million-row database take seven times as long as `wtmpdb last`.  The text is the
upstream readers' to the byte; JSON has the document of `pyutmp last --json`
and is written as it is read, so memory does not grow with the rows.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pam_pyutmp.errors import DatabaseError, Lastlog2Error, WtmpdbError

# How long a listing waits for a login's write lock, in seconds.
BUSY_TIMEOUT = 10.0
TIME_FORMATS = ("notime", "short", "full", "iso")
OUTPUTS = ("text", "json", "json-lines")


@dataclass(frozen=True)
class WtmpdbListing:
    """What `wtmpdb last` is asked for: its options, by their long names."""

    path: str
    shown_path: str = "wtmpdb"  # the "begins" line's name: the -f argument, or "wtmpdb"
    output: str = "text"  # one of OUTPUTS
    limit: int = 0  # -n; 0: every row
    fullnames: bool = False  # -w
    time_format: str = "short"  # -F is "full"
    begins_format: str = "full"  # set by --time-format only, as upstream's
    nohostname: bool = False  # -R
    hostlast: bool = False  # -a
    service: bool = False  # -S
    dns: bool = False  # -d
    ip: bool = False  # -i
    system: bool = False  # -x
    since: int = 0  # -s, -t, -p: seconds since the epoch; 0: not given
    until: int = 0
    present: int = 0
    match: Sequence[str] = ()  # users or ttys


@dataclass(frozen=True)
class Lastlog2Listing:
    """What `lastlog2` is asked for."""

    path: str
    user: str | None = None  # -u
    active: bool = False  # -a
    service: bool = False  # -s
    before_days: int | None = None  # -b
    recent_days: int | None = None  # -t


def wtmpdb_last(listing: WtmpdbListing, fd: int, header: str = "") -> int:
    """Write ``listing`` to ``fd``; return the number of rows listed.

    ``header``: for JSON, the document up to the "[" of its session array."""
    ffi, lib = _extension()
    _check_exists(listing.path, WtmpdbError)
    names = [ffi.new("char[]", os.fsencode(name)) for name in listing.match]
    match = ffi.new("const char *[]", [*names, ffi.NULL])
    path = ffi.new("char[]", os.fsencode(listing.path))
    shown = ffi.new("char[]", os.fsencode(listing.shown_path))
    head = ffi.new("char[]", header.encode("utf-8", "surrogateescape"))
    args = ffi.new("struct pyutmp_wtmpdb_listing *")
    args.path, args.shown_path, args.header, args.fd = path, shown, head, fd
    args.output = OUTPUTS.index(listing.output)
    args.limit = max(listing.limit, 0)
    args.time_format = _time_format(lib, listing.time_format)
    args.begins_format = _time_format(lib, listing.begins_format)
    args.fullnames, args.nohostname = listing.fullnames, listing.nohostname
    args.hostlast, args.service = listing.hostlast, listing.service
    args.dns, args.ip, args.system = listing.dns, listing.ip, listing.system
    args.since, args.until, args.present = listing.since, listing.until, listing.present
    args.match, args.nmatch = match, len(names)
    args.busy_timeout = BUSY_TIMEOUT
    status = lib.pyutmp_wtmpdb_last(args)
    _raise_for(lib, status, args, ffi, WtmpdbError, listing.path)
    return int(args.listed)


def wtmpdb_json_header(path: str, begins: str | None) -> str:
    """The start of `pyutmp last --json`'s document, as json.dumps(indent=1) has it."""
    fields = [("source", "wtmpdb"), ("file", path), ("begins", begins)]
    lines = [f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}"
             for key, value in fields]
    return "{\n" + ",\n".join(lines) + ',\n "sessions": ['


def lastlog2_list(listing: Lastlog2Listing, fd: int) -> int:
    """Write `lastlog2`'s lines for ``listing`` to ``fd``; return how many."""
    ffi, lib = _extension()
    if listing.user is None:
        _check_exists(listing.path, Lastlog2Error)
    path = ffi.new("char[]", os.fsencode(listing.path))
    user = ffi.NULL if listing.user is None else ffi.new("char[]", os.fsencode(listing.user))
    args = ffi.new("struct pyutmp_lastlog2_listing *")
    args.path, args.user, args.fd = path, user, fd
    args.active, args.service = listing.active, listing.service
    if listing.before_days is not None:
        args.before, args.before_sec = True, listing.before_days * 86400
    if listing.recent_days is not None:
        args.recent, args.recent_sec = True, listing.recent_days * 86400
    args.busy_timeout = BUSY_TIMEOUT
    status = lib.pyutmp_lastlog2_list(args)
    _raise_for(lib, status, args, ffi, Lastlog2Error, listing.path)
    return int(args.listed)


def lastlog2_shown(listing: Lastlog2Listing, when: int, now: int) -> bool:
    """Whether `lastlog2` lists a login at ``when`` (0: never) under -a, -b and -t."""
    if listing.before_days is not None and now - when < listing.before_days * 86400:
        return False
    if listing.recent_days is not None and now - when > listing.recent_days * 86400:
        return False
    return not (when == 0 and listing.active)


def parse_time(text: str) -> int:
    """`wtmpdb last`'s TIME: "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DD", "today" or
    "yesterday", local time, in seconds since the epoch; ValueError otherwise."""
    ffi, lib = _extension()
    when = ffi.new("int64_t *")
    if lib.pyutmp_wtmpdb_parse_time(text.encode("utf-8", "surrogateescape"), when) != 0:
        raise ValueError(f"invalid time value {text!r}")
    return int(when[0])


def _extension() -> tuple[Any, Any]:
    # Imported at the first listing: `pyutmp who` and the PAM module never load SQLite.
    from pam_pyutmp._dbread import ffi, lib

    return ffi, lib


def _time_format(lib: Any, name: str) -> int:
    return int(getattr(lib, f"PYUTMP_TIME_{name.upper()}"))


def _check_exists(path: str, cls: type[DatabaseError]) -> None:
    # SQLite says only "unable to open database file".
    if not os.path.exists(path):
        raise cls(errno.ENOENT, "no such database", path)


def _raise_for(lib: Any, status: int, args: Any, ffi: Any, cls: type[DatabaseError],
               path: str) -> None:
    if status == lib.PYUTMP_DB_OK:
        return
    if status == lib.PYUTMP_DB_WRITE:
        code = int(args.error_errno)
        raise OSError(code, os.strerror(code))  # EPIPE: BrokenPipeError
    text = ffi.string(args.error).decode("utf-8", "replace")
    if status == lib.PYUTMP_DB_BUSY:
        raise cls(errno.EAGAIN, f"{text} (the database stayed locked by another process)",
                  path)
    code = errno.EACCES if "unable to open" in text or "readonly" in text else errno.EIO
    raise cls(code, text, path)

"""The typed side of ``pam_pyutmp._reader``: `last` and `lastb` over wtmp or btmp
records, listed by the C engine straight to a file descriptor.

The engine pairs the records as util-linux last(1) 2.38 does and prints its
lines byte for byte, or writes each session as JSON; Python only fills its
options and reports errors.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from pam_pyutmp._reader import ffi, lib
from pam_pyutmp.records import Record
from pam_pyutmp.system import UTMPX_SIZE

TIME_FORMATS = {"notime": lib.PYUTMP_TIME_NONE, "short": lib.PYUTMP_TIME_SHORT,
                "full": lib.PYUTMP_TIME_FULL, "iso": lib.PYUTMP_TIME_ISO}
OUTPUTS = {"text": lib.PYUTMP_OUT_TEXT, "json": lib.PYUTMP_OUT_JSON,
           "json-lines": lib.PYUTMP_OUT_JSON_LINES}
RECORD_SIZE: int = lib.pyutmp_last_record_size()


class Listing(NamedTuple):
    """What to list and how: last(1)'s options."""

    lastb: bool = False
    extended: bool = False  # -x
    showhost: bool = True  # not -R
    altlist: bool = False  # -a
    usedns: bool = False  # -d
    useip: bool = False  # -i
    name_len: int = 8
    domain_len: int = 16
    time_format: str = "short"
    output: str = "text"
    limit: int = 0
    since: int = 0  # seconds since the epoch; 0: no bound
    until: int = 0
    present: int = 0
    names: Sequence[str] = ()


def parse_time(text: str, now: int) -> int:
    """The second util-linux's parse_timestamp makes of ``text`` ("2024-05-01 10:00",
    "yesterday", "-5days", "@1700000000"), relative to ``now``."""
    usec = ffi.new("int64_t *")
    if lib.pyutmp_parse_timestamp(text.encode(), now, usec) != 0:
        raise ValueError(f'invalid time value "{text}"')
    return int(usec[0]) // 1_000_000


def wtmp_begins(path: str) -> int:
    """The time of the first record, in microseconds (`last`'s "wtmp begins");
    the file's ctime when it holds none."""
    with open(path, "rb") as wtmp:
        raw = wtmp.read(UTMPX_SIZE)
        if len(raw) == UTMPX_SIZE:
            first = Record.decode(raw)
            return first.tv_sec * 1_000_000 + first.tv_usec
        return int(os.fstat(wtmp.fileno()).st_ctime) * 1_000_000


def boot_time() -> int:
    """When this system booted, as util-linux computes it (now - CLOCK_BOOTTIME)."""
    return int(time.time() - time.clock_gettime(time.CLOCK_BOOTTIME))


def list_file(path: str, out_fd: int, listing: Listing, now: int,
              progress: Callable[[int, int], None] | None = None) -> int:
    """List the records of the file at ``path``; the number of lines or objects."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        keep: list[Any] = []
        options = _options(listing, now, keep)
        if progress is not None:
            callback = ffi.callback("void(void *, int64_t, int64_t)",
                                    lambda _ctx, done, total: progress(done, total))
            keep.append(callback)
            options.progress = callback
        listed = ffi.new("int64_t *")
        _check(lib.pyutmp_last_file(fd, out_fd, options, listed), path)
        return int(listed[0])
    finally:
        os.close(fd)


def list_records(records: Iterable[Any], out_fd: int, listing: Listing, now: int,
                 name: str) -> int:
    """List records held in memory (pam_pyutmp.records.Record, oldest first), as
    the utmps daemon's file gives them."""
    packed = bytearray()
    raw = ffi.new(f"unsigned char[{RECORD_SIZE}]")
    for r in records:
        lib.pyutmp_last_pack(raw, r.type, r.pid, _bytes(r.line), _bytes(r.user),
                             _bytes(r.host), r.tv_sec, r.tv_usec, r.addr_v6)
        packed += ffi.buffer(raw)
    keep: list[Any] = []
    listed = ffi.new("int64_t *")
    _check(lib.pyutmp_last_buffer(ffi.from_buffer(packed), len(packed), out_fd,
                                  _options(listing, now, keep), listed), name)
    return int(listed[0])


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _options(listing: Listing, now: int, keep: list[Any]) -> Any:
    names = [ffi.new("char[]", _bytes(name)) for name in listing.names]
    show = ffi.new("const char *[]", [*names, ffi.NULL])
    keep += [names, show]  # alive as long as the engine runs
    return ffi.new("struct pyutmp_last_options *", {
        "lastb": listing.lastb, "extended": listing.extended, "showhost": listing.showhost,
        "altlist": listing.altlist, "usedns": listing.usedns, "useip": listing.useip,
        "name_len": listing.name_len, "domain_len": listing.domain_len,
        "time_fmt": TIME_FORMATS[listing.time_format], "output": OUTPUTS[listing.output],
        "maxrecs": listing.limit, "since": listing.since, "until": listing.until,
        "present": listing.present, "now": now, "boot_time": boot_time(),
        "show": show, "nshow": len(names),
    })


def _check(rc: int, name: str) -> None:
    if rc == 0:
        return
    if rc == errno.EPIPE:  # the reader (head, a pager) went away
        raise BrokenPipeError(rc, os.strerror(rc))
    raise OSError(rc, os.strerror(rc), name)

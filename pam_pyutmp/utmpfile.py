"""utmp and wtmp as files: the glibc world, through the C core."""

from __future__ import annotations

import errno
import fcntl
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from pam_pyutmp._core import lib
from pam_pyutmp.errors import PyutmpError, UtmpError, WtmpError, check
from pam_pyutmp.fields import clean_info
from pam_pyutmp.records import Record
from pam_pyutmp.system import DEAD_PROCESS, LINE_SIZE, USER_PROCESS, UTMPX_SIZE

LOCK_TIMEOUT_MS = 2000

# Sessions without a tty get ids "P000".."Pzzz": no tty name ends that way,
# so they never take a slot of login, sshd or a terminal emulator.
NOTTY_ID_PREFIX = "P"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
NOTTY_SLOTS = len(_DIGITS) ** 3


def notty_id(n: int) -> str:
    return NOTTY_ID_PREFIX + _DIGITS[n // 1296] + _DIGITS[n // 36 % 36] + _DIGITS[n % 36]


def notty_line(label: str, n: int) -> str:
    """A line unique among live tty-less sessions, e.g. "su/0": `last` pairs
    logins with logouts by line, so two live sessions must never share one."""
    suffix = f"/{n}".encode()
    # The label (a PAM service name) gets the host's rules: control characters such
    # as ESC, and bytes that are not UTF-8, must not reach ut_line.
    head = clean_info("service", label, LINE_SIZE - len(suffix)).value
    return (head + suffix).decode("utf-8")


def put(path: str, record: Record) -> None:
    """Write ``record`` into utmp: the slot with its ut_id, else a new one."""
    code = lib.pyutmp_utmp_put(path.encode(), record.to_c())
    check(code, UtmpError, "cannot write utmp", path)


def read(path: str) -> list[Record]:
    """Every record of a utmp file, in file order."""
    with _open_to_read(path, UtmpError, "utmp") as utmp:
        return list(_records(utmp.read()))


def _open_to_read(path: str, error: type[PyutmpError], what: str) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as err:
        raise error(err.errno or errno.EIO, f"cannot read {what}: {err.strerror}", path) from None


def _records(data: bytes) -> Iterator[Record]:
    for offset in range(0, len(data) - UTMPX_SIZE + 1, UTMPX_SIZE):
        yield Record.decode(data[offset : offset + UTMPX_SIZE])


@contextmanager
def exclusive(path: str, lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> Iterator[None]:
    """Serialise our writers' read-decide-write steps on one utmp file.

    flock(2) is independent of the fcntl lock glibc takes inside
    pututxline(), which would release a lock of ours of its kind.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as err:
        raise UtmpError(err.errno or errno.EIO, f"cannot open utmp: {err.strerror}", path) from None
    try:
        deadline = time.monotonic() + lock_timeout_ms / 1000
        pause = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    check(errno.EAGAIN, UtmpError, "cannot lock utmp", path)
                # Back off, with jitter: a crowd of waiters each polling every few
                # milliseconds keeps the CPU from the holder until they all time out.
                time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
                pause = min(2 * pause, 0.05)
        yield
    finally:
        os.close(fd)  # also releases the flock


def put_session(path: str, record: Record, label: str, has_tty: bool) -> Record:
    """Write a new session's USER_PROCESS record; return it as written.

    A session on a tty takes the tty's slot, as login does, unless a live
    session of another process holds it (su or a nested login on the same
    terminal): overwriting it would drop that outer session from `who` and
    end it at our logout.  Such a session, and one without a tty, gets a
    slot of its own instead.
    """
    with exclusive(path):
        slots = read(path)
        if has_tty and not any(_held_by_other(slot, record) for slot in slots):
            put(path, record)
            return record
        live = {slot.id for slot in slots if slot.type == USER_PROCESS}
        # The lowest free id, so ended sessions' ids are reused and utmp
        # does not grow with every login.
        for n in range(NOTTY_SLOTS):
            if notty_id(n) not in live:
                slotted = record._replace(id=notty_id(n), line=notty_line(label, n))
                put(path, slotted)
                return slotted
    raise UtmpError(errno.ENOSPC, "every tty-less utmp slot is in use", path)


def _held_by_other(slot: Record, record: Record) -> bool:
    # The line counts as well as the id: login (shadow) gives pts/3 the id
    # "/3", not "ts/3", and `last` pairs by line, so a second session on the
    # line would end login's session in wtmp at this one's start.
    return (
        slot.type == USER_PROCESS
        and (slot.id == record.id or slot.line == record.line)
        and slot.pid != record.pid
        and _alive(slot.pid)
    )


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _same_session(slot: Record, record: Record) -> bool:
    return (slot.type, slot.line, slot.user, slot.pid, slot.tv_sec, slot.tv_usec) == (
        USER_PROCESS, record.line, record.user, record.pid, record.tv_sec, record.tv_usec)


def close_slot(path: str, record: Record, logout: Record) -> bool:
    """Write ``logout`` over ``record``'s slot if that slot still holds it.

    A slot that was closed already, or that a newer login on the same tty
    took over, is left alone (False): a second DEAD_PROCESS, or a logout in
    wtmp, would end the wrong session in `last`, or list one logout twice.
    """
    with exclusive(path):
        for slot in read(path):
            if slot.id == record.id and slot.type in (USER_PROCESS, DEAD_PROCESS):
                if not _same_session(slot, record):
                    return False
                put(path, logout)
                return True
    return False


def append_wtmp(path: str, record: Record, lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> None:
    """Append one whole record to wtmp, or nothing at all."""
    code = lib.pyutmp_wtmp_append(path.encode(), record.to_c(), lock_timeout_ms)
    check(code, WtmpError, "cannot append to wtmp", path)


def iter_wtmp(path: str, chunk_records: int = 4096) -> Iterator[Record]:
    """Records of a wtmp file in file order; a torn tail is left out."""
    with _open_to_read(path, WtmpError, "wtmp") as wtmp:
        while True:
            data = wtmp.read(UTMPX_SIZE * chunk_records)
            if not data:
                return
            yield from _records(data)
            if len(data) % UTMPX_SIZE:
                return


def dead(record: Record, tv_sec: int, tv_usec: int) -> Record:
    """The record that ends ``record``'s session, as logout(3) writes it:
    same line and id, no user or host."""
    return record._replace(
        type=DEAD_PROCESS, user="", host="", tv_sec=tv_sec, tv_usec=tv_usec,
        addr_v6=bytes(16),
    )

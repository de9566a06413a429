"""utmp and wtmp as files: the glibc world, through the C core."""

from __future__ import annotations

import _thread
import errno
import fcntl
import os
import time

from pam_pyutmp._core import lib
from pam_pyutmp._typing import TYPE_CHECKING
from pam_pyutmp.errors import PyutmpError, UtmpError, WtmpError, check
from pam_pyutmp.records import Record
from pam_pyutmp.system import UTMPX_SIZE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import BinaryIO

LOCK_TIMEOUT_MS = 2000

def put(path: str, record: Record) -> None:
    """Write ``record`` into utmp: the slot with its ut_id, else a new one."""
    code = lib.pyutmp_utmp_put(path.encode(), record.to_c())
    check(code, UtmpError, "cannot write utmp", path)


def read(path: str) -> list[Record]:
    """Every record of a utmp file, in file order."""
    # Unbuffered: a buffered file asks the tty and seek questions first, and this
    # runs twice per session.
    with _open_to_read(path, UtmpError, "utmp", buffering=0) as utmp:
        return list(_records(utmp.read()))


def _open_to_read(path: str, error: type[PyutmpError], what: str,
                  buffering: int = -1) -> BinaryIO:
    try:
        return open(path, "rb", buffering=buffering)
    except OSError as err:
        raise error(err.errno or errno.EIO, f"cannot read {what}: {err.strerror}", path) from None


def _records(data: bytes) -> Iterator[Record]:
    for offset in range(0, len(data) - UTMPX_SIZE + 1, UTMPX_SIZE):
        yield Record.decode(data[offset : offset + UTMPX_SIZE])


# Descriptors that hold our utmp lock, or are about to.  A child forked
# meanwhile (by another thread of a host) gets copies that would keep the lock
# held after the parent lets go: flock(2) belongs to the open file, not to a
# process.  The child closes them; no fork splits an open or a close from its
# bookkeeping here.
_locked_fds: set[int] = set()
_fds_steady = _thread.allocate_lock()


def _fork_begins() -> None:
    _fds_steady.acquire()


def _fork_done_in_parent() -> None:
    _fds_steady.release()


def _fork_done_in_child() -> None:
    for fd in _locked_fds:
        try:  # noqa: SIM105 - contextlib would cost every start of Python its import
            os.close(fd)
        except OSError:
            pass
    _locked_fds.clear()
    _fds_steady.release()


# Run by os.fork(), and by a host's fork() when pam_pyutmp.so started Python
# (its fork handlers run Python's).
os.register_at_fork(before=_fork_begins, after_in_parent=_fork_done_in_parent,
                    after_in_child=_fork_done_in_child)


class UtmpLock:
    """Serialise our writers' read-decide-write steps on one utmp file
    (``with UtmpLock(path):``).

    flock(2) is independent of the fcntl lock glibc takes inside
    pututxline(), which would release a lock of ours of its kind.  A class,
    not a contextlib generator: contextlib would cost every start of Python
    its import.
    """

    def __init__(self, path: str, lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> None:
        self.path = path
        self.lock_timeout_ms = lock_timeout_ms
        self.fd = -1

    def __enter__(self) -> None:
        with _fds_steady:
            try:
                self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY)
            except OSError as err:
                raise UtmpError(err.errno or errno.EIO, f"cannot open utmp: {err.strerror}",
                                self.path) from None
            _locked_fds.add(self.fd)
        try:
            self._lock()
        except BaseException:
            self._release()
            raise

    def __exit__(self, *exc: object) -> None:
        self._release()

    def _lock(self) -> None:
        deadline = time.monotonic() + self.lock_timeout_ms / 1000
        pause = 0.001
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    check(errno.EAGAIN, UtmpError, "cannot lock utmp", self.path)
                import random  # here, not at every login: only a contended lock needs it

                # Back off, with jitter: a crowd of waiters each polling every few
                # milliseconds keeps the CPU from the holder until they all time out.
                time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
                pause = min(2 * pause, 0.05)

    def _release(self) -> None:
        with _fds_steady:
            _locked_fds.discard(self.fd)
            os.close(self.fd)  # also releases the flock


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

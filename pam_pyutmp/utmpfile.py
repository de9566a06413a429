"""utmp and wtmp as files: the glibc world, through the C core.

Records have the C library's layout and are written under its lock protocol
(an fcntl write lock over the whole file, as pututxline() and updwtmpx() take
it), each in one open, with a bounded wait: never pututxline() itself, which
arms alarm(2) and a SIGALRM handler in the host process and waits up to 10 s.
"""

from __future__ import annotations

import errno
import posix  # os's C half: os itself is kept off the login path
from _stat import S_ISREG

from pam_pyutmp import slots
from pam_pyutmp._core import ffi, lib
from pam_pyutmp._typing import TYPE_CHECKING
from pam_pyutmp.errors import BtmpError, PyutmpError, UtmpError, WtmpError, check
from pam_pyutmp.records import Record
from pam_pyutmp.system import LOCK_TIMEOUT_MS, UTMPX_SIZE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import BinaryIO



def put(path: str, record: Record, lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> None:
    """Write ``record`` into utmp: the slot with its ut_id, else a new one."""
    code = lib.pyutmp_utmp_put(path.encode(), record.to_c(), lock_timeout_ms)
    check(code, UtmpError, "cannot write utmp", path)


def read(path: str) -> list[Record]:
    """Every record of a utmp file, in file order."""
    # Unbuffered: a buffered file asks the tty and seek questions first.
    with _open_to_read(path, UtmpError, "utmp", buffering=0) as utmp:
        return list(_records(utmp.read()))


def _open_to_read(path: str, error: type[PyutmpError], what: str,
                  buffering: int = -1) -> BinaryIO:
    # O_NONBLOCK: a FIFO planted at the path would hold the open (and the
    # session's close) until a writer came.  Only a regular file is read.
    try:
        fd = posix.open(path, posix.O_RDONLY | posix.O_NONBLOCK | posix.O_CLOEXEC
                        | posix.O_NOCTTY)
    except OSError as err:
        raise error(err.errno or errno.EIO, f"cannot read {what}: {err.strerror}", path) from None
    try:
        if not S_ISREG(posix.fstat(fd).st_mode):
            raise error(errno.EINVAL, f"cannot read {what}: not a regular file", path)
        return open(fd, "rb", buffering=buffering)
    except BaseException:
        posix.close(fd)
        raise


def _records(data: bytes) -> Iterator[Record]:
    for offset in range(0, len(data) - UTMPX_SIZE + 1, UTMPX_SIZE):
        yield Record.decode(data[offset : offset + UTMPX_SIZE])


def login(path: str, record: Record, label: str, has_tty: bool,
          lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> Record:
    """Write a new session's USER_PROCESS record into the slot the rules of
    :mod:`pam_pyutmp.slots` give it; return it as written.

    One call: the C library's write lock taken, the slots read, the slot
    chosen and written, the lock let go.
    """
    rec = record.to_c()
    code = lib.pyutmp_utmp_login(path.encode(), rec, has_tty, slots.label_bytes(label),
                                 lock_timeout_ms)
    if code == errno.EUSERS:
        raise slots.no_free_slot(path)
    check(code, UtmpError, "cannot write utmp", path)
    return slots.placed(record, rec)


def logout(path: str, record: Record, logout: Record,
           lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> bool:
    """Write ``logout`` over ``record``'s slot if that slot still holds
    ``record``'s session (see :func:`pam_pyutmp.slots.holds`); False, writing
    nothing, if not."""
    written = ffi.new("int *")
    code = lib.pyutmp_utmp_logout(path.encode(), record.to_c(), logout.to_c(), lock_timeout_ms,
                                  written)
    check(code, UtmpError, "cannot write utmp", path)
    return bool(written[0])


def append_wtmp(path: str, record: Record, lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> None:
    """Append one whole record to wtmp, or nothing at all."""
    code = lib.pyutmp_wtmp_append(path.encode(), record.to_c(), lock_timeout_ms)
    check(code, WtmpError, "cannot append to wtmp", path)


def append_btmp(path: str, record: Record, lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> None:
    """Append one whole failed-login record to btmp, or nothing at all.  A missing
    btmp is made 0660 root:utmp (0600 root:root without a utmp group); one that
    others may read is refused, as it holds whatever was typed as a user name."""
    code = lib.pyutmp_btmp_append(path.encode(), record.to_c(), lock_timeout_ms)
    if code == errno.EPERM:
        raise BtmpError(code, "refusing to add to btmp: others may read or write it (it holds "
                              "whatever was typed as a user name); chmod 0660", path)
    check(code, BtmpError, "cannot append to btmp", path)


def failed_since(path: str, user: str, since: int,
                 chunk_records: int = 4096) -> tuple[int, Record | None]:
    """The failed attempts of ``user`` in btmp at ``since`` (seconds) or later, and
    the latest of them.  btmp grows in time order: it is read from its end, and
    no further back than the first record older than ``since``."""
    count, latest = 0, None
    with _open_to_read(path, BtmpError, "btmp", buffering=0) as btmp:
        end = posix.fstat(btmp.fileno()).st_size
        end -= end % UTMPX_SIZE  # a torn tail is no record
        while end > 0:
            start = max(0, end - chunk_records * UTMPX_SIZE)
            btmp.seek(start)
            records = list(_records(btmp.read(end - start)))
            for record in reversed(records):
                if record.tv_sec < since:
                    return count, latest
                if record.user == user:
                    count += 1
                    latest = latest or record
            end = start
    return count, latest


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

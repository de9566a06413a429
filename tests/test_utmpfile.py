"""utmp files are written as glibc's own pututxline() writes them: the same slot, the
same bytes, under the same lock, with a bounded wait."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import multiprocessing
import os
import struct
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pamfakes import handle

import pam_pyutmp
from pam_pyutmp import pam, utmpfile
from pam_pyutmp.errors import UtmpError
from pam_pyutmp.records import Record
from pam_pyutmp.system import (
    BOOT_TIME,
    DEAD_PROCESS,
    DEFAULT_UTMP,
    LOGIN_PROCESS,
    USER_PROCESS,
    UTMPX_SIZE,
)

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

# glibc's struct utmpx on Linux: type, pid, line, id, user, host, exit status,
# session, tv (32-bit), addr_v6, reserved.
UTMPX = struct.Struct("@hi32s4s32s256shhiii16s20s")
RUN_LVL = 1
LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
LIBC.pututxline.restype = ctypes.c_void_p


def raw(record: Record) -> bytes:
    return UTMPX.pack(record.type, record.pid, record.line.encode(), record.id.encode(),
                      record.user.encode(), record.host.encode(), 0, 0, record.session,
                      record.tv_sec, record.tv_usec, record.addr_v6, bytes(20))


def slot(type_: int, line: str, slot_id: str, user: str = "", pid: int = 100) -> Record:
    return Record(type_, pid, line, slot_id, user, "", 0, 1_700_000_000, 0)


def glibc_put(path: Path, record: Record) -> None:
    """What glibc's pututxline() makes of the file."""
    assert LIBC.utmpxname(str(path).encode()) == 0
    LIBC.setutxent()
    buffer = ctypes.create_string_buffer(raw(record), UTMPX_SIZE)
    assert LIBC.pututxline(buffer) is not None, errno.errorcode[ctypes.get_errno()]
    LIBC.endutxent()
    LIBC.utmpxname(DEFAULT_UTMP.encode())  # this process's utmpx API back on the system file


def test_the_struct_here_is_the_c_librarys() -> None:
    """The layout these tests hand to glibc has the size of the C library's struct utmpx."""
    assert UTMPX.size == UTMPX_SIZE


NEW_SESSION = slot(USER_PROCESS, "pts/3", "ts/3", "alice", pid=4242)
CASES = {
    "an empty file: appended": ([], NEW_SESSION),
    "getty's LOGIN slot with the id comes first: over it": (
        [slot(LOGIN_PROCESS, "pts/3", "ts/3", "LOGIN"), slot(USER_PROCESS, "pts/4", "ts/4")],
        NEW_SESSION),
    "two slots with the id: over the first": (
        [slot(USER_PROCESS, "pts/4", "ts/4"), slot(DEAD_PROCESS, "pts/3", "ts/3"),
         slot(USER_PROCESS, "pts/3", "ts/3", "bob")], NEW_SESSION),
    "a run-level record with the id does not count": (
        [slot(RUN_LVL, "~", "ts/3", "runlevel"), slot(DEAD_PROCESS, "pts/3", "ts/3")],
        NEW_SESSION),
    "no slot with the id: appended": ([slot(USER_PROCESS, "pts/9", "ts/9")], NEW_SESSION),
    "a boot record goes over the boot record": (
        [slot(USER_PROCESS, "pts/1", "ts/1"), slot(BOOT_TIME, "~", "~~", "reboot")],
        slot(BOOT_TIME, "~", "~~", "reboot", pid=0)),
    "a logout over its login": ([slot(USER_PROCESS, "pts/3", "ts/3", "alice")],
                                slot(DEAD_PROCESS, "pts/3", "ts/3")),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_put_writes_what_glibc_pututxline_writes(tmp_path: Path,
                                                   case: tuple[list[Record], Record]) -> None:
    """The same snapshot, put once by glibc and once by us: the files are byte-identical."""
    snapshot, record = case
    ours, glibcs = tmp_path / "ours", tmp_path / "glibc"
    for path in (ours, glibcs):
        path.write_bytes(b"".join(map(raw, snapshot)))

    glibc_put(glibcs, record)
    utmpfile.put(str(ours), record)

    assert ours.read_bytes() == glibcs.read_bytes()


def test_a_torn_tail_is_cut_before_a_new_slot_as_glibc_cuts_it(tmp_path: Path) -> None:
    """A writer that died mid-record left part of one: the new slot starts on a record
    boundary, as with glibc, and `who` reads every slot."""
    ours, glibcs = tmp_path / "ours", tmp_path / "glibc"
    for path in (ours, glibcs):
        path.write_bytes(raw(slot(USER_PROCESS, "pts/1", "ts/1", "carol")) + b"\x07" * 100)

    glibc_put(glibcs, NEW_SESSION)
    utmpfile.put(str(ours), NEW_SESSION)

    assert ours.read_bytes() == glibcs.read_bytes()
    assert [s.user for s in utmpfile.read(str(ours))] == ["carol", "alice"]


def wtmp_login(through: str, wtmp: Path, tty: str) -> str:
    """A login recorded in ``wtmp`` through the library or through the PAM module (wtmp
    alone); the user it names."""
    if through == "api":
        pam_pyutmp.put_utmp("alice", tty, "client.example", utmp=False, wtmp_path=wtmp)
        return "alice"
    args = ["noutmp", "nolastlog", f"wtmp={wtmp}"]
    assert pam.open_session(handle(tty=tty), 0, args) == pam.PAM_SUCCESS
    return "root"


@pytest.mark.parametrize("through", ["api", "pam"])
def test_a_torn_wtmp_tail_is_cut_before_the_login_is_appended(
        tmp_path: Path, logs, readers, tty: str, through: str) -> None:
    """A writer that died mid-record left 100 bytes of one at wtmp's end: a login through
    the library or the PAM module first cuts them (not padded to a whole record), so the old
    records keep their bytes, the login is the record after them, and the stock reader reads
    every record whole."""
    wtmp = tmp_path / "wtmp"
    old = [slot(USER_PROCESS, f"pts/{n}", f"ts/{n}", "carol", pid=100 + n) for n in range(3)]
    whole = b"".join(map(raw, old))
    wtmp.write_bytes(whole + b"\x07" * 100)

    user = wtmp_login(through, wtmp, tty)

    data = wtmp.read_bytes()
    assert len(data) == (len(old) + 1) * UTMPX_SIZE and data.startswith(whole)
    dumped = readers.utmpdump(wtmp).decode().splitlines()
    assert [line.split("] [")[3].rstrip() for line in dumped] == ["carol"] * 3 + [user]
    assert [r.line for r in utmpfile.iter_wtmp(str(wtmp))][-1] == tty.removeprefix("/dev/")


def hold_write_lock(path: str, held: Event, release: Event) -> None:
    with open(path, "r+b") as utmp:
        fcntl.lockf(utmp, fcntl.LOCK_EX)  # what glibc's writers take: F_WRLCK, whole file
        held.set()
        release.wait(30)


def test_a_login_waits_a_bounded_time_for_a_glibc_writers_lock(tmp_path: Path) -> None:
    """While another process holds the C library's write lock, a login waits for it up to
    its timeout, then fails with EAGAIN and writes nothing (glibc itself would wait 10 s,
    with an alarm in the host); once the lock is let go, the login goes through."""
    path = tmp_path / "utmp"
    path.write_bytes(raw(slot(USER_PROCESS, "pts/1", "ts/1", "carol")))
    before = path.read_bytes()
    held, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=hold_write_lock, args=(str(path), held, release))
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(UtmpError) as refused:
            utmpfile.login(str(path), NEW_SESSION, "su", True, lock_timeout_ms=300)
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(10)

    assert refused.value.errno == errno.EAGAIN and "locked" in str(refused.value)
    assert 0.3 <= waited < 5
    assert path.read_bytes() == before
    utmpfile.login(str(path), NEW_SESSION, "su", True, lock_timeout_ms=300)
    assert [s.user for s in utmpfile.read(str(path))] == ["carol", "alice"]


def test_threads_of_one_process_appending_to_wtmp_lose_no_record(tmp_path: Path) -> None:
    """fcntl locks do not keep the threads of one process apart: threads appending at
    once (the C calls run without the GIL) still leave every record whole, none cut
    away as another's torn tail."""
    wtmp = tmp_path / "wtmp"
    wtmp.touch()
    per_thread = 300

    def append(n: int) -> None:
        record = slot(USER_PROCESS, f"pts/{n}", f"ts/{n}", "alice", pid=1000 + n)
        for _ in range(per_thread):
            utmpfile.append_wtmp(str(wtmp), record)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert wtmp.stat().st_size == 4 * per_thread * UTMPX_SIZE
    assert sorted(Counter(r.pid for r in utmpfile.iter_wtmp(str(wtmp))).values()) == [
        per_thread] * 4


def test_killed_tty_less_sessions_free_their_slots_and_leave_who(tmp_path: Path,
                                                                 readers: Any) -> None:
    """Slots of sessions whose process is gone: the next tty-less login takes the lowest
    of their numbers, and retires the others in the same write, so `who FILE` (which
    lists a slot whatever its pid) shows only live sessions; wtmp is not written for
    them, no logout time is made up."""
    gone = os.waitpid(os.spawnv(os.P_NOWAIT, "/bin/true", ["true"]), 0)[0]  # ended, reaped
    path = tmp_path / "utmp"
    path.write_bytes(b"".join(raw(slot(USER_PROCESS, f"su/{n}", f"P00{n}", "ghost", pid=gone))
                              for n in range(3)) + raw(slot(USER_PROCESS, "su/3", "P003", "keep",
                                                            pid=1)))
    session = utmpfile.login(str(path), NEW_SESSION._replace(line="", id=""), "su", False)

    assert (session.id, session.line) == ("P000", "su/0")
    after = utmpfile.read(str(path))
    assert [(s.type, s.id, s.user, s.tv_sec) for s in after] == [
        (USER_PROCESS, "P000", "alice", NEW_SESSION.tv_sec),
        (DEAD_PROCESS, "P001", "", 1_700_000_000), (DEAD_PROCESS, "P002", "", 1_700_000_000),
        (USER_PROCESS, "P003", "keep", 1_700_000_000)]
    assert sorted(row[0] for row in readers.who(path)) == ["alice", "keep"]


def test_a_logout_waits_for_a_busy_utmp_as_long_as_glibcs_writers_do(tmp_path: Path) -> None:
    """A close that meets the lock held for 3 s (a crowd of logins) waits and writes its
    DEAD_PROCESS: given up early, the session would stay listed for ever."""
    path = tmp_path / "utmp"
    path.write_bytes(raw(NEW_SESSION))
    held, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=hold_write_lock, args=(str(path), held, release))
    holder.start()
    try:
        assert held.wait(10)
        threading.Timer(3.0, release.set).start()
        started = time.monotonic()
        closed = utmpfile.logout(str(path), NEW_SESSION,
                                 NEW_SESSION._replace(type=DEAD_PROCESS, user=""))
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(10)

    assert closed and 2.5 <= waited < utmpfile.LOCK_TIMEOUT_MS / 1000
    assert [s.type for s in utmpfile.read(str(path))] == [DEAD_PROCESS]


def test_a_logout_retires_stale_slots_too(tmp_path: Path) -> None:
    """A logout's write also turns tty-less slots whose process is gone DEAD_PROCESS, so a
    killed session leaves `who FILE` at the next login or logout of any session."""
    gone = os.waitpid(os.spawnv(os.P_NOWAIT, "/bin/true", ["true"]), 0)[0]  # ended, reaped
    path = tmp_path / "utmp"
    path.write_bytes(raw(NEW_SESSION) + raw(slot(USER_PROCESS, "su/1", "P001", "ghost", pid=gone)))
    assert utmpfile.logout(str(path), NEW_SESSION,
                           NEW_SESSION._replace(type=DEAD_PROCESS, user=""))
    assert [(s.type, s.id, s.user) for s in utmpfile.read(str(path))] == [
        (DEAD_PROCESS, "ts/3", ""), (DEAD_PROCESS, "P001", "")]

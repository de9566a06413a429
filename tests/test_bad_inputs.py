"""Bad inputs and broken files: a clear error or a cleaned record, and files left intact."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pam_pyutmp
from pam_pyutmp import utmpfile
from pam_pyutmp.records import Record
from pam_pyutmp.system import (
    DEAD_PROCESS,
    HOST_SIZE,
    LASTLOG_SIZE,
    LINE_SIZE,
    USER_PROCESS,
    USER_SIZE,
    UTMPX_SIZE,
)

NOBODY = 65534
# Bytes that must never reach a text field: ESC, BEL, the C1 CSI alone and UTF-8 encoded.
FORBIDDEN = (b"\x1b", b"\x07", b"\x9b", b"\xc2\x9b")


def between(data: bytes, head: bytes, tail: bytes) -> list[bytes]:
    """The raw bytes between ``head`` and the next ``tail``, at every place ``head`` occurs.

    Single control bytes occur in a record's integers (ut_type 7 is BEL), so the raw file
    is searched between the known ends of the text instead.
    """
    found = []
    start = data.find(head)
    while start >= 0:
        end = data.find(tail, start + len(head))
        found.append(data[start + len(head):end if end >= 0 else len(data)])
        start = data.find(head, start + 1)
    return found


def contents(*paths: Path) -> dict[Path, bytes | None]:
    """Each file's bytes, None when it does not exist (a symlink is not followed)."""
    return {p: p.read_bytes() if p.exists() and not p.is_symlink() else None for p in paths}


@pytest.fixture
def used(acct) -> Any:
    """The acct files already holding a live session, an ended one and a lastlog entry,
    so that "left intact" means something."""
    live = pam_pyutmp.put_utmp("keeper", "pts/1", "192.0.2.1", **acct.paths)
    ended = pam_pyutmp.put_utmp("gone", "", "192.0.2.2", service="su", **acct.paths)
    pam_pyutmp.unput_utmp(ended)
    pam_pyutmp.put_lastlog_entry("sshd", "keeper", "pts/1", "192.0.2.1",
                                 lastlog_path=acct.lastlog, uid=3, uid_max=None)
    assert [s.id for s in live_slots(acct.utmp)] == [live.id]
    return acct


def all_files(acct) -> tuple[Path, Path, Path]:
    return acct.utmp, acct.wtmp, acct.lastlog


def live_slots(path: Path) -> list[Record]:
    return [s for s in utmpfile.read(str(path)) if s.type == USER_PROCESS]


# --- refused identifying fields ------------------------------------------------

BAD_USERS = [
    pytest.param("", id="empty"),
    pytest.param(b"ro\xffot", id="not-utf8-bytes"),
    pytest.param(os.fsdecode(b"ro\xffot"), id="not-utf8-surrogate"),
    pytest.param("evil\x1b[2J", id="esc-sequence"),
    pytest.param("evil\x9b2J", id="c1-csi"),
    pytest.param("tab\tuser", id="c0-control"),
    pytest.param("u" * (USER_SIZE + 1), id="too-long"),
]
BAD_TTYS = [
    pytest.param(b"pts/\xff", id="not-utf8-bytes"),
    pytest.param("pts/\x1b[2J", id="esc-sequence"),
    pytest.param("pts/\x9b", id="c1-csi"),
    pytest.param("pts/1\n", id="newline"),
    pytest.param("/dev/" + "x" * (LINE_SIZE + 1), id="too-long"),
]


@pytest.mark.parametrize("user", BAD_USERS)
def test_bad_user_is_refused_and_no_file_changes(used, user) -> None:
    """A user that is empty, not UTF-8, holding control characters or too long raises
    InvalidFieldError (EINVAL) from every call, and utmp, wtmp and lastlog keep their bytes."""
    before = contents(*all_files(used))
    calls = [
        lambda: pam_pyutmp.put_utmp(user, "pts/2", "192.0.2.3", **used.paths),
        lambda: pam_pyutmp.put_utmp(user, "", "192.0.2.3", **used.paths),
        lambda: pam_pyutmp.put_lastlog_entry("sshd", user, "pts/2", "h",
                                             lastlog_path=used.lastlog, uid=3, uid_max=None),
    ]
    for call in calls:
        with pytest.raises(pam_pyutmp.InvalidFieldError) as caught:
            call()
        assert caught.value.field == "user"
        assert caught.value.errno == errno.EINVAL
        assert isinstance(caught.value, pam_pyutmp.PyutmpError)
    assert contents(*all_files(used)) == before


@pytest.mark.parametrize("tty", BAD_TTYS)
def test_bad_tty_is_refused_and_no_file_changes(used, tty) -> None:
    """A tty that is not UTF-8, holds control characters or does not fit ut_line raises
    InvalidFieldError, and no file changes."""
    before = contents(*all_files(used))
    with pytest.raises(pam_pyutmp.InvalidFieldError) as caught:
        pam_pyutmp.put_utmp("alice", tty, "192.0.2.3", **used.paths)
    assert (caught.value.field, caught.value.errno) == ("tty", errno.EINVAL)
    with pytest.raises(pam_pyutmp.InvalidFieldError):
        pam_pyutmp.put_lastlog_entry("sshd", "alice", tty, "h", lastlog_path=used.lastlog,
                                     uid=3, uid_max=None)
    assert contents(*all_files(used)) == before


@pytest.mark.parametrize("uid", [-1, 2**32 - 1, 2**40])
def test_uid_outside_uid_t_is_refused(used, uid) -> None:
    """A uid that no 32-bit uid_t can name (or the "no uid" value) is refused before any
    file is touched."""
    before = contents(*all_files(used))
    with pytest.raises(pam_pyutmp.InvalidFieldError):
        pam_pyutmp.put_lastlog_entry("sshd", "alice", "pts/2", "h", lastlog_path=used.lastlog,
                                     uid=uid, uid_max=None)
    assert contents(*all_files(used)) == before


# --- cleaned informative fields --------------------------------------------------

def raw_host(path: Path, index: int) -> bytes:
    """The raw ut_host bytes of record ``index`` of a utmp/wtmp file, NULs stripped."""
    record = Record.decode(path.read_bytes()[index * UTMPX_SIZE:(index + 1) * UTMPX_SIZE])
    return record.host.encode("utf-8", "surrogateescape")


def test_300_byte_host_is_cut_to_the_field_with_a_note(acct, readers) -> None:
    """A 300-byte host is cut to ut_host's size, the note says so, and who, utmp, wtmp and
    lastlog all hold exactly that prefix."""
    host = "".join(chr(ord("a") + i % 26) for i in range(300))
    entry = pam_pyutmp.put_utmp("alice", "pts/3", host, **acct.paths)
    assert entry.host == host[:HOST_SIZE]
    assert any("truncated" in note for note in entry.notes)
    assert raw_host(acct.utmp, 0) == raw_host(acct.wtmp, 0) == host[:HOST_SIZE].encode()
    assert readers.who(acct.utmp)[0][-1] == f"({host[:HOST_SIZE]})"
    pam_pyutmp.put_lastlog_entry("sshd", "alice", "pts/3", host, lastlog_path=acct.lastlog,
                                 uid=5, uid_max=None)
    seen = pam_pyutmp.last_login("alice", lastlog_path=acct.lastlog, uid=5)
    assert seen is not None and seen.host == host[:HOST_SIZE]


@pytest.mark.parametrize("char", ["\u00e9", "\u20ac", "\U0001f600"])
def test_multibyte_character_straddling_the_host_limit_is_dropped_whole(acct, char) -> None:
    """A multibyte character that would end past ut_host is dropped whole: the field holds
    valid UTF-8, one byte short of full per byte the character would have needed there."""
    host = "a" * (HOST_SIZE - 1) + char + "tail"
    entry = pam_pyutmp.put_utmp("alice", "pts/3", host, **acct.paths)
    assert entry.host == "a" * (HOST_SIZE - 1)
    assert any("truncated" in note for note in entry.notes)
    stored = raw_host(acct.utmp, 0)
    assert stored == b"a" * (HOST_SIZE - 1)
    stored.decode("utf-8")  # no half character
    # When it fits exactly, it is kept.
    fits = "a" * (HOST_SIZE - len(char.encode())) + char
    kept = pam_pyutmp.put_utmp("alice", "pts/4", fits, **acct.paths)
    assert kept.host == fits and kept.notes == ()
    assert raw_host(acct.utmp, 1) == fits.encode()


@pytest.mark.parametrize("host", [b"bad\xffhost\xfe", os.fsdecode(b"bad\xffhost\xfe")],
                         ids=["bytes", "surrogates"])
def test_host_bytes_that_are_not_utf8_become_question_marks(acct, host) -> None:
    """Host bytes that are not UTF-8 become '?' in every file, with a note."""
    entry = pam_pyutmp.put_utmp("alice", "pts/3", host, **acct.paths)
    pam_pyutmp.put_lastlog_entry("sshd", "alice", "pts/3", host, lastlog_path=acct.lastlog,
                                 uid=5, uid_max=None)
    assert entry.host == "bad?host?"
    assert any("UTF-8" in note for note in entry.notes)
    # Read back byte for byte: a byte that is not UTF-8 would come back as a surrogate.
    (slot,) = utmpfile.read(str(acct.utmp))
    (record,) = utmpfile.iter_wtmp(str(acct.wtmp))
    last = pam_pyutmp.last_login("alice", lastlog_path=acct.lastlog, uid=5)
    assert last is not None
    assert slot.host == record.host == last.host == "bad?host?"


@pytest.mark.parametrize(("host", "middle"), [
    pytest.param("evil\x1b[2J\x1b]0;owned\x07host", b"?[2J?]0;owned?", id="esc-and-bel"),
    pytest.param("evil\x9b2Jhost", b"?2J", id="c1-csi"),
    pytest.param(b"evil\xc2\x9b2J\x1b[2Jhost", b"?2J?[2J", id="bytes"),
])
def test_control_characters_in_host_never_reach_the_files(acct, readers, host,
                                                          middle) -> None:
    """ESC sequences and C0/C1 controls in a host become '?' with a note; no ESC, BEL or
    CSI byte is in the raw utmp, wtmp or lastlog, nor in who's output."""
    entry = pam_pyutmp.put_utmp("alice", "pts/3", host, **acct.paths)
    pam_pyutmp.unput_utmp(entry)
    pam_pyutmp.put_utmp("alice", "", host, service="su", **acct.paths)
    pam_pyutmp.put_lastlog_entry("sshd", "alice", "pts/3", host, lastlog_path=acct.lastlog,
                                 uid=5, uid_max=None)
    assert any("control" in note for note in entry.notes)
    assert entry.host == f"evil{middle.decode()}host"
    assert not any(byte in middle for byte in FORBIDDEN)
    # Dead slots and logout records hold no host: utmp keeps the live su slot's host,
    # wtmp both logins', lastlog its one entry.
    counts = {"utmp": 1, "wtmp": 2, "lastlog": 1}
    for path in (acct.utmp, acct.wtmp, acct.lastlog):
        found = between(path.read_bytes(), b"evil", b"host")
        assert found == [middle] * counts[path.name], path.name
    shown = readers.run("who", str(acct.utmp))
    assert between(shown, b"evil", b"host") == [middle]


def test_control_characters_in_service_never_reach_the_line(acct, readers) -> None:
    """The service name that labels a tty-less line is cleaned like a host: no ESC or CSI
    reaches ut_line, and the line stays unique and valid UTF-8."""
    first = pam_pyutmp.put_utmp("alice", "", "h", service="web\x1b[2J\x9bterm", **acct.paths)
    second = pam_pyutmp.put_utmp("bob", "", "h", service="\u00e9" * 20, **acct.paths)
    assert first.line == "web?[2J?term/0"
    assert second.line.endswith("/1") and len(second.line.encode()) <= 32
    for path in (acct.utmp, acct.wtmp):
        assert between(path.read_bytes(), b"web", b"term") == [b"?[2J?"]
    for slot in utmpfile.read(str(acct.utmp)):
        slot.line.encode("utf-8")  # no surrogate: the bytes were valid UTF-8
    assert [w[1] for w in readers.who(acct.utmp)] == [first.line, second.line]


# --- lastlog uid cap ----------------------------------------------------------------

BIG_UID = 2**32 - 2


def test_uid_above_cap_raises_and_writes_nothing(used, tmp_path) -> None:
    """With a cap, uid 4294967294 raises UidAboveCapError (a LastlogError with errno and
    path); an existing lastlog keeps its bytes and a missing one is not created."""
    before = contents(*all_files(used))
    with pytest.raises(pam_pyutmp.UidAboveCapError) as caught:
        pam_pyutmp.put_lastlog_entry("sshd", "alice", "pts/2", "h", lastlog_path=used.lastlog,
                                     uid=BIG_UID, uid_max=60000)
    err = caught.value
    assert isinstance(err, pam_pyutmp.LastlogError)
    assert (err.errno, err.filename, err.uid, err.uid_max) == (
        errno.EFBIG, str(used.lastlog), BIG_UID, 60000)
    assert contents(*all_files(used)) == before

    fresh = tmp_path / "fresh-lastlog"
    with pytest.raises(pam_pyutmp.UidAboveCapError):
        pam_pyutmp.put_lastlog_entry("sshd", "alice", "pts/2", "h", lastlog_path=fresh,
                                     uid=BIG_UID, uid_max=60000)
    assert not fresh.exists()


def test_cap_read_from_login_defs(tmp_path) -> None:
    """LASTLOG_UID_MAX from the login.defs given caps the uids written."""
    defs = tmp_path / "login.defs"
    defs.write_text("# comment\nLASTLOG_UID_MAX 1000\n")
    path = tmp_path / "lastlog"
    pam_pyutmp.put_lastlog_entry("sshd", "alice", "pts/2", "h", lastlog_path=path, uid=1000,
                                 login_defs=str(defs))
    with pytest.raises(pam_pyutmp.UidAboveCapError) as caught:
        pam_pyutmp.put_lastlog_entry("sshd", "bob", "pts/2", "h", lastlog_path=path, uid=1001,
                                     login_defs=str(defs))
    assert caught.value.uid_max == 1000
    assert path.stat().st_size == 1001 * LASTLOG_SIZE


def test_uid_near_2_to_32_without_cap_lands_at_its_64_bit_offset(used) -> None:
    """Without a cap, uid 4294967294 is written at uid * record size (no 32-bit overflow):
    the apparent size is (uid+1) records, it reads back, and uid 3's record is intact."""
    path = used.lastlog
    low_record = path.read_bytes()[3 * LASTLOG_SIZE:4 * LASTLOG_SIZE]
    try:
        previous = pam_pyutmp.put_lastlog_entry("sshd", "alice", "pts/7", "192.0.2.77",
                                                lastlog_path=path, uid=BIG_UID, uid_max=None)
        assert previous is None
        assert path.stat().st_size == (BIG_UID + 1) * LASTLOG_SIZE
        seen = pam_pyutmp.last_login("alice", lastlog_path=path, uid=BIG_UID)
        assert seen is not None and (seen.line, seen.host) == ("pts/7", "192.0.2.77")
        with path.open("rb") as f:
            f.seek(BIG_UID * LASTLOG_SIZE)
            raw = f.read()
            f.seek(3 * LASTLOG_SIZE)
            assert f.read(LASTLOG_SIZE) == low_record
        assert len(raw) == LASTLOG_SIZE and b"pts/7" in raw and b"192.0.2.77" in raw
    finally:
        path.unlink()  # a sparse terabyte is best not left behind in pytest's tmp dirs


# --- missing directories and files ----------------------------------------------------

@pytest.mark.parametrize(("missing", "where"), [
    ("utmp", "nodir/utmp"), ("utmp", "no-utmp"),
    ("wtmp", "nodir/wtmp"), ("wtmp", "no-wtmp"),
    ("lastlog", "nodir/lastlog"),
])
def test_missing_path_raises_enoent_with_filename_and_creates_nothing(acct, missing,
                                                                      where) -> None:
    """A missing utmp or wtmp (file or directory) or lastlog directory raises that file's
    error class with ENOENT and the path; nothing is created, no live slot is left and the
    other files keep their bytes."""
    path = acct.root / where
    paths = {"utmp_path": str(acct.utmp), "wtmp_path": str(acct.wtmp)}
    error: type[pam_pyutmp.PyutmpError]
    if missing == "utmp":
        paths["utmp_path"], error = str(path), pam_pyutmp.UtmpError
    elif missing == "wtmp":
        paths["wtmp_path"], error = str(path), pam_pyutmp.WtmpError
    else:
        error = pam_pyutmp.LastlogError
    before = contents(acct.utmp, acct.wtmp, acct.lastlog)
    calls = (
        [lambda: pam_pyutmp.put_lastlog_entry("sshd", "alice", "pts/2", "h",
                                              lastlog_path=path, uid=5)]
        if missing == "lastlog" else
        [lambda: pam_pyutmp.put_utmp("alice", "pts/2", "192.0.2.5", **paths),
         lambda: pam_pyutmp.put_utmp("alice", "", "192.0.2.5", service="su", **paths)]
    )
    for call in calls:
        with pytest.raises(error) as caught:
            call()
        assert (caught.value.errno, caught.value.filename) == (errno.ENOENT, str(path))
        assert not path.exists() and not (acct.root / "nodir").exists()
        assert live_slots(acct.utmp) == []  # all or nothing
    after = contents(acct.utmp, acct.wtmp, acct.lastlog)
    if missing == "wtmp":
        # The slots the failed logins opened were closed again.
        assert all(s.type == DEAD_PROCESS for s in utmpfile.read(str(acct.utmp)))
        del before[acct.utmp], after[acct.utmp]
    assert after == before


def test_put_utmp_is_all_or_nothing_when_wtmp_fails(used, readers) -> None:
    """When wtmp cannot be written, put_utmp raises WtmpError and leaves no live utmp slot;
    the records that were there before keep their bytes and wtmp is unchanged."""
    before = used.utmp.read_bytes()
    wtmp_before = used.wtmp.read_bytes()
    for tty in ("pts/5", ""):
        with pytest.raises(pam_pyutmp.WtmpError) as caught:
            pam_pyutmp.put_utmp("alice", tty, "192.0.2.5", service="su",
                                utmp_path=used.utmp, wtmp_path=used.root / "no-wtmp")
        assert caught.value.errno == errno.ENOENT
    after = used.utmp.read_bytes()
    # The live slot that was there keeps its bytes; every other slot is dead.
    assert after[:UTMPX_SIZE] == before[:UTMPX_SIZE]
    assert [s.user for s in live_slots(used.utmp)] == ["keeper"]
    assert [(w[0], w[1]) for w in readers.who(used.utmp)] == [("keeper", "pts/1")]
    assert used.wtmp.read_bytes() == wtmp_before


# --- symlinks -------------------------------------------------------------------------

@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_lastlog_symlink_is_refused_with_eloop(tmp_path, dangling) -> None:
    """A symlink where the lastlog file should be raises LastlogError (ELOOP, path); its
    target keeps its bytes, or is not created when missing."""
    target = tmp_path / "target"
    if not dangling:
        target.write_bytes(b"precious\n" * 100)
    link = tmp_path / "lastlog"
    link.symlink_to(target)
    before = contents(target)
    with pytest.raises(pam_pyutmp.LastlogError) as caught:
        pam_pyutmp.put_lastlog_entry("sshd", "alice", "pts/2", "h", lastlog_path=link, uid=0,
                                     uid_max=None)
    assert (caught.value.errno, caught.value.filename) == (errno.ELOOP, str(link))
    assert contents(target) == before
    assert link.is_symlink()


def test_wtmp_symlink_is_refused(acct, tmp_path) -> None:
    """wtmp is not appended through a symlink either: WtmpError, no live slot, target
    unchanged."""
    target = tmp_path / "elsewhere"
    target.write_bytes(b"")
    link = tmp_path / "wtmp-link"
    link.symlink_to(target)
    with pytest.raises(pam_pyutmp.WtmpError) as caught:
        pam_pyutmp.put_utmp("alice", "pts/2", "h", utmp_path=acct.utmp, wtmp_path=link)
    assert caught.value.errno == errno.ELOOP
    assert target.read_bytes() == b""
    assert live_slots(acct.utmp) == []


# --- read-only files, written by an unprivileged process -------------------------------

CHILD = """
import json, sys
import pam_pyutmp
call = json.loads(sys.argv[1])
try:
    getattr(pam_pyutmp, call["name"])(*call["args"], **call["kwargs"])
    print(json.dumps(None))
except OSError as err:
    print(json.dumps([type(err).__name__, err.errno, err.filename]))
"""


def as_nobody(name: str, *args: Any, **kwargs: Any) -> Any:
    """Call pam_pyutmp.<name> in a process with uid, gid 65534 and no groups; the error
    it raised as [class, errno, filename], or None."""
    call = json.dumps({"name": name, "args": args, "kwargs": kwargs})
    done = subprocess.run(["/usr/bin/python3", "-I", "-c", CHILD, call], cwd="/",
                          user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def shared(shared_dir) -> Any:
    """utmp, wtmp and lastlog owned by root, mode 0644, in a dir nobody may enter, already
    holding a session."""
    utmp, wtmp, ll = (shared_dir / name for name in ("utmp", "wtmp", "lastlog"))
    utmp.touch()
    wtmp.touch()
    entry = pam_pyutmp.put_utmp("keeper", "pts/1", "192.0.2.1", utmp_path=utmp,
                                wtmp_path=wtmp)
    pam_pyutmp.put_lastlog_entry("sshd", "keeper", "pts/1", "h", lastlog_path=ll, uid=3,
                                 uid_max=None)
    for path in (utmp, wtmp, ll):
        path.chmod(0o644)
    assert entry.line == "pts/1"
    return utmp, wtmp, ll


def test_the_unprivileged_child_can_write_what_it_may(shared_dir) -> None:
    """Control: the same child does write files it owns, so the EACCES below comes from
    the permissions and nothing else."""
    utmp, wtmp = shared_dir / "own-utmp", shared_dir / "own-wtmp"
    for path in (utmp, wtmp):
        path.touch()
        os.chown(path, NOBODY, NOBODY)
    assert as_nobody("put_utmp", "nobody", "pts/9", "h", utmp_path=str(utmp),
                     wtmp_path=str(wtmp)) is None
    assert [s.user for s in live_slots(utmp)] == ["nobody"]


@pytest.mark.parametrize("tty", ["pts/2", ""], ids=["tty", "no-tty"])
def test_read_only_utmp_gives_eacces_and_changes_nothing(shared, tty) -> None:
    """A utmp the process may not write raises UtmpError EACCES with the path, before
    anything reaches wtmp."""
    utmp, wtmp, ll = shared
    before = contents(utmp, wtmp, ll)
    assert as_nobody("put_utmp", "nobody", tty, "h", service="su", utmp_path=str(utmp),
                     wtmp_path=str(wtmp)) == ["UtmpError", errno.EACCES, str(utmp)]
    assert contents(utmp, wtmp, ll) == before


def test_read_only_wtmp_gives_eacces_and_leaves_no_live_slot(shared, shared_dir) -> None:
    """A wtmp the process may not write raises WtmpError EACCES with the path: wtmp keeps
    its bytes and the utmp slot the call opened is closed again."""
    _, wtmp, _ = shared
    utmp = shared_dir / "nobody-utmp"
    utmp.touch()
    os.chown(utmp, NOBODY, NOBODY)
    before = contents(wtmp)
    assert as_nobody("put_utmp", "nobody", "pts/2", "h", utmp_path=str(utmp),
                     wtmp_path=str(wtmp)) == ["WtmpError", errno.EACCES, str(wtmp)]
    assert contents(wtmp) == before
    assert live_slots(utmp) == []


def test_read_only_lastlog_gives_eacces_and_changes_nothing(shared) -> None:
    """A lastlog the process may not write raises LastlogError EACCES with the path, and
    keeps its bytes."""
    _, _, ll = shared
    before = contents(ll)
    assert as_nobody("put_lastlog_entry", "sshd", "nobody", "pts/2", "h",
                     lastlog_path=str(ll), uid=3, uid_max=None
                     ) == ["LastlogError", errno.EACCES, str(ll)]
    assert contents(ll) == before


# --- closing a session -------------------------------------------------------------------

def test_unput_twice_writes_the_logout_once(acct) -> None:
    """A second unput_utmp of the same session returns False and writes nothing: wtmp
    holds exactly one login and one logout."""
    entry = pam_pyutmp.put_utmp("alice", "pts/6", "h", **acct.paths)
    assert pam_pyutmp.unput_utmp(entry) is True
    before = contents(acct.utmp, acct.wtmp)
    assert pam_pyutmp.unput_utmp(entry) is False
    assert contents(acct.utmp, acct.wtmp) == before
    records = list(utmpfile.iter_wtmp(str(acct.wtmp)))
    assert [(r.type, r.line) for r in records] == [(USER_PROCESS, "pts/6"),
                                                   (DEAD_PROCESS, "pts/6")]


def test_unput_of_a_session_whose_slot_a_newer_login_took_is_refused(acct) -> None:
    """unput_utmp of an old session whose tty a newer login now holds writes nothing and
    leaves the newer session live."""
    old = pam_pyutmp.put_utmp("alice", "pts/6", "h", **acct.paths)
    new = pam_pyutmp.put_utmp("bob", "pts/6", "h", **acct.paths)
    before = contents(acct.utmp, acct.wtmp)
    assert pam_pyutmp.unput_utmp(old) is False
    assert contents(acct.utmp, acct.wtmp) == before
    assert [s.user for s in live_slots(acct.utmp)] == ["bob"]
    assert pam_pyutmp.unput_utmp(new) is True

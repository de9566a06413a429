"""The utmps client and the test stand-in, both held to the captured transcripts.

/work/shared/utmps-protocol/NN_*.txt are byte-exact exchanges between libutmps and the
real utmps-utmpd/utmps-wtmpd.  The client must send exactly their C>S bytes for the same
operation and read their S>C bytes as they are annotated; the stand-in daemon
(tests/utmps_standin.py), which the end-to-end tests use in place of the real daemons,
must answer their requests with their replies and leave the daemons' final files.
"""

from __future__ import annotations

import ast
import errno
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pamfakes import LogSocket, handle

from pam_pyutmp import pam
from pam_pyutmp.errors import PyutmpError, UtmpError, WtmpError
from pam_pyutmp.records import Record
from pam_pyutmp.system import UTMPX_SIZE
from pam_pyutmp.utmps import RECORD_SIZE, Link, UtmpdClient, UtmpdSession, WtmpdClient, pack, unpack

REPO = Path(__file__).resolve().parents[1]
# CI checks the shared material out beside the repository.
SHARED = REPO / ".." / "shared" / "utmps-protocol"
STANDIN = Path(__file__).with_name("utmps_standin.py")
DEFAULT_SOCKETS = {"/run/utmps/.utmpd-socket": "utmpd", "/run/utmps/.wtmpd-socket": "wtmpd"}
TYPES = {"EMPTY": 0, "RUN_LVL": 1, "BOOT_TIME": 2, "NEW_TIME": 3, "OLD_TIME": 4,
         "INIT_PROCESS": 5, "LOGIN_PROCESS": 6, "USER_PROCESS": 7, "DEAD_PROCESS": 8}
# README.txt's table of the packed record on x86_64, independent of the client's layout.
README_LAYOUT = struct.Struct("<h2xi32s4s32s256shhi4xqq16s20s4x")
WAIT = 10.0  # bound on any wait of the replaying side; only a hang gets near it


# --- The transcripts ------------------------------------------------------------------

@dataclass
class Step:
    direction: str  # "C>S" or "S>C"
    data: bytes  # b"" for "S>C 0", the daemon's EOF
    note: str = ""  # the annotation line after it, without "#   "

    @property
    def record(self) -> Record | None:
        """The record the annotation decodes, if it shows one."""
        found = re.search(r"record: (\{.*\})$", self.note)
        return None if found is None else annotated_record(ast.literal_eval(found.group(1)))


@dataclass
class Transcript:
    name: str
    run: str
    daemon: str  # "utmpd" or "wtmpd"
    steps: list[Step] = field(default_factory=list)
    files_after: dict[str, int | None] = field(default_factory=dict)  # path: size

    @property
    def credentials(self) -> tuple[int, int, list[int]]:
        """euid, egid and supplementary groups of the client (setpriv in the run line)."""
        uid = re.search(r"--reuid=(\d+)", self.run)
        gid = re.search(r"--regid=(\d+)", self.run)
        groups = re.search(r"--groups=([\d,]+)", self.run)
        return (int(uid.group(1)) if uid else 0, int(gid.group(1)) if gid else 0,
                [int(g) for g in groups.group(1).split(",")] if groups else [])


def annotated_record(values: dict[str, object]) -> Record:
    """A record from the transcript's decoded annotation (independent of our decoder)."""
    tv = values["ut_tv"]
    assert isinstance(tv, tuple)
    return Record(
        type=TYPES[str(values["type_name"])], pid=int(values["ut_pid"]),  # type: ignore[arg-type]
        line=str(values["ut_line"]), id=str(values["ut_id"]), user=str(values["ut_user"]),
        host=str(values["ut_host"]), session=int(values["ut_session"]),  # type: ignore[arg-type]
        tv_sec=tv[0], tv_usec=tv[1], addr_v6=bytes.fromhex(str(values["ut_addr_v6"])),
    )


def parse(path: Path) -> Transcript:
    transcript = Transcript(path.stem, "", "")
    last: Step | None = None  # the step an annotation on the next line would describe
    for line in path.read_text().splitlines():
        annotated, last = last, None
        if line.startswith("# run:"):
            transcript.run = line.split(":", 1)[1].strip()
        elif line.startswith("CONNECT "):
            transcript.daemon = DEFAULT_SOCKETS[line.split()[1]]
        elif line.startswith(("C>S ", "S>C ")):
            direction, length, *data = line.split()
            last = Step(direction, bytes.fromhex(data[0]) if data else b"")
            assert len(last.data) == int(length), line
            transcript.steps.append(last)
        elif line.startswith("#   ") and annotated is not None:
            annotated.note = line[4:].strip()
        elif found := re.match(r"#   (/\S+): (?:(\d+) bytes|\(does not exist yet\))", line):
            size = found.group(2)
            transcript.files_after[found.group(1)] = None if size is None else int(size)
    assert transcript.daemon and transcript.steps, path
    return transcript


def transcript_files() -> list[Path]:
    return sorted(SHARED.glob("[0-9][0-9]*_*.txt")) if SHARED.is_dir() else []


def need_shared() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"the utmps transcripts are not there: {SHARED} (../shared beside the "
                    "repository) is missing")


def load(name: str) -> Transcript:
    need_shared()
    (path,) = SHARED.glob(f"{name}_*.txt")
    return parse(path)


ALL = transcript_files()
ALL_IDS = [path.stem for path in ALL] or ["no-transcripts"]


@pytest.fixture(params=ALL or [None], ids=ALL_IDS)
def transcript(request: pytest.FixtureRequest) -> Transcript:
    need_shared()
    return parse(request.param)


# --- A replaying peer: the daemon's side of one transcript ---------------------------

class Replayer:
    """Serves one connection as the transcript's daemon side: takes each C>S message
    (as many bytes as the transcript shows) and answers each S>C with its bytes; S>C 0
    closes.  ``cut`` shortens one reply and then closes (a daemon dying mid-reply);
    ``mute`` stops answering before that reply and holds the connection (a hung daemon).
    """

    def __init__(self, path: str, steps: list[Step], cut: tuple[int, int] | None = None,
                 mute: int | None = None) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.listener.settimeout(WAIT)
        self.steps = steps
        self.cut = cut
        self.mute = mute
        self.received: list[bytes] = []
        self.client_closed = False
        self.release = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        conn.settimeout(WAIT)
        with conn:
            for n, step in enumerate(self.steps):
                if step.direction == "C>S":
                    data = b""
                    while len(data) < len(step.data):
                        chunk = conn.recv(len(step.data) - len(data))
                        if not chunk:
                            self.client_closed = True
                            return
                        data += chunk
                    self.received.append(data)
                    if data != step.data:
                        return
                elif n == self.mute:
                    self.release.wait(WAIT)
                    return
                elif self.cut is not None and n == self.cut[0]:
                    conn.sendall(step.data[: self.cut[1]])
                    return
                elif not step.data:
                    return  # the daemon's EOF
                else:
                    conn.sendall(step.data)
            try:
                self.client_closed = conn.recv(1) == b""  # CLOSE: nothing more is sent
            except OSError:
                self.client_closed = False

    def sent_by_client(self) -> list[bytes]:
        return [step.data for step in self.steps if step.direction == "C>S"]

    def finish(self) -> None:
        self.release.set()
        self.thread.join(WAIT)
        self.listener.close()


@pytest.fixture
def sockets(tmp_path: Path) -> dict[str, str]:
    return {"utmpd": str(tmp_path / "utmpd.sock"), "wtmpd": str(tmp_path / "wtmpd.sock")}


def replay(sockets: dict[str, str], transcript: Transcript, **kwargs: object) -> Replayer:
    return Replayer(sockets[transcript.daemon], transcript.steps, **kwargs)  # type: ignore[arg-type]


# --- The client, operation by operation ----------------------------------------------

Outcome = tuple[str, object]  # ("ok", value) or ("error", errno)


def outcome(call: Callable[[], object]) -> Outcome:
    try:
        return ("ok", call())
    except PyutmpError as err:
        return ("error", err.errno)


def drive(transcript: Transcript, path: str) -> list[Outcome]:
    """Each request of the transcript made through the client's call for it, with the
    values the annotation names; one connection, as in the transcript."""
    outcomes: list[Outcome] = []
    requests = [step for step in transcript.steps if step.direction == "C>S"]
    if transcript.daemon == "wtmpd":
        (request,) = requests
        record = request.record
        if request.note.startswith("cmd '+'") and record is not None:
            return [outcome(lambda: WtmpdClient(path, WAIT).append(record))]
        link = Link("wtmpd", path, WAIT, time.monotonic() + WAIT, WtmpError)
        return [outcome(lambda: link.ask(request.data))]
    session = UtmpdSession(path, WAIT)
    with session:
        for request in requests:
            outcomes.append(outcome(lambda request=request: call_for(session, request)))
            if outcomes[-1][0] == "error":
                break
    return outcomes


def call_for(session: UtmpdSession, request: Step) -> object:
    note = request.note
    if note.startswith("cmd 'r'"):
        return session.rewind()
    if note.startswith("cmd 'e'"):
        return session.getent()
    if found := re.match(r"cmd 'i' getid, type\(u16 BIG-endian\)=(\d+) id\[4\]='(.*)'$", note):
        return session.getid(int(found.group(1)), found.group(2))
    if found := re.match(r"cmd 'l' getline, ut_line\[32\]='(.*)'$", note):
        return session.getline(found.group(1))
    if note.startswith("cmd 'E' putline") and request.record is not None:
        return session.putline(request.record)
    # A request no libutmps call makes ('x', a truncated 'E'): sent as the bytes it is.
    return session.link.ask(request.data)


def expected(transcript: Transcript) -> list[Outcome]:
    """What each request's answer means, from the transcript's annotations."""
    out: list[Outcome] = []
    steps = transcript.steps
    for n, step in enumerate(steps):
        if step.direction != "S>C":
            continue
        request = steps[n - 1]
        if not step.data:
            out.append(("error", errno.EPIPE))  # EOF: the daemon died; libutmps says EPIPE
        elif step.data[0] != 0 and step.data[0] != errno.ESRCH:
            out.append(("error", step.data[0]))
        elif step.data[0] == errno.ESRCH:
            out.append(("ok", None))
        elif step.record is not None:
            out.append(("ok", step.record))
        else:
            assert step.note.startswith("status byte 0 = ok"), step.note
            raw_request = not request.note.startswith(("cmd 'r'", "cmd 'E' putline", "cmd '+'"))
            out.append(("ok", (0, None) if raw_request else None))
    return out


def test_the_client_sends_each_transcripts_bytes_and_reads_its_replies(
        transcript: Transcript, sockets: dict[str, str]) -> None:
    """For every transcript, the client's call for each request sends exactly the C>S
    bytes, and it reads each S>C reply as annotated: the record, not found, the errno
    (EPERM), EPIPE for the daemon's EOF."""
    peer = replay(sockets, transcript)
    try:
        outcomes = drive(transcript, sockets[transcript.daemon])
    finally:
        peer.finish()
    assert peer.received == peer.sent_by_client()
    assert outcomes == expected(transcript)
    assert peer.client_closed or outcomes[-1] == ("error", errno.EPIPE)


def test_put_is_a_rewind_then_a_putline(sockets: dict[str, str]) -> None:
    """The store's put() of vector 01's record is exactly 'r', then 'E' and the 400-byte
    record, on one connection that it closes (setutxent; pututxline; endutxent)."""
    transcript = load("01")
    record = transcript.steps[2].record
    assert record is not None
    peer = replay(sockets, transcript)
    try:
        UtmpdClient(sockets["utmpd"], WAIT).put(record)
    finally:
        peer.finish()
    assert peer.received == peer.sent_by_client() and peer.client_closed


def test_put_replaces_after_a_rewind(sockets: dict[str, str]) -> None:
    """put() of vector 17's DEAD record sends its 'r' first, the rewind without which the
    daemon appends a duplicate instead (vector 16)."""
    transcript = load("17")
    record = transcript.steps[2].record
    assert record is not None
    peer = replay(sockets, transcript)
    try:
        UtmpdClient(sockets["utmpd"], WAIT).put(record)
    finally:
        peer.finish()
    assert peer.received == [b"r", b"E" + pack(record)] == peer.sent_by_client()


def test_read_is_a_rewind_and_a_getent_loop(sockets: dict[str, str]) -> None:
    """The store's read() is vector 04: 'r', then 'e' until ESRCH, giving both records."""
    transcript = load("04")
    peer = replay(sockets, transcript)
    try:
        records = UtmpdClient(sockets["utmpd"], WAIT).read()
    finally:
        peer.finish()
    assert peer.received == peer.sent_by_client() and peer.client_closed
    assert records == [step.record for step in transcript.steps if step.record is not None]
    assert [r.user for r in records] == ["alice", "bob"]


def test_append_is_one_connection_with_one_request(sockets: dict[str, str]) -> None:
    """The wtmp store's append() is vector 06: '+' and the record, one status byte."""
    transcript = load("06")
    record = transcript.steps[0].record
    assert record is not None
    peer = replay(sockets, transcript)
    try:
        WtmpdClient(sockets["wtmpd"], WAIT).append(record)
    finally:
        peer.finish()
    assert peer.received == peer.sent_by_client() and peer.client_closed


@pytest.mark.parametrize("name", ["07", "07b"])
def test_a_refused_utmp_write_says_what_would_allow_it(sockets: dict[str, str],
                                                       name: str) -> None:
    """utmpd's EPERM (vectors 07, 07b) is a UtmpError with errno EPERM whose message names
    the rule and the fix: root or effective group utmp, chgrp/chmod g+s or s6-setuidgid."""
    transcript = load(name)
    record = transcript.steps[2].record
    assert record is not None
    peer = replay(sockets, transcript)
    try:
        with pytest.raises(UtmpError) as refused:
            UtmpdClient(sockets["utmpd"], WAIT).put(record)
    finally:
        peer.finish()
    assert refused.value.errno == errno.EPERM
    assert refused.value.filename == sockets["utmpd"]
    # The replaying peer runs as root: its group (SO_PEERCRED) is 0, which says nothing
    # about a daemon's group, so the message names the conventional one.
    assert "utmpd refused the write: needs root or effective group utmp (chgrp utmp PROG; " \
           "chmod g+s PROG, or run it under s6-setuidgid)" in refused.value.strerror
    assert "supplementary groups do not count" in refused.value.strerror


@pytest.mark.parametrize("name", ["09", "09b"])
def test_a_refused_wtmp_append_names_the_users_rule(sockets: dict[str, str],
                                                    name: str) -> None:
    """wtmpd's EPERM (vectors 09, 09b) is a WtmpError with errno EPERM naming the rule:
    root, or the record's user being the caller."""
    transcript = load(name)
    record = transcript.steps[0].record
    assert record is not None
    peer = replay(sockets, transcript)
    try:
        with pytest.raises(WtmpError) as refused:
            WtmpdClient(sockets["wtmpd"], WAIT).append(record)
    finally:
        peer.finish()
    assert refused.value.errno == errno.EPERM
    assert f"needs root, or the record's user ({record.user!r})" in refused.value.strerror


def test_a_daemon_dying_mid_reply_is_epipe(sockets: dict[str, str]) -> None:
    """Vector 04 with the daemon gone after 100 bytes of its second record: read() raises
    UtmpError EPIPE ("in the middle of a reply") and returns no partial list."""
    transcript = load("04")
    second_record = [n for n, step in enumerate(transcript.steps) if step.record][1]
    peer = replay(sockets, transcript, cut=(second_record, 100))
    try:
        with pytest.raises(UtmpError) as died:
            UtmpdClient(sockets["utmpd"], WAIT).read()
    finally:
        peer.finish()
    assert died.value.errno == errno.EPIPE
    assert "in the middle of a reply" in died.value.strerror


def test_a_daemon_that_never_answers_times_out(sockets: dict[str, str]) -> None:
    """Vector 01 with a daemon that takes 'r' and never answers: put() gives up with
    UtmpError ETIMEDOUT after about the timeout, not a hang (bounded wait)."""
    transcript = load("01")
    peer = replay(sockets, transcript, mute=1)
    start = time.monotonic()
    try:
        with pytest.raises(UtmpError) as hung:
            UtmpdClient(sockets["utmpd"], 0.5).put(transcript.steps[2].record)  # type: ignore[arg-type]
    finally:
        elapsed = time.monotonic() - start
        peer.finish()
    assert hung.value.errno == errno.ETIMEDOUT and "no answer within 0.5 s" in str(hung.value)
    assert elapsed < 5, elapsed  # the timeout plus a generous margin


def test_a_wtmpd_that_never_answers_times_out(sockets: dict[str, str]) -> None:
    """Vector 06 with a daemon that takes the request and never answers: append() raises
    WtmpError ETIMEDOUT within a bounded wait."""
    transcript = load("06")
    peer = replay(sockets, transcript, mute=1)
    start = time.monotonic()
    try:
        with pytest.raises(WtmpError) as hung:
            WtmpdClient(sockets["wtmpd"], 0.5).append(transcript.steps[0].record)  # type: ignore[arg-type]
    finally:
        elapsed = time.monotonic() - start
        peer.finish()
    assert hung.value.errno == errno.ETIMEDOUT
    assert elapsed < 5, elapsed


# --- The record layout ------------------------------------------------------------------

def test_the_layout_is_the_daemons_struct_not_glibcs() -> None:
    """The client's record is README's 400-byte LP64 struct (64-bit ut_tv at 344), not the
    C library's 384-byte utmpx, and packs field for field as README's table does."""
    if struct.calcsize("@l") != 8 or sys.byteorder != "little":
        pytest.skip("README's table is the LP64 little-endian layout")
    record = Record(7, 4242, "l" * 32, "ts/7", "u" * 32, "h" * 256, 4343, 2**40 + 5, 999999,
                    bytes(range(16)))
    assert RECORD_SIZE == README_LAYOUT.size == 400 != UTMPX_SIZE
    assert pack(record) == README_LAYOUT.pack(
        7, 4242, b"l" * 32, b"ts/7", b"u" * 32, b"h" * 256, 0, 0, 4343, 2**40 + 5, 999999,
        bytes(range(16)), bytes(20))
    assert unpack(pack(record)) == record  # full-width strings, no terminator needed


@pytest.mark.parametrize("name", ["final_utmp.bin", "final_wtmp.bin"])
def test_the_daemons_files_round_trip(name: str) -> None:
    """Every record of the daemons' final utmp and wtmp decodes to what the last transcript
    says they hold and encodes back to the very same 400 bytes."""
    need_shared()
    data = (SHARED / name).read_bytes()
    assert len(data) % RECORD_SIZE == 0 and data
    records = [unpack(data[n : n + RECORD_SIZE]) for n in range(0, len(data), RECORD_SIZE)]
    assert b"".join(pack(record) for record in records) == data
    described = described_files(SHARED / "20_idle_connection.txt")
    path = {"final_utmp.bin": "/run/utmps/utmp", "final_wtmp.bin": "/var/log/wtmp"}[name]
    assert records == described[path]


def described_files(path: Path) -> dict[str, list[Record]]:
    """The records a transcript lists under "daemon files after this step"."""
    files: dict[str, list[Record]] = {}
    current = ""
    for line in path.read_text().splitlines():
        if found := re.match(r"#   (/\S+): ", line):
            current = found.group(1)
            files[current] = []
        elif found := re.match(r"#     \[\d+\] (\{.*\})$", line):
            files[current].append(annotated_record(ast.literal_eval(found.group(1))))
    return files


# --- The PAM layer on a daemon dying mid-reply --------------------------------------------

def test_pam_open_on_a_daemon_dying_mid_reply_is_session_err(
        sockets: dict[str, str], tmp_path: Path, logs: LogSocket) -> None:
    """A session open whose utmpd dies in the middle of a record (vector 04, cut) returns
    PAM_SESSION_ERR and logs one error line naming EPIPE; lastlog is still written."""
    transcript = load("04")
    second_record = [n for n, step in enumerate(transcript.steps) if step.record][1]
    peer = replay(sockets, transcript, cut=(second_record, 100))
    args = ["backend=utmps", f"utmpd_socket={sockets['utmpd']}", "nowtmp",
            f"lastlog={tmp_path / 'lastlog'}", "utmps_timeout=5"]
    try:
        code = pam.open_session(handle(), 0, args)
    finally:
        peer.finish()
    assert code == pam.PAM_SESSION_ERR
    errors = [line for line in logs.lines() if line.startswith("<83>")]  # authpriv.err
    assert len(errors) == 1 and "[Errno 32]" in errors[0] and "in the middle of a reply" \
        in errors[0], errors
    assert (tmp_path / "lastlog").stat().st_size > 0


# --- The stand-in daemon, held to the same transcripts -----------------------------------

# Vector 08: "egid 43 (= daemon egid)": the daemons ran as group utmp, 43 on Debian.
DAEMON_EGID = 43


def connect_as(path: str, uid: int, gid: int, groups: list[int]) -> socket.socket:
    """A connection made by a process with these credentials (the daemon reads them with
    SO_PEERCRED at accept, as they were at connect), handed back to this process."""
    here, there = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            here.close()
            os.setgroups(groups)
            os.setregid(gid, gid)
            os.setreuid(uid, uid)
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(path)
            socket.send_fds(there, [b"."], [conn.fileno()])
            code = 0
        finally:
            os._exit(code)
    there.close()
    try:
        _, fds, _, _ = socket.recv_fds(here, 1, 1)
    finally:
        here.close()
        os.waitpid(pid, 0)
    assert fds, "the child could not connect"
    conn = socket.socket(fileno=fds[0])
    conn.settimeout(WAIT)
    return conn


def start_standin(daemon: str, sock: str, workdir: Path, *options: str) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, str(STANDIN), daemon, sock, str(workdir),
                                *options], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline() == "\n", f"the {daemon} stand-in did not start"
    return process


def receive_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < max(size, 1):
        chunk = conn.recv(max(size, 1) - len(data))
        if not chunk:
            break
        data += chunk
    return data


def test_the_standin_answers_every_transcript_as_the_real_daemons_did(
        shared_dir: Path) -> None:
    """Every transcript's requests, in order, each from a client with the transcript's
    credentials (setpriv: uid, egid, supplementary groups), get the transcript's replies
    byte for byte from the stand-in (EOFs included, the 30 s payload wait shortened to
    1 s), its files have the listed sizes after each step and equal the real daemons'
    final utmp and wtmp at the end."""
    need_shared()
    run_dir, log_dir = shared_dir / "utmps", shared_dir / "log"
    run_dir.mkdir()
    log_dir.mkdir()
    sockets = {"utmpd": str(run_dir / ".utmpd-socket"), "wtmpd": str(run_dir / ".wtmpd-socket")}
    files = {"/run/utmps/utmp": run_dir / "utmp", "/var/log/wtmp": log_dir / "wtmp"}
    daemons = [
        start_standin("utmpd", sockets["utmpd"], run_dir, "--egid", str(DAEMON_EGID),
                      "--io-timeout", "1"),
        start_standin("wtmpd", sockets["wtmpd"], log_dir, "--egid", str(DAEMON_EGID),
                      "--io-timeout", "1"),
    ]
    try:
        for path in ALL:
            transcript = parse(path)
            conn = connect_as(sockets[transcript.daemon], *transcript.credentials)
            with conn:
                for step in transcript.steps:
                    if step.direction == "C>S":
                        conn.sendall(step.data)
                    else:
                        got = receive_exactly(conn, len(step.data))
                        assert got == step.data, (transcript.name, step.note, got.hex())
            sizes = {name: file.stat().st_size if file.exists() else None
                     for name, file in files.items()}
            assert sizes == transcript.files_after, transcript.name
    finally:
        for daemon in daemons:
            daemon.terminate()
            daemon.wait(WAIT)
    assert files["/run/utmps/utmp"].read_bytes() == (SHARED / "final_utmp.bin").read_bytes()
    assert files["/var/log/wtmp"].read_bytes() == (SHARED / "final_wtmp.bin").read_bytes()


def test_the_standin_waits_for_a_payload_then_dies_silently(shared_dir: Path) -> None:
    """Vector 19's rule: 'E' with 10 of its 400 bytes gets no reply and an EOF once the
    payload wait is over, not before (a lower bound with a wide margin), and not never."""
    need_shared()
    transcript = load("19")
    sock = str(shared_dir / "utmpd.sock")
    daemon = start_standin("utmpd", sock, shared_dir, "--io-timeout", "2")
    try:
        conn = connect_as(sock, 0, 0, [])
        with conn:
            conn.sendall(transcript.steps[0].data)
            start = time.monotonic()
            assert receive_exactly(conn, 1) == b""
            elapsed = time.monotonic() - start
    finally:
        daemon.terminate()
        daemon.wait(WAIT)
    assert 1.0 < elapsed < WAIT, elapsed


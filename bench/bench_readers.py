"""The `pyutmp` readers against the C readers of the release, in speed and memory, in one run.

    /usr/bin/python3 bench/bench_readers.py                          # 1,000,000 records
    /usr/bin/python3 bench/bench_readers.py --records 100000 --repeat 1
    /usr/bin/python3 bench/bench_readers.py --pyutmp \\
        "env PYTHONPATH=/some/tree /usr/bin/python3 -m pam_pyutmp" --check

The files are made here, in a temp dir (or --dir DIR, kept): a wtmp of --records records
holding every kind util-linux `last` tells apart (logins and logouts on shared lines, boots,
shutdowns, run levels, LOGIN and INIT records, old writers' untyped records, logins without
a user, clock changes, and after this boot logins gone and one still on a terminal this
script holds open), a btmp of --btmp-records failed attempts, a wtmpdb database of --db-rows
rows and a lastlog2 database of --lastlog2-users users, both in the upstream schemas.

Each pair runs the C reader and `pyutmp` on the same file, in the same zone (--tz, default
UTC) and the C locale, --repeat times, interleaved so that drift of the machine hits both:

    last          util-linux `last -f W`              `pyutmp last -f W`
    last -x       ... with -x (shutdowns, run levels)  when `pyutmp last` accepts -x
    last iso      ... --time-format iso
    last -s -t    ... a window in the middle            when `pyutmp last` accepts -s/-t
    lastb         util-linux `lastb -f B`             `pyutmp lastb -f B`
    wtmpdb        `wtmpdb last -f DB`                 `pyutmp last --source wtmpdb -f DB`
    wtmpdb iso    ... --time-format iso
    lastlog2      `lastlog2 -d DB`                    `pyutmp lastlog --source lastlog2 -f DB`

Output goes to a pipe this script reads and hashes, so no terminal's speed counts, and the two
outputs must be byte-identical ("same", else "DIFFERS").  A time is the best of the runs (a busy
machine only adds time); a peak is the reader's ru_maxrss, taken by bench/peak_run.c (compiled
with cc at the start), as this script's own memory would count in a child it forked itself.  The
table gives both and their ratios (ours / C); the target is a time ratio of at most 1.0 per
pair.  Then `pyutmp last --json` (and --json-lines where accepted) on the wtmp file and on the
wtmpdb database, run once each, against the bound of 64 MiB peak memory.  A pair whose C reader
is not on this release (Debian 13 has no util-linux `last`/`lastb`; Debian 12 has no `wtmpdb`
or `lastlog2`) is printed with the reason.  The exit status is 0, it is a report; with --check
it is 1 when a target or the bound is missed or an output differs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shlex
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

JSON_BOUND_KIB = 64 * 1024
TIME_TARGET = 1.0
PEAK_RUN = Path(__file__).resolve().with_name("peak_run.c")
FAR_PID = 5_000_000  # above any pid_max (2**22): no such process, as last(1) checks

# glibc's struct utmpx on x86-64 (and every 64-bit glibc with __WORDSIZE_TIME64_COMPAT32):
# ut_type (short, then 2 bytes of padding), ut_pid, ut_line[32], ut_id[4], ut_user[32],
# ut_host[256], ut_exit (two shorts), ut_session, ut_tv (two int32), ut_addr_v6[4], 20
# reserved bytes.  Seconds are int32 on glibc 2.36 and uint32 on 2.41; every time written
# here is below 2**31, so one format serves both.
UTMPX = struct.Struct("<h2xi32s4s32s256s2hi2i16s20x")
assert UTMPX.size == 384

EMPTY, RUN_LVL, BOOT_TIME, NEW_TIME = 0, 1, 2, 3
INIT_PROCESS, LOGIN_PROCESS, USER_PROCESS, DEAD_PROCESS = 5, 6, 7, 8

# wtmpdb's own record types (wtmpdb.h), not utmp's.
DB_BOOT_TIME, DB_USER_PROCESS = 1, 3
# Upstream's statements, word for word: wtmpdb's lib/sqlite.c and util-linux's liblastlog2.
WTMP_TABLE = (
    "CREATE TABLE IF NOT EXISTS wtmp(ID INTEGER PRIMARY KEY, Type INTEGER, User TEXT NOT NULL, "
    "Login INTEGER, Logout INTEGER, TTY TEXT, RemoteHost TEXT, Service TEXT) STRICT;"
)
LASTLOG2_TABLE = (
    "CREATE TABLE IF NOT EXISTS Lastlog2(Name TEXT PRIMARY KEY, Time INTEGER, TTY TEXT, "
    "RemoteHost TEXT, Service TEXT);"
)

USERS = ("root", "nosuchuser1", "daemon", "nosuchuser2")
LINES = tuple([f"pts/{i}" for i in range(30)] + [f"tty{i}" for i in range(1, 5)]
              + ["ftp1234", "uucp7", "su/0", ":0"])
HISTORY_DAYS = 200
USEC = 1_000_000


# --- the files ------------------------------------------------------------------------------


def utmpx(kind: int, pid: int, id_: str, user: str, line: str, host: str, sec: int,
          usec: int = 0, addr: bytes = bytes(16)) -> bytes:
    return UTMPX.pack(kind, pid, line.encode(), id_.encode(), user.encode(), host.encode(),
                      0, 0, 0, sec, usec, addr)


def boot_time() -> int:
    return int(time.time() - time.clock_gettime(time.CLOCK_BOOTTIME))


def history_records(count: int, live_line: str | None, rnd: random.Random
                    ) -> Iterator[bytes]:
    """``count`` wtmp records, oldest first, in the proportions of tests/test_cli.py's
    history_text: the stock `last` has a branch for each."""
    booted = boot_time()
    now = int(time.time())
    t = booted - HISTORY_DAYS * 86400
    old = max(0, count - 20)
    step = max(1, (booted - 10 - t) // max(1, old))
    addr = bytes([192, 0, 2, 1]) + bytes(12)
    for i in range(old):
        # A step's mean is `step`, and none passes the boot: a record of the future
        # would turn into "still running" in the second a reader runs.
        t = min(t + rnd.randint(0, 2 * step), booted - 10)
        line = rnd.choice(LINES)
        pid = FAR_PID + i
        r = rnd.random()
        if r < 0.45:
            yield utmpx(USER_PROCESS, pid, line[-4:], rnd.choice(USERS), line,
                        f"h{rnd.randint(0, 99)}.example", t, rnd.randint(0, 999_999), addr)
        elif r < 0.88:
            yield utmpx(DEAD_PROCESS, pid, line[-4:], "", line, "", t)
        elif r < 0.90:
            yield utmpx(BOOT_TIME, 0, "~~", "reboot", "~", "6.1.0-bench", t)
        elif r < 0.91:
            yield utmpx(RUN_LVL, ord(rnd.choice("06")), "~~", "shutdown", "~~", "", t)
        elif r < 0.92:
            yield utmpx(RUN_LVL, ord(rnd.choice("0356")), "~~", "runlevel", "~", "", t)
        elif r < 0.94:
            yield utmpx(LOGIN_PROCESS, pid, line[-4:], "LOGIN", line, "", t)
        elif r < 0.95:
            yield utmpx(INIT_PROCESS, pid, line[-4:], "", line, "", t)
        elif r < 0.96:  # an old writer's record without a type
            yield utmpx(EMPTY, pid, line[-4:], rnd.choice(USERS), line, "old.example", t)
        elif r < 0.97:  # USER_PROCESS without a user
            yield utmpx(USER_PROCESS, pid, line[-4:], "", line, "ghost", t)
        elif r < 0.98:  # a logout that names its user
            yield utmpx(DEAD_PROCESS, pid, line[-4:], "daemon", line, "", t)
        else:
            yield utmpx(NEW_TIME, 0, "", "date", rnd.choice("|{"), "", t)
    # This boot, then logins since: gone ones, and root's on the terminal held open
    # ("still logged in"); all at least 5 s old, so no logout is "still running".
    t = booted + 1
    yield utmpx(BOOT_TIME, 0, "~~", "reboot", "~", "6.1.0-bench", t)
    span = max(1, (now - 5 - t) // 20)
    for j in range(min(count, 20) - 1):
        t += rnd.randint(0, span)
        if live_line is not None and j % 3 == 0:
            yield utmpx(USER_PROCESS, FAR_PID + count + j, "x", "root", live_line,
                        "live.example", t)
        else:
            yield utmpx(USER_PROCESS, FAR_PID + count + j, "y", rnd.choice(USERS),
                        f"pts/{100 + j}", "gone.example", t)


def btmp_records(count: int, rnd: random.Random) -> Iterator[bytes]:
    """Failed attempts as login, sshd and su write them, oldest first."""
    now = int(time.time())
    t = now - HISTORY_DAYS * 86400
    step = max(1, (now - 60 - t) // max(1, count))
    names = ("root", "(unknown)", "admin", "a-very-long-user-name-x", "oracle", "daemon")
    for i in range(count):
        t = min(t + rnd.randint(0, 2 * step), now - 60)  # never the second a reader runs in
        line = rnd.choice(("ssh:notty", "ssh:notty", "pts/3", "tty1", "su"))
        host = "" if line in ("tty1", "su") else f"198.51.100.{rnd.randint(1, 254)}"
        addr = bytes([198, 51, 100, int(host.rsplit(".", 1)[1])]) + bytes(12) if host else bytes(16)
        yield utmpx(LOGIN_PROCESS, 4000 + i % 30000, line[-4:], rnd.choice(names), line, host,
                    t, rnd.randint(0, 999_999), addr)


def write_records(path: Path, records: Iterator[bytes]) -> None:
    chunk: list[bytes] = []
    with open(path, "wb") as out:
        for record in records:
            chunk.append(record)
            if len(chunk) == 65536:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))


def wtmpdb_rows(count: int, rnd: random.Random) -> list[tuple[object, ...]]:
    """``count`` rows as pam_wtmpdb and `wtmpdb boot` write them, oldest first: sessions
    closed, left open across a boot (a crash to `wtmpdb last`) or open now, and boots
    with their shutdown as logout, the last one still running."""
    now_us = time.time_ns() // 1000
    t = now_us - HISTORY_DAYS * 86400 * USEC
    step = max(1, (now_us - 60 * USEC - t) // max(1, count))
    rows: list[list[object]] = []
    last_boot: int | None = None
    for i in range(count):
        t += rnd.randint(1, 2 * step)
        last_row = i == count - 1  # a session open now: "still logged in"
        if i == 0 or (rnd.random() < 0.03 and not last_row):
            if last_boot is not None and rnd.random() < 0.8:
                rows[last_boot][4] = t - rnd.randint(1, 5) * USEC  # shut down before
            last_boot = len(rows)
            rows.append([DB_BOOT_TIME, "reboot", t, None, "~", "6.12.48+deb13-amd64", None])
            continue
        line = rnd.choice(LINES)
        service = "sshd" if line.startswith("pts/") else rnd.choice(("login", "su", "ftp"))
        logout = None if last_row or rnd.random() < 0.05 else t + rnd.randint(1, 3 * step)
        rows.append([DB_USER_PROCESS, rnd.choice(USERS), t, logout, line,
                     f"h{rnd.randint(0, 99)}.example" if service == "sshd" else "", service])
    return [tuple(row) for row in rows]


def write_wtmpdb(path: Path, count: int, rnd: random.Random) -> None:
    rows = wtmpdb_rows(count, rnd)
    conn = sqlite3.connect(path)
    try:
        with conn:  # one transaction
            conn.execute(WTMP_TABLE)
            conn.executemany("INSERT INTO wtmp (Type,User,Login,Logout,TTY,RemoteHost,Service) "
                             "VALUES(?,?,?,?,?,?,?)", rows)
    finally:
        conn.close()


def write_lastlog2(path: Path, users: int, rnd: random.Random) -> None:
    now = int(time.time())
    rows = []
    for n in range(users):
        never = rnd.random() < 0.02
        line = rnd.choice(LINES)
        rows.append((f"user{n:06d}", 0 if never else now - rnd.randint(60, HISTORY_DAYS * 86400),
                     line, f"h{rnd.randint(0, 99)}.example" if line.startswith("pts/") else "",
                     "sshd" if line.startswith("pts/") else "login"))
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(LASTLOG2_TABLE)
            conn.executemany("INSERT INTO Lastlog2 (Name,Time,TTY,RemoteHost,Service) "
                             "VALUES(?,?,?,?,?)", rows)
    finally:
        conn.close()


@dataclass
class Files:
    wtmp: Path
    btmp: Path
    wtmpdb: Path
    lastlog2: Path
    since: str  # a window in the middle of the wtmp history, for -s/-t
    until: str


def make_files(where: Path, args: argparse.Namespace, live_line: str | None) -> Files:
    rnd = random.Random(args.seed)
    files = Files(where / "wtmp", where / "btmp", where / "wtmp.db", where / "lastlog2.db",
                  "", "")
    steps: list[tuple[Path, Callable[[], None]]] = [(files.wtmp, lambda: write_records(
                 files.wtmp, history_records(args.records, live_line, rnd))),
             (files.btmp, lambda: write_records(files.btmp,
                                                btmp_records(args.btmp_records, rnd))),
             (files.wtmpdb, lambda: write_wtmpdb(files.wtmpdb, args.db_rows, rnd)),
             (files.lastlog2, lambda: write_lastlog2(files.lastlog2, args.lastlog2_users, rnd))]
    for path, write in steps:
        started = time.perf_counter()
        path.unlink(missing_ok=True)  # a kept --dir's file of an earlier run
        write()
        note(f"made {path.name} in {time.perf_counter() - started:.1f} s")
    # The middle fifth of the wtmp history, in the readers' zone, as `last -s/-t` take it.
    start = boot_time() - HISTORY_DAYS * 86400
    span = HISTORY_DAYS * 86400
    files.since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(start + span * 2 // 5))
    files.until = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(start + span * 3 // 5))
    return files


# --- running one reader ---------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    peak_kib: int
    digest: str
    size: int
    failure: str  # "" when it exited 0


def build_peak_run(where: Path) -> Path:
    """bench/peak_run.c, compiled into ``where``: see there why the peaks need it."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        sys.exit("a C compiler (cc) is needed to build bench/peak_run.c")
    binary = where / "peak_run"
    done = subprocess.run([compiler, "-O2", "-Wall", "-Werror", "-o", str(binary),
                           str(PEAK_RUN)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"building {PEAK_RUN} failed:\n{done.stderr}")
    return binary


def run_once(peak_run: Path, argv: Sequence[str], env: dict[str, str]) -> Run:
    """``argv`` with its output read from a pipe and hashed; its wall time and peak."""
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r") as result:
        started = time.perf_counter()
        child = subprocess.Popen([str(peak_run), result.name, *argv], stdout=subprocess.PIPE,
                                 stderr=errors, stdin=subprocess.DEVNULL, env=env, cwd="/")
        assert child.stdout is not None
        digest = hashlib.sha256()
        size = 0
        while chunk := os.read(child.stdout.fileno(), 1 << 20):
            digest.update(chunk)
            size += len(chunk)
        child.stdout.close()
        code = child.wait()
        seconds = time.perf_counter() - started
        failure = ""
        if code != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip().splitlines()[-1:]
            failure = f"exit {code}: {' '.join(tail)}"[:120]
        peak = result.read().split()
    return Run(seconds, int(peak[0]) if peak else 0, digest.hexdigest(), size, failure)


@dataclass
class Side:
    argv: list[str] | None
    reason: str = ""  # why argv is None
    runs: list[Run] = field(default_factory=list)

    def best(self) -> Run:
        fastest = min(self.runs, key=lambda r: r.seconds)
        return Run(fastest.seconds, max(r.peak_kib for r in self.runs), fastest.digest,
                   fastest.size, next((r.failure for r in self.runs if r.failure), ""))


@dataclass
class Pair:
    name: str
    c: Side
    ours: Side


# --- the readers at hand --------------------------------------------------------------------


def util_linux(name: str) -> str:
    """'' when ``name`` is util-linux's here, else why not (Debian 13's `last` is wtmpdb's)."""
    found = shutil.which(name)
    if found is None:
        return f"no `{name}` on this release"
    if "wtmpdb" in os.path.basename(os.path.realpath(found)):
        return f"`{name}` is wtmpdb's on this release, not util-linux's"
    return ""


def on_path(name: str) -> str:
    return "" if shutil.which(name) else f"no `{name}` on this release"


def accepts(help_text: str, *options: str) -> bool:
    return all(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", help_text) for o in options)


def pairs(files: Files, pyutmp: list[str], last_help: str) -> list[Pair]:
    w, b, db, ll2 = str(files.wtmp), str(files.btmp), str(files.wtmpdb), str(files.lastlog2)
    window = ["-s", files.since, "-t", files.until]
    table = [
        ("last", "last", [], []),
        ("last -x", "last", ["-x"], ["-x"]),
        ("last iso", "last", ["--time-format", "iso"], ["--time-format", "iso"]),
        ("last -s -t", "last", window, ["-s", "-t"]),
    ]
    out = []
    missing_last = util_linux("last")
    for name, _reader, options, needs in table:
        ours = Side([*pyutmp, "last", *options, "-f", w])
        if needs and not accepts(last_help, *needs):
            ours = Side(None, f"`pyutmp last` has no {'/'.join(needs)}")
        c = Side(["last", *options, "-f", w]) if not missing_last else Side(None, missing_last)
        out.append(Pair(name, c, ours))
    missing = util_linux("lastb")
    out.append(Pair("lastb", Side(["lastb", "-f", b]) if not missing else Side(None, missing),
                    Side([*pyutmp, "lastb", "-f", b])))
    missing = on_path("wtmpdb")
    for name, options in (("wtmpdb", []), ("wtmpdb iso", ["--time-format", "iso"])):
        out.append(Pair(name, Side(["wtmpdb", "last", *options, "-f", db]) if not missing
                        else Side(None, missing),
                        Side([*pyutmp, "last", "--source", "wtmpdb", *options, "-f", db])))
    missing = on_path("lastlog2")
    out.append(Pair("lastlog2", Side(["lastlog2", "-d", ll2]) if not missing
                    else Side(None, missing),
                    Side([*pyutmp, "lastlog", "--source", "lastlog2", "-f", ll2])))
    return out


def json_runs(files: Files, pyutmp: list[str], last_help: str) -> list[tuple[str, Side]]:
    forms = ["--json"] + (["--json-lines"] if accepts(last_help, "--json-lines") else [])
    out = []
    for form in forms:
        out.append((f"last {form} (wtmp)", Side([*pyutmp, "last", form, "-f", str(files.wtmp)])))
        out.append((f"last {form} (wtmpdb)",
                    Side([*pyutmp, "last", "--source", "wtmpdb", form, "-f", str(files.wtmpdb)])))
    return out


# --- the run and the report -----------------------------------------------------------------


def measure(peak_run: Path, sides: list[tuple[str, Side]], repeat: int, env: dict[str, str]
            ) -> None:
    """Every side ``repeat`` times; a round runs each once, in turn, and every other round
    in the reverse order, so neither reader of a pair always runs first."""
    for round_ in range(repeat):
        order = sides if round_ % 2 == 0 else sides[::-1]
        for label, side in order:
            if side.argv is None:
                continue
            side.runs.append(run_once(peak_run, side.argv, env))
            last = side.runs[-1]
            note(f"round {round_ + 1}/{repeat} {label}: {last.seconds:.2f} s, "
                 f"{last.peak_kib / 1024:.1f} MiB{' ' + last.failure if last.failure else ''}")


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def pair_row(pair: Pair) -> tuple[list[str], bool]:
    """A table row and whether the pair met its target (or could not be measured)."""
    if pair.c.argv is None or pair.ours.argv is None:
        why = pair.c.reason if pair.c.argv is None else pair.ours.reason
        return [pair.name, "n/a", "n/a", "", "n/a", "n/a", "", "", why], True
    c, ours = pair.c.best(), pair.ours.best()
    if c.failure or ours.failure:
        who = f"C {c.failure}" if c.failure else f"ours {ours.failure}"
        return [pair.name, f"{c.seconds:.2f}", f"{ours.seconds:.2f}", "", mib(c.peak_kib),
                mib(ours.peak_kib), "", "failed", who], False
    same = c.digest == ours.digest
    ratio = ours.seconds / c.seconds
    met = same and ratio <= TIME_TARGET
    verdict = ("met" if ratio <= TIME_TARGET else "missed") + f" (<= {TIME_TARGET:.1f})"
    return [pair.name, f"{c.seconds:.2f}", f"{ours.seconds:.2f}", f"{ratio:.2f}",
            mib(c.peak_kib), mib(ours.peak_kib), f"{ours.peak_kib / c.peak_kib:.2f}",
            "same" if same else f"DIFFERS ({c.size} vs {ours.size} bytes)", verdict], met


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
             for row in [header, ["-" * w for w in widths], *rows]]
    return "\n".join(lines)


def report(pair_list: list[Pair], jsons: list[tuple[str, Side]], args: argparse.Namespace,
           pyutmp: list[str]) -> tuple[str, bool]:
    ok = True
    rows = []
    for pair in pair_list:
        row, met = pair_row(pair)
        rows.append(row)
        ok &= met
    lines = [f"records: wtmp {args.records:,}, btmp {args.btmp_records:,}, wtmpdb "
             f"{args.db_rows:,} rows, lastlog2 {args.lastlog2_users:,} users; TZ={args.tz} "
             f"LC_ALL=C; best of {args.repeat} (JSON: 1); pyutmp = {shlex.join(pyutmp)}", "",
             table(rows, ["reader", "C s", "ours s", "ratio", "C MiB", "ours MiB", "ratio",
                          "output", "time target / why not run"]), ""]
    for label, side in jsons:
        best = side.best()
        if best.failure:
            lines.append(f"FAIL  pyutmp {label}: {best.failure}")
            ok = False
            continue
        passed = best.peak_kib <= JSON_BOUND_KIB
        ok &= passed
        lines.append(f"{'pass' if passed else 'FAIL'}  pyutmp {label}: peak "
                     f"{mib(best.peak_kib)} MiB (bound {JSON_BOUND_KIB // 1024} MiB), "
                     f"{best.seconds:.2f} s, {best.size / 1e6:.1f} MB of JSON")
    return "\n".join(lines), ok


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def live_terminal() -> tuple[int, int, str] | None:
    """A terminal held open for the run, as root's logged-in session on it: `last` calls a
    login without a logout "still logged in" when its tty exists and belongs to the user."""
    try:
        master, slave = os.openpty()
    except OSError:  # a chroot without /dev/pts
        return None
    try:
        if os.fstat(slave).st_uid == 0:
            return master, slave, os.ttyname(slave).removeprefix("/dev/")
    except OSError:
        pass
    os.close(master)
    os.close(slave)
    return None


def run(args: argparse.Namespace, where: Path) -> bool:
    env = {**os.environ, "TZ": args.tz, "LC_ALL": "C"}
    os.environ["TZ"] = args.tz  # the -s/-t window is written in the readers' zone
    time.tzset()
    pyutmp = shlex.split(args.pyutmp)
    helped = subprocess.run([*pyutmp, "last", "--help"], capture_output=True, text=True,
                            env=env, check=False)
    if helped.returncode != 0:
        sys.exit(f"{args.pyutmp} last --help failed: {helped.stderr.strip()}")
    terminal = live_terminal()
    try:
        files = make_files(where, args, terminal[2] if terminal else None)
        pair_list = pairs(files, pyutmp, helped.stdout)
        jsons = json_runs(files, pyutmp, helped.stdout)
        sides = [(f"{p.name} {who}", side) for p in pair_list
                 for who, side in (("C", p.c), ("ours", p.ours))
                 if p.c.argv is not None and p.ours.argv is not None]
        peak_run = build_peak_run(where)
        measure(peak_run, sides, args.repeat, env)
        # Once: a peak is the same every time, and a 1,000,000-record document takes long.
        measure(peak_run, jsons, 1, env)
    finally:
        if terminal:
            os.close(terminal[0])
            os.close(terminal[1])
    text, ok = report(pair_list, jsons, args, pyutmp)
    print(text)
    return ok


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000,
                        help="wtmp records (default 1,000,000)")
    parser.add_argument("--btmp-records", type=int, default=200_000,
                        help="btmp records (default 200,000)")
    parser.add_argument("--db-rows", type=int, default=1_000_000,
                        help="wtmpdb rows (default 1,000,000)")
    parser.add_argument("--lastlog2-users", type=int, default=100_000,
                        help="lastlog2 users (default 100,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each reader (default 3)")
    parser.add_argument("--tz", default="UTC", help="the readers' TZ (default UTC)")
    parser.add_argument("--pyutmp", default="pyutmp",
                        help="the command to measure (default: pyutmp on PATH)")
    parser.add_argument("--dir", type=Path, help="make the files here and keep them")
    parser.add_argument("--seed", type=int, default=2038, help="of the files' randomness")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a target or the JSON bound is missed or an output "
                             "differs")
    args = parser.parse_args()
    if min(args.records, args.btmp_records, args.db_rows, args.lastlog2_users) < 1:
        parser.error("every file needs at least one record")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        ok = run(args, args.dir)
    else:
        with tempfile.TemporaryDirectory(prefix="pyutmp-bench-") as where:
            ok = run(args, Path(where))
    sys.exit(1 if args.check and not ok else 0)


if __name__ == "__main__":
    main()

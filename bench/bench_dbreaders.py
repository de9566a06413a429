"""`pyutmp last --source wtmpdb` against `wtmpdb last`, and `pyutmp lastlog --source
lastlog2` against `lastlog2`, on large databases with the upstream tables (Debian 13).

    python3 bench/bench_dbreaders.py                      # 1,000,000 sessions, 100,000 users
    python3 bench/bench_dbreaders.py --rows 100000 --users 10000 --rounds 3

Needs GNU time (/usr/bin/time).  Each reader runs --rounds times, interleaved with the
other, its output to a file; the outputs must be the same bytes (the script exits 1
otherwise).  Reported: the median wall time, the median CPU time (user + system, which
other load on the machine disturbs less) and the largest maximum RSS, Python's start-up
included.  Also the peak RSS of `--json` and `--json-lines` on the same database, which
must not grow with the rows.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

WTMP_TABLE = ("CREATE TABLE wtmp(ID INTEGER PRIMARY KEY, Type INTEGER, User TEXT NOT NULL, "
              "Login INTEGER, Logout INTEGER, TTY TEXT, RemoteHost TEXT, Service TEXT) STRICT")
TIME = "/usr/bin/time"  # GNU time (Debian package "time")
LASTLOG2_TABLE = ("CREATE TABLE Lastlog2(Name TEXT PRIMARY KEY, Time INTEGER, TTY TEXT, "
                  "RemoteHost TEXT, Service TEXT)")


def make_wtmpdb(path: Path, count: int) -> None:
    """Sessions as a busy server writes them, in the order of their logins: a boot every
    500 rows (30% of them never shut down), 5% of sessions never closed."""
    rnd = random.Random(7)
    users = ["root", "alice", "bob", "carol", "deploy", "backup-operator", "ünïcode"]
    login = 1_500_000_000 * 1_000_000
    rows = []
    for i in range(count):
        login += rnd.randrange(1, 600_000_000)
        if i % 500 == 0:
            logout = None if rnd.random() < 0.3 else login + rnd.randrange(1, 10**12)
            rows.append((1, "reboot", login, logout, "~", "6.12.48+deb13-amd64", ""))
            continue
        logout = None if rnd.random() < 0.05 else login + rnd.randrange(0, 10**11)
        host = rnd.choice(["", f"192.0.2.{rnd.randrange(256)}",
                           f"client{rnd.randrange(99)}.example.com",
                           f"2001:db8::{rnd.randrange(65536):x}"])
        tty = f"pts/{rnd.randrange(40)}" if host else f"tty{rnd.randrange(1, 7)}"
        rows.append((3, rnd.choice(users), login, logout, tty, host,
                     "sshd" if host else "login"))
    conn = sqlite3.connect(path)
    conn.execute(WTMP_TABLE)
    conn.executemany("INSERT INTO wtmp (Type, User, Login, Logout, TTY, RemoteHost, Service) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()


def make_lastlog2(path: Path, count: int) -> None:
    rnd = random.Random(8)
    now = int(time.time())
    conn = sqlite3.connect(path)
    conn.execute(LASTLOG2_TABLE)
    conn.executemany("INSERT INTO Lastlog2 VALUES (?, ?, ?, ?, ?)", [
        (f"user{i:06d}", 0 if i % 10 == 0 else now - rnd.randrange(10**8),
         f"pts/{i % 50}", f"10.{i % 256}.{i // 256 % 256}.1", "sshd") for i in range(count)])
    conn.commit()
    conn.close()


def run(argv: Sequence[str], out: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and maximum RSS (KiB) of one run, as /usr/bin/time
    measures them (a small process to fork from: a child of this one would count the
    memory of this Python in its maximum RSS)."""
    env = {**os.environ, "TZ": os.environ.get("TZ", "Europe/Berlin"), "LC_ALL": "C"}
    report = out.with_suffix(".time")
    with open(out, "wb") as sink:
        done = subprocess.run([TIME, "-o", str(report), "-f", "%e %U %S %M", *argv],
                              stdout=sink, env=env, cwd="/", check=False)
    if done.returncode != 0:
        sys.exit(f"{argv[0]} failed: exit {done.returncode}")
    wall, user, system, rss = report.read_text().split()[-4:]
    return float(wall), float(user) + float(system), int(rss)


def compare(name: str, upstream: Sequence[str], ours: Sequence[str], rounds: int,
            where: Path) -> bool:
    results: dict[str, list[tuple[float, float, int]]] = {"upstream": [], "pyutmp": []}
    for _ in range(rounds):
        results["upstream"].append(run(upstream, where / "upstream.out"))
        results["pyutmp"].append(run(ours, where / "pyutmp.out"))
    same = filecmp.cmp(where / "upstream.out", where / "pyutmp.out", shallow=False)
    size = (where / "upstream.out").stat().st_size
    print(f"{name}: output {size / 1e6:.1f} MB, {'identical' if same else 'DIFFERENT'}")
    medians = {}
    for who, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        medians[who] = (wall, cpu)
        rss = max(r[2] for r in runs) / 1024
        print(f"  {who:<9} wall {wall:6.2f} s   cpu {cpu:6.2f} s   max RSS {rss:6.1f} MiB")
    print(f"  pyutmp / upstream: wall {medians['pyutmp'][0] / medians['upstream'][0]:.2f}x, "
          f"cpu {medians['pyutmp'][1] / medians['upstream'][1]:.2f}x")
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pyutmp", default="pyutmp", help="the command (default: from PATH)")
    parser.add_argument("--make-in", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_in:
        make_wtmpdb(Path(args.make_in) / "wtmp.db", args.rows)
        make_lastlog2(Path(args.make_in) / "lastlog2.db", args.users)
        return 0
    with tempfile.TemporaryDirectory(prefix="pyutmp-bench-") as tmp:
        where = Path(tmp)
        wtmpdb, lastlog2 = where / "wtmp.db", where / "lastlog2.db"
        # In a process of its own: a child forked from a process that held the rows
        # would count that memory in its maximum RSS.
        subprocess.run([sys.executable, __file__, "--make-in", tmp, "--rows", str(args.rows),
                        "--users", str(args.users)], check=True)
        print(f"wtmpdb: {args.rows:,} rows, {wtmpdb.stat().st_size / 1e6:.0f} MB; lastlog2: "
              f"{args.users:,} rows; TZ={os.environ.get('TZ', 'Europe/Berlin')}")
        ok = compare("wtmpdb last -f DB", ["wtmpdb", "last", "-f", str(wtmpdb)],
                     [args.pyutmp, "last", "--source", "wtmpdb", "-f", str(wtmpdb)],
                     args.rounds, where)
        ok &= compare("lastlog2 -d DB", ["lastlog2", "-d", str(lastlog2)],
                      [args.pyutmp, "lastlog", "--source", "lastlog2", "-d", str(lastlog2)],
                      args.rounds, where)
        for option in ("--json", "--json-lines"):
            wall, cpu, rss = run([args.pyutmp, "last", "--source", "wtmpdb", "-f", str(wtmpdb),
                                  option], where / "pyutmp.out")
            print(f"pyutmp last --source wtmpdb {option}: wall {wall:.2f} s, cpu {cpu:.2f} s, "
                  f"max RSS {rss / 1024:.1f} MiB, "
                  f"{(where / 'pyutmp.out').stat().st_size / 1e6:.0f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

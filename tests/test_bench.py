"""bench/bench_readers.py's files are what the stock readers read: its wtmp and btmp in
glibc's record layout, its databases in the upstream schemas."""

from __future__ import annotations

import datetime
import importlib.util
import random
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import stockreaders

from pam_pyutmp import databases

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_readers.py"
NO_WTMPDB = "no `wtmpdb` on this release (Debian 13 has it)"
NO_LASTLOG2 = "no `lastlog2` on this release (Debian 13 has it)"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_readers", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def dumped(path: Path) -> list[tuple[int, int, str, str, str, str, str, str]]:
    """Each record as `utmpdump` (or glibc's reader where it is absent) prints it, unpadded."""
    done = subprocess.run(stockreaders.command(["utmpdump", str(path)]), capture_output=True,
                          text=True, env=stockreaders.READER_ENV, check=True, timeout=60)
    rows = []
    for line in done.stdout.splitlines():
        kind, pid, id_, user, tty, host, addr, when = (
            field.rstrip() for field in line.strip()[1:-1].split("] ["))
        rows.append((int(kind), int(pid), id_, user, tty, host, addr, when))
    return rows


def packed(bench: ModuleType, record: bytes) -> tuple[int, int, str, str, str, str, str, str]:
    """The fields the bench packed into ``record``, in utmpdump's words."""
    kind, pid, tty, id_, user, host, _term, _exit, _session, sec, usec, addr = (
        bench.UTMPX.unpack(record))
    stamp = datetime.datetime.fromtimestamp(sec, tz=datetime.timezone.utc)
    return (kind, pid, id_.rstrip(b"\0").decode(), user.rstrip(b"\0").decode(),
            tty.rstrip(b"\0").decode(), host.rstrip(b"\0").decode(),
            ".".join(str(b) for b in addr[:4]), f"{stamp:%Y-%m-%dT%H:%M:%S},{usec:06d}+00:00")


@pytest.mark.parametrize("kind", ["wtmp", "btmp"])
def test_records_read_back_field_for_field(bench: ModuleType, tmp_path: Path, kind: str) -> None:
    """Every record the bench writes is read back by glibc's readers with the type, pid,
    id, user, line, host, address and time it was given: the struct layout is glibc's."""
    rnd = random.Random(7)
    records = list(bench.history_records(600, "pts/999", rnd) if kind == "wtmp"
                   else bench.btmp_records(300, rnd))
    path = tmp_path / kind
    bench.write_records(path, iter(records))
    assert path.stat().st_size == len(records) * 384
    assert dumped(path) == [packed(bench, r) for r in records]
    if kind == "wtmp":  # every kind last(1) tells apart is among them
        assert {r[0] for r in dumped(path)} == {0, 1, 2, 3, 5, 6, 7, 8}


@pytest.mark.skipif(not stockreaders.HAVE_LAST, reason=stockreaders.NO_LAST)
def test_last_pairs_the_wtmp(bench: ModuleType, tmp_path: Path) -> None:
    """util-linux `last -x` reads the bench's wtmp into sessions that end every way."""
    path = tmp_path / "wtmp"
    bench.write_records(path, bench.history_records(2000, None, random.Random(3)))
    text = subprocess.run(["last", "-x", "-f", str(path)], capture_output=True, text=True,
                          env=stockreaders.READER_ENV, check=True, timeout=60).stdout
    for shown in ("- crash", "- down", "gone - no logout", "system boot", "shutdown",
                  "runlevel", "(to lvl"):
        assert shown in text, shown


def test_schemas_are_the_packages(bench: ModuleType) -> None:
    """The bench creates its databases with the statements the package writes with."""
    assert bench.WTMP_TABLE == databases.WTMP_TABLE
    assert bench.LASTLOG2_TABLE == databases.LASTLOG2_TABLE


@pytest.mark.skipif(shutil.which("wtmpdb") is None, reason=NO_WTMPDB)
def test_wtmpdb_lists_every_row(bench: ModuleType, tmp_path: Path) -> None:
    """`wtmpdb last` lists each of the bench's rows on a line of its own: sessions closed,
    crashed and open, boots shut down and running."""
    path = tmp_path / "wtmp.db"
    bench.write_wtmpdb(path, 500, random.Random(5))
    text = subprocess.run(["wtmpdb", "last", "-f", str(path)], capture_output=True, text=True,
                          env=stockreaders.READER_ENV, check=True, timeout=60).stdout
    lines = text.splitlines()
    assert len(lines) == 500 + 2 and lines[-1].startswith(f"{path} begins ")
    for shown in ("- crash", "system boot", "still logged in", "still running"):
        assert shown in text, shown


@pytest.mark.skipif(shutil.which("lastlog2") is None, reason=NO_LASTLOG2)
def test_lastlog2_lists_every_user(bench: ModuleType, tmp_path: Path) -> None:
    """`lastlog2 -d` lists each of the bench's users, some never logged in."""
    path = tmp_path / "lastlog2.db"
    bench.write_lastlog2(path, 300, random.Random(9))
    text = subprocess.run(["lastlog2", "-d", str(path)], capture_output=True, text=True,
                          env=stockreaders.READER_ENV, check=True, timeout=60).stdout
    users = text.splitlines()[1:]
    assert [line.split()[0] for line in users] == [f"user{n:06d}" for n in range(300)]
    assert any(line.endswith("**Never logged in**") for line in users)

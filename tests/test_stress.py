"""tests/stress at CI's size (--quick): storm, kills, fuzzed items and options and hostile
files through real libpam and pam_pyutmp.so, in private mount namespaces.  Every count
the script prints is the expected one."""

from __future__ import annotations

import subprocess
from pathlib import Path

STRESS = Path(__file__).with_name("stress")
HEADER = ("phase", "check", "value", "expected", "ok")
# The counts that say nothing was lost, torn, crashed or hung, at --quick's sizes
# (200 sessions, 40 with the databases, 100 kills, 500 fuzz cases).
EXPECTED = {
    ("storm", "sessions released together"): "200",
    ("storm", "failed opens"): "0",
    ("storm", "failed closes"): "0",
    ("storm", "crashed or hung processes"): "0",
    ("storm", "wtmp records (logins + logouts)"): "400 (200 + 200)",
    ("storm", "wtmp torn bytes"): "0",
    ("storm", "sessions without login or logout"): "0",
    ("storm", "duplicated records"): "0",
    ("storm", "utmp slots not DEAD_PROCESS"): "0",
    ("db", "failed opens"): "0",
    ("db", "failed closes"): "0",
    ("db", "wtmpdb rows"): "40",
    ("db", "wtmpdb rows without logout"): "0",
    ("kill", "wtmp torn bytes"): "0",
    ("kill", "wtmp records neither login nor logout"): "0",
    ("kill", "utmp torn bytes"): "0",
    ("kill", "next login: open / close status"): "0 / 0",
    ("kill", "next tty-less number (line kill/<n>)"): "0",
    ("kill", "stale slots after the next login"): "0",
    ("kill", "`who /var/run/utmp` lists after it"): "0",
    ("fuzz", "cases run"): "500",
    ("fuzz", "crashes (signal deaths)"): "0",
    ("fuzz", "hangs (over 10 s)"): "0",
    ("fuzz", "record fields with control bytes"): "0",
    ("fuzz", "forged syslog lines"): "0",
    ("fuzz", "syslog lines with control bytes"): "0",
}


def parse_table(output: str) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(value, expected, verdict) of each row, by (phase, check); the columns start where
    the header's words do."""
    lines = output.splitlines()
    header = next(n for n, line in enumerate(lines) if line.split()[:5] == list(HEADER))
    starts = [lines[header].index(word) for word in HEADER]
    rows = {}
    for line in lines[header + 1:]:
        if line.startswith("result:"):
            break
        cells = [line[start:end].strip() for start, end in
                 zip(starts, [*starts[1:], starts[-1] + 4])]
        rows[(cells[0], cells[1])] = (cells[2], cells[3], cells[4])
    return rows


def test_quick_stress_loses_nothing_and_never_crashes_or_hangs() -> None:
    """The quick run exits 0, and its table has the expected counts: no failed open or
    close, wtmp exactly a login and a logout per session and whole after kills, no stale
    slot of a killed session, the next tty-less login takes number 0, no crash, hang or
    forged line in fuzzing, and every hostile file gives a bounded session and a log line."""
    done = subprocess.run([str(STRESS), "--quick"], capture_output=True, text=True,
                          timeout=900, cwd="/")
    assert "result:" in done.stdout, f"no table (exit {done.returncode}):\n{done.stderr}"
    rows = parse_table(done.stdout)

    got = {key: rows.get(key, ("missing", "", ""))[0] for key in EXPECTED}
    assert got == EXPECTED, done.stdout
    failed = [key for key, (_, _, verdict) in rows.items() if verdict == "FAIL"]
    assert failed == [], done.stdout
    assert sum(phase == "hostile" for phase, _ in rows) == 21, done.stdout
    assert done.returncode == 0, done.stdout + done.stderr

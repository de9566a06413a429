"""The README's fleet recipe with real daemons: Debian's rsyslog (tests/e2e/rsyslog.py)
reads the sandbox's /dev/log and forwards the module's records over TCP to a second
rsyslog, the collector, which parses them with the README's rule base and writes JSON;
sessions go through real libpam (pam_host.c), and the README's query reads the result.
Both daemons and the sessions share a network namespace of their own, so the collector
listens on 127.0.0.1:514 as the recipe says, seen by no other process."""

from __future__ import annotations

import datetime
import json
import os
import re
import shlex
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pam_pyutmp import syslogger

from .rsyslog import Rsyslog, Unavailable, unpacked
from .sandbox import REPO, Sandbox, build_host

# 1000 sessions at once take about 5 s here (2 cores, kept busy).
SESSIONS = int(os.environ.get("PYUTMP_FLEET_SESSIONS", "1000"))
MAX_SLEEP_MS = 200  # how long a storm session stays open, at most
COLLECTED = "/var/log/pam_pyutmp.json"  # the collector's file, as the sandbox sees it
RULEBASE = "/etc/rsyslog.d/pam_pyutmp.rulebase"
# How many datagrams /dev/log holds before a sender waits (systemd sets 512 at boot).
DGRAM_QLEN = Path("/proc/sys/net/unix/max_dgram_qlen")
EVENTS = ("session opened", "session closed")

# Inside the sandbox, in a network namespace of its own: loopback up, the machine's queue
# length of datagram sockets (a new namespace starts with the kernel's 10), the collector,
# the machine's rsyslog, a probe record until the chain delivers, then the steps, then the
# daemons stopped once the collector has EXPECTED records of service SERVICE (or has taken
# nothing new for 3 s).
SCRIPT = """
set -eu
ip link set lo up
echo {dgram_qlen} > /proc/sys/net/unix/max_dgram_qlen
export LD_LIBRARY_PATH={libraries}
{collector} & collector=$!
{forwarder} & forwarder=$!
for _ in $(seq 300); do
    logger -u /dev/log -p authpriv.info -t pam_pyutmp "fleet probe" 2>/dev/null || true
    grep -qs "fleet probe" {collected} && break
    sleep 0.1
done
grep -qs "fleet probe" {collected} || {{ echo "the chain delivered no probe" >&2; exit 1; }}
{steps}
last=-1 same=0
for _ in $(seq 600); do
    n=$(grep -c '"service":"{service}"' {collected} || true)
    [ "$n" -ge {expected} ] && break
    if [ "$n" = "$last" ]; then same=$((same + 1)); [ $same -ge 30 ] && break; else same=0; fi
    last=$n
    sleep 0.1
done
kill $forwarder; wait $forwarder || true
kill $collector; wait $collector || true
"""

# Every core kept busy while the sessions run (bounded, so that nothing outlives the test).
BUSY = """
busy=""
for _ in $(seq $(nproc)); do timeout 300 sh -c 'while :; do :; done' & busy="$busy $!"; done
{command}
kill $busy 2>/dev/null || true
"""


@pytest.fixture(scope="module")
def rsyslog() -> Rsyslog:
    """Debian's rsyslog, unpacked; a machine that cannot fetch it fails here, saying why:
    the fleet recipe is a promise of the README, not an extra to skip quietly."""
    try:
        return unpacked()
    except Unavailable as err:
        pytest.fail(f"rsyslog for the fleet tests: {err}", pytrace=False)


def readme_block(after: str) -> str:
    """The first fenced block of the README after the first line that names ``after``."""
    text = (REPO / "README.md").read_text()
    start = text.index(after)
    found = re.compile(r"^```[^\n]*\n(.*?)^```$", re.S | re.M).search(text, start)
    assert found, f"no block after {after} in README.md"
    return found.group(1)


def configure(box: Sandbox, rsyslog: Rsyslog) -> dict[str, str]:
    """The README's two configurations and rule base in ``box``; the commands of the two
    daemons.  Only the collector's address and the rule base's path are changed."""
    directory = box.root / "rsyslog"
    directory.mkdir()
    rulebase = directory / "pam_pyutmp.rulebase"
    rulebase.write_text(readme_block(RULEBASE + "` (liblognorm"))
    collector = readme_block("/etc/rsyslog.d/60-pam_pyutmp-collector.conf")
    assert RULEBASE in collector and 'port="514"' in collector
    (directory / "collector.conf").write_text(collector.replace(RULEBASE, str(rulebase)))
    forward = readme_block("/etc/rsyslog.d/60-pam_pyutmp-forward.conf")
    assert "collector.example" in forward
    # The machine's own configuration reads /dev/log; here the forwarder loads it itself.
    (directory / "forwarder.conf").write_text(
        'module(load="imuxsock")\n' + forward.replace("collector.example", "127.0.0.1"))
    return {name: " ".join(rsyslog.command(str(directory / f"{name}.conf"),
                                           f"/run/rsyslogd-{name}.pid"))
            for name in ("collector", "forwarder")}


def through_the_fleet(box: Sandbox, rsyslog: Rsyslog, steps: str, service: str,
                      expected: int) -> list[dict[str, Any]]:
    """Run ``steps`` in ``box`` with both daemons up; the collector's records."""
    commands = configure(box, rsyslog)
    script = SCRIPT.format(libraries=rsyslog.libraries, collected=COLLECTED, steps=steps,
                           service=service, expected=expected, dgram_qlen=DGRAM_QLEN.read_text(),
                           **commands)
    done = box.run(["unshare", "-n", "bash", "-c", script], timeout=600, cwd=str(box.root))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    path = box.root / "log" / Path(COLLECTED).name
    return [json.loads(line) for line in path.read_text().splitlines()]


def lost_count(box: Sandbox, records: list[dict[str, Any]]) -> tuple[int, int]:
    """Records the module could not deliver: reported at the collector (lost=N), and
    counted but not yet reported (the sandbox's /run/pam_pyutmp/log-lost)."""
    reported = sum(int(r["lost"]) for r in records if "lost" in r)
    pending = box.root / "run" / "pam_pyutmp" / "log-lost"
    return reported, pending.stat().st_size if pending.exists() else 0


def run_query(box: Sandbox) -> list[str]:
    """The README's "who logged in where in the last hour", run in the sandbox verbatim."""
    query = readme_block("Who logged in where in")
    assert COLLECTED in query
    done = box.run(["sh", "-c", query])
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def answer_line(record: dict[str, Any]) -> str:
    """What the query prints for one opened session (a session that has no slot, with
    neither utmp nor wtmp, has no line)."""
    return "\t".join([record["time"], record["hostname"], record["user"],
                      record.get("line") or "-", record.get("host") or "-"])


def add_record(box: Sandbox, record: dict[str, Any], user: str,
               age: datetime.timedelta) -> dict[str, Any]:
    """A copy of ``record`` at the collector, of ``user``, ``age`` older."""
    when = datetime.datetime.fromisoformat(record["time"]) - age
    added = {**record, "user": user, "time": when.isoformat()}
    with (box.root / "log" / Path(COLLECTED).name).open("a") as out:
        out.write(json.dumps(added) + "\n")
    return added


def test_every_event_of_a_storm_reaches_the_collector_with_its_fields(
        sandbox: Sandbox, rsyslog: Rsyslog, tmp_path: Path) -> None:
    """SESSIONS sessions released at once on a busy machine: at the collector, one opened
    and one closed record per session, each with user, service, line and pid, or else a
    lost count that accounts for each one missing; and the README's query names each
    session opened within the hour, and not one opened two hours ago."""
    host = build_host(tmp_path / "pam_host")
    sandbox.service("warm", sandbox.module_line("noutmp nowtmp nolastlog"))
    sandbox.service("storm", sandbox.module_line())
    sessions_file = sandbox.root / "storm.json"
    storm = (f"{host} storm {SESSIONS} storm root {MAX_SLEEP_MS} warm > {sessions_file}")
    records = through_the_fleet(sandbox, rsyslog, BUSY.format(command=storm), "storm",
                                2 * SESSIONS)

    children = {s["pid"] for s in json.loads(sessions_file.read_text())["sessions"]}
    storm_records = [r for r in records if r.get("service") == "storm"]
    counts = Counter(r.get("event") for r in storm_records)
    reported, pending = lost_count(sandbox, records)
    missing = 2 * SESSIONS - counts["session opened"] - counts["session closed"]
    # The parent's session (warm, with neither utmp nor wtmp) logs its open, and no close.
    warm = sum(r.get("service") == "warm" and r.get("event") in EVENTS for r in records)
    print(f"\nfleet: {SESSIONS} sessions (datagram queue {DGRAM_QLEN.read_text().strip()}), "
          f"at the collector {counts['session opened']} opened and {counts['session closed']} "
          f"closed, {missing} missing; lost: {reported} reported (lost=N), {pending} pending "
          f"in /run/pam_pyutmp/log-lost")

    assert len(children) == SESSIONS
    # Nothing lost silently: each record missing at the collector is counted, once.
    assert missing + 1 - warm == reported + pending
    for event in EVENTS:
        mine = [r for r in storm_records if r["event"] == event]
        assert all(r["user"] == "root" and r["line"] and r["pid"] for r in mine), mine[:3]
        assert len({int(r["pid"]) for r in mine}) == len(mine)
        assert {int(r["pid"]) for r in mine} <= children

    opened = [r for r in records if r.get("event") == "session opened"]
    earlier = add_record(sandbox, opened[0], "earlier", datetime.timedelta(minutes=50))
    add_record(sandbox, opened[0], "stale", datetime.timedelta(hours=2))
    answer = run_query(sandbox)
    assert sorted(answer) == sorted(map(answer_line, [*opened, earlier]))
    assert sum("\troot\tstorm/" in line for line in answer) == counts["session opened"]


def test_values_arrive_as_the_module_wrote_them(sandbox: Sandbox, rsyslog: Rsyslog) -> None:
    """A remote host with a control character, a backslash, quotes, a space and "=", and
    an empty tty: the collector's fields hold the very values the journal's PYUTMP_ fields
    hold (control characters as \\xNN), none cut short and none taken for another field."""
    sandbox.service("svc", sandbox.module_line())
    rhosts = ["evil\x1b[2J\\host", 'a "b" c=d\\', "plain"]
    steps = "\n".join(f"pamtester -I {shlex.quote('rhost=' + rhost)} svc root open_session "
                      "close_session" for rhost in rhosts)
    records = through_the_fleet(sandbox, rsyslog, steps, "svc", 2 * len(rhosts))

    events = [r for r in records if r.get("service") == "svc"]
    assert [(r["event"], r["host"]) for r in events] == [
        (event, syslogger.escape(rhost)) for rhost in rhosts for event in EVENTS]
    assert all(r["tty"] == "" and r["user"] == "root" for r in events)
    assert all(r["line"] == "svc/0" and r["uid"] == "0" for r in events if "uid" in r)

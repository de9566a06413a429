"""The `pyutmp` command against the stock readers: `last -f`, `who FILE` and shadow's
`lastlog`, on files the stock `utmpdump -r` writes (not our own writer)."""

from __future__ import annotations

import datetime
import json
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stockreaders

import pam_pyutmp
from pam_pyutmp.records import Record
from pam_pyutmp.system import USER_PROCESS, UTMPX_SIZE

ENV = {**os.environ, "TZ": "UTC", "LC_ALL": "C"}
USEC = 1_000_000
RECORDS = 100_000
FAR_PID = 5_000_000  # above any pid_max (2**22): no such process, as last(1) checks


def run(*command: str, env: dict[str, str] | None = None, **kwargs: object
        ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(command), capture_output=True, text=True, env=env or ENV,
                          cwd="/", check=False, timeout=300, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{command}: {done.stderr}"
    return done  # type: ignore[no-any-return]


def dump_line(kind: int, pid: int, id_: str, user: str, line: str, host: str, sec: int,
              usec: int = 0, addr: str = "0.0.0.0") -> str:
    """One record in `utmpdump`'s text format, which `utmpdump -r` turns into a record."""
    stamp = datetime.datetime.fromtimestamp(sec, tz=datetime.timezone.utc)
    return (f"[{kind}] [{pid:05d}] [{id_:<4.4}] [{user:<32.32}] [{line:<32.32}] "
            f"[{host:<256.256}] [{addr:<15}] [{stamp:%Y-%m-%dT%H:%M:%S},{usec:06d}+00:00]\n")


def history_text(count: int, live_line: str, seed: int = 2038) -> str:
    """``count`` records of every kind last(1) tells apart: logins and logouts on shared
    lines, boots, shutdowns, runlevels, LOGIN and INIT records, old writers' untyped
    records, ghosts, clock changes; and after this boot, logins still on ``live_line``
    (a terminal root owns) and others gone."""
    rnd = random.Random(seed)
    now = int(time.time())
    booted = int(time.time() - time.clock_gettime(time.CLOCK_BOOTTIME))
    users = ["root", "nosuchuser1", "daemon", "nosuchuser2"]
    lines = [f"pts/{i}" for i in range(30)] + [f"tty{i}" for i in range(1, 5)] + [
        "ftp1234", "uucp7", "su/0", ":0"]
    t = booted - 200 * 86400
    step = (booted - 10 - t) // count
    out = []
    for i in range(count - 20):
        # A step's mean is `step`, and none passes the boot: a record of the future would
        # be "still running" in the second one reader runs and not in the next one's.
        t = min(t + rnd.randint(0, 2 * step), booted - 10)
        line = rnd.choice(lines)
        pid = FAR_PID + i
        r = rnd.random()
        if r < 0.45:
            out.append(dump_line(7, pid, line[-4:], rnd.choice(users), line,
                                 f"h{rnd.randint(0, 99)}.example", t, rnd.randint(0, 999999),
                                 "192.0.2.1"))
        elif r < 0.88:
            out.append(dump_line(8, pid, line[-4:], "", line, "", t))
        elif r < 0.90:
            out.append(dump_line(2, 0, "~~", "reboot", "~", "6.1.0-test", t))
        elif r < 0.91:
            out.append(dump_line(1, ord(rnd.choice("06")), "~~", "shutdown", "~~", "", t))
        elif r < 0.92:
            out.append(dump_line(1, ord(rnd.choice("0356")), "~~", "runlevel", "~", "", t))
        elif r < 0.94:
            out.append(dump_line(6, pid, line[-4:], "LOGIN", line, "", t))
        elif r < 0.95:
            out.append(dump_line(5, pid, line[-4:], "", line, "", t))
        elif r < 0.96:  # an old writer's record without a type
            out.append(dump_line(0, pid, line[-4:], rnd.choice(users), line, "old.example", t))
        elif r < 0.97:  # a ghost: USER_PROCESS without a user
            out.append(dump_line(7, pid, line[-4:], "", line, "ghost", t))
        elif r < 0.98:  # a logout that names its user
            out.append(dump_line(8, pid, line[-4:], "daemon", line, "", t))
        else:
            out.append(dump_line(3, 0, "", "date", rnd.choice("|{"), "", t))
    t = booted + 1
    out.append(dump_line(2, 0, "~~", "reboot", "~", "6.1.0-test", t))
    span = max(1, (now - 5 - t) // 20)
    for j in range(19):
        t += rnd.randint(0, span)
        if j % 3 == 0:
            out.append(dump_line(7, FAR_PID + count + j, "x", "root", live_line,
                                 "live.example", t))
        else:
            out.append(dump_line(7, FAR_PID + count + j, "y", rnd.choice(users),
                                 f"pts/{100 + j}", "gone.example", t))
    return "".join(out)


@pytest.fixture(scope="module")
def big_wtmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 100,000-record wtmp written by `utmpdump -r` (or glibc's updwtmpx where the
    release has no utmpdump); a root-owned terminal stays open
    meanwhile, so that last(1) tells "still logged in" from "gone"."""
    master, slave = os.openpty()
    try:
        text = history_text(RECORDS, os.ttyname(slave).removeprefix("/dev/"))
        path = tmp_path_factory.mktemp("big") / "wtmp"
        path.write_bytes(stockreaders.undump(text.encode()))
        yield path
    finally:
        os.close(master)
        os.close(slave)


LAST_LINE = re.compile(
    r"^(?P<user>\S+)\s+(?P<line>system boot|\S+)\s+(?P<host>\S*)\s+"
    r"(?P<login>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d)\s+"
    r"(?:- (?P<end>\d{4}-\d\d-\d\dT\S+)\s+\(\S+\)|- (?P<down>crash|down)\s+\(\S+\)"
    r"|(?P<other>still running|still logged in|gone - no logout))$")


def last_pairs(text: str) -> list[tuple[str, ...]]:
    """(user, line, host, login, status, end) of each `last -w --time-format iso` line."""
    pairs = []
    for line in text.splitlines():
        if not line.strip() or " begins " in line:
            continue
        found = LAST_LINE.match(line)
        assert found, line
        status = found["down"] or found["other"] or "closed"
        pairs.append((found["user"], found["line"], found["host"], found["login"], status,
                      found["end"] or ""))
    return pairs


@pytest.mark.skipif(not stockreaders.HAVE_LAST, reason=stockreaders.NO_LAST)
def test_last_json_pairs_match_last_on_100000_records(big_wtmp: Path) -> None:
    """`pyutmp last --json` on a 100,000-record wtmp lists the same sessions as `last -f`,
    in the same order, with the same logins, ends and statuses, every kind among them."""
    expected = last_pairs(run("last", "-w", "--time-format", "iso", "-f", str(big_wtmp)).stdout)
    data = json.loads(run("pyutmp", "last", "--json", "-f", str(big_wtmp)).stdout)
    got = [(s["user"], s["line"], s["host"], s["login"],
            s["status"], s["end"] if s["status"] == "closed" else "")
           for s in data["sessions"]]
    assert got == expected
    statuses = Counter(status for *_, status, _end in got)
    assert set(statuses) == {"closed", "crash", "down", "gone - no logout",
                             "still logged in", "still running"}, statuses
    first = Record.decode(big_wtmp.read_bytes()[:UTMPX_SIZE])
    assert data["begins"] == datetime.datetime.fromtimestamp(
        first.tv_sec, tz=datetime.timezone.utc).isoformat()


def _day(days_ago: int, form: str = "%Y-%m-%d") -> str:
    """A local date ``days_ago`` days back: inside big_wtmp's 200 days."""
    return time.strftime(form, time.localtime(time.time() - days_ago * 86400))


# -p's time: the second a login of the file's middle began (a random minute may fall
# between a crash and the next login, and list nothing).
LOGIN = "LOGIN"


def a_login(path: Path) -> str:
    """The second a root login from the middle of the wtmp at ``path`` began, as
    "YYYY-MM-DD hh:mm:ss" in the tests' zone (UTC)."""
    data = path.read_bytes()
    middle = len(data) // UTMPX_SIZE // 2
    for index in range(middle, len(data) // UTMPX_SIZE):
        record = Record.decode(data[index * UTMPX_SIZE:(index + 1) * UTMPX_SIZE])
        if record.type == USER_PROCESS and record.user == "root" and record.line.startswith("pts/"):
            return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.tv_sec))
    raise AssertionError("no root login in the second half of the file")


# last(1)'s options, alone and as users combine them; times fall inside the file's span.
LAST_OPTIONS = {
    "default": lambda: [],
    "iso": lambda: ["-w", "--time-format", "iso"],
    "full": lambda: ["-F"],
    "names-and-limit": lambda: ["-n", "40", "root", "pts/3", "1"],
    "system": lambda: ["-x"],
    "ip": lambda: ["-i"],
    "nohostname": lambda: ["-R"],
    "hostlast": lambda: ["-a"],
    "dns": lambda: ["-d", "-n", "60"],
    "fullnames-system": lambda: ["-w", "-x"],
    "fulltimes-system": lambda: ["-F", "-x"],
    "iso-ip": lambda: ["--time-format", "iso", "-i"],
    "notime-system": lambda: ["--time-format", "notime", "-x"],
    "hostlast-ip-system": lambda: ["-a", "-i", "-x"],
    "since-until": lambda: ["-s", _day(120), "-t", _day(60, "%Y-%m-%d %H:%M")],
    "since-until-system": lambda: ["-x", "--since", _day(150, "%Y-%m-%d %H:%M:%S"),
                                   "--until", _day(149)],
    "present": lambda: ["-p", LOGIN],
    "present-names": lambda: ["-p", LOGIN, "root", "daemon"],
    "relative-since": lambda: ["-s", "-30days", "-x"],
    "digits-limit-names": lambda: ["-25", "daemon", "tty2"],
}


@pytest.mark.parametrize("options", LAST_OPTIONS.values(), ids=LAST_OPTIONS.keys())
@pytest.mark.skipif(not stockreaders.HAVE_LAST, reason=stockreaders.NO_LAST)
def test_last_text_is_lasts_to_the_byte(big_wtmp: Path, options: Any) -> None:
    """`pyutmp last` prints what `last` prints, byte for byte, for every option of
    util-linux last and the combinations users reach for: columns, durations, boots,
    shutdowns and run levels, the time windows, the "begins" line."""
    arguments = [a_login(big_wtmp) if arg == LOGIN else arg for arg in options()]
    expected = run("last", *arguments, "-f", str(big_wtmp)).stdout
    # Sessions listed, then the blank line and "wtmp begins" (with -p: the login at least).
    assert len(expected.splitlines()) > (2 if LOGIN in options() else 3), expected
    assert run("pyutmp", "last", *arguments, "-f", str(big_wtmp)).stdout == expected


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("options", [[], ["-F", "-x"], ["--time-format", "iso", "-x"],
                                     ["-s", "-100days", "-t", "-40days"]],
                         ids=["default", "full-system", "iso-system", "window"])
@pytest.mark.skipif(not stockreaders.HAVE_LAST, reason=stockreaders.NO_LAST)
def test_last_text_is_lasts_across_daylight_saving(big_wtmp: Path, zone: str,
                                                   options: list[str]) -> None:
    """In a zone with daylight saving time, whose changes the file's 200 days cross,
    every local time and UTC offset is last's (the engine reuses one minute's
    broken-down time for each of its seconds)."""
    env = {**ENV, "TZ": zone}
    expected = run("last", *options, "-f", str(big_wtmp), env=env).stdout
    offsets = set(re.findall(r"[+-]\d\d:\d\d(?= )", expected))
    if "iso" in options:
        assert len(offsets) == 2, offsets  # both sides of the change
    assert run("pyutmp", "last", *options, "-f", str(big_wtmp), env=env).stdout == expected


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
@pytest.mark.skipif(not stockreaders.HAVE_LAST, reason=stockreaders.NO_LAST)
def test_last_text_shows_odd_bytes_as_last_does(odd_wtmp: Path, locale: str) -> None:
    """Control characters print as "*" and the character 64 on ("*A"), bytes that are
    no printable character of the locale in octal, UTF-8 as it is where the locale is
    UTF-8: as last's fputs_careful does, counted in the columns before escaping."""
    env = {**ENV, "LC_ALL": locale}
    for options in ([], ["-w"], ["-a", "-w"]):
        expected = run("last", *options, "-f", str(odd_wtmp), env=env).stdout
        assert run("pyutmp", "last", *options, "-f", str(odd_wtmp), env=env).stdout == expected


ODD_USER = "r\x01\udcffo\u00e9t"  # a control character, a byte that is not UTF-8, é
ODD_HOST = 'h\x1b\udcc3x"\\\t'


@pytest.fixture(scope="module")
def odd_wtmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session whose user and host hold control characters, quotes and bytes that
    are not UTF-8."""
    now = int(time.time())
    text = (dump_line(7, FAR_PID, "ts/1", ODD_USER, "pts/1", ODD_HOST, now - 5000)
            + dump_line(8, FAR_PID, "ts/1", "", "pts/1", "", now - 4000))
    path = tmp_path_factory.mktemp("odd") / "wtmp"
    path.write_bytes(stockreaders.undump(text.encode("utf-8", "surrogateescape")))
    return path


def test_json_strings_hold_any_bytes(odd_wtmp: Path) -> None:
    """JSON is valid whatever the fields hold: UTF-8 as it is, control characters
    escaped, a byte that is not UTF-8 as the surrogate Python's surrogateescape gives
    it, so that the field's bytes come back."""
    done = subprocess.run(["pyutmp", "last", "--json", "-f", str(odd_wtmp)],
                          capture_output=True, env=ENV, check=True, cwd="/")
    done.stdout.decode("utf-8")  # strict: the document is UTF-8
    assert "é".encode() in done.stdout and b"\\u0001" in done.stdout
    (session,) = json.loads(done.stdout)["sessions"]
    assert session["user"] == ODD_USER and session["host"] == ODD_HOST
    assert session["user"].encode("utf-8", "surrogateescape") == b"r\x01\xffo\xc3\xa9t"


def test_progress_only_on_a_terminal_or_when_asked(big_wtmp: Path) -> None:
    """A scan reports its progress on stderr with --progress, and on its own when stderr
    is a terminal (the file is over 32 MiB); otherwise stderr stays empty."""
    quiet = run("pyutmp", "last", "-n", "1", "-f", str(big_wtmp))
    assert quiet.stderr == ""
    asked = run("pyutmp", "last", "--progress", "-f", str(big_wtmp))
    steps = asked.stderr.splitlines()
    assert len(steps) >= 5 and all(s.startswith("pyutmp: reading ") for s in steps), steps
    assert steps[-1].endswith("(38.4 MB of 38.4 MB)") and " 100% " in steps[-1]
    master, slave = os.openpty()
    try:
        done = subprocess.run(["pyutmp", "last", "-f", str(big_wtmp)], stdout=subprocess.DEVNULL,
                              stderr=slave, env=ENV, check=False, timeout=300)
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal has no writer left
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert done.returncode == 0
    assert b"\rpyutmp: reading " in shown and b"100%" in shown


def test_who_is_whos_output(tmp_path: Path) -> None:
    """`pyutmp who FILE` lists the live sessions as `who FILE` does, in the C locale and in
    another, and its JSON names the same users, lines and hosts."""
    utmp = tmp_path / "utmp"
    utmp.touch()
    ended = pam_pyutmp.put_utmp("alice", "/dev/pts/4", "192.0.2.44", utmp_path=utmp, wtmp=False)
    pam_pyutmp.put_utmp("bob", "tty5", "", utmp_path=utmp, wtmp=False)
    pam_pyutmp.put_utmp("carol", "", "web.example", service="webterm", utmp_path=utmp,
                        wtmp=False)
    pam_pyutmp.unput_utmp(ended)
    pam_pyutmp.put_utmp("dave", "pts/9", "client.example", utmp_path=utmp, wtmp=False)
    for locale in ("C", "C.UTF-8"):
        env = {**ENV, "LC_ALL": locale}
        expected = run("who", str(utmp), env=env).stdout
        assert len(expected.splitlines()) == 3
        assert run("pyutmp", "who", "-f", str(utmp), env=env).stdout == expected
    listed = json.loads(run("pyutmp", "who", "--json", "-f", str(utmp)).stdout)["sessions"]
    assert [(s["user"], s["line"], s["host"]) for s in listed] == [
        ("bob", "tty5", ""), ("carol", "webterm/0", "web.example"),
        ("dave", "pts/9", "client.example")]


@pytest.mark.skipif(not stockreaders.HAVE_LASTLOG, reason=stockreaders.NO_LASTLOG)
def test_lastlog_is_shadows_lastlog(tmp_path: Path) -> None:
    """`pyutmp lastlog -u USER` prints what shadow's `lastlog -u USER` prints for the same
    lastlog file, for a user who logged in and for one who never did."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "var" / "log").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                         "daemon:x:1:1:daemon:/:/bin/false\n")
    lastlog = root / "var" / "log" / "lastlog"
    pam_pyutmp.put_lastlog_entry("sshd", "root", "pts/3", "192.0.2.9", lastlog_path=lastlog,
                                 uid=0)
    for user in ("root", "daemon"):
        expected = run("lastlog", "-R", str(root), "-u", user).stdout
        assert run("pyutmp", "lastlog", "-u", user, "-f", str(lastlog)).stdout == expected


def _standin(*argv: str) -> subprocess.Popen[str]:
    standin = Path(__file__).with_name("utmps_standin.py")
    process = subprocess.Popen([sys.executable, str(standin), *argv], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None and process.stdout.readline() == "\n"  # ready
    return process


def test_utmps_source_reads_the_daemons(shared_dir: Path) -> None:
    """With the utmps daemons (the project's stand-ins): `pyutmp who --source utmps` lists
    the live sessions utmpd holds (not one whose process is gone, as `who` does), and
    `pyutmp last --source utmps` pairs the records of the wtmp file wtmpd keeps, in the
    daemons' own record layout."""
    run_dir, log_dir = shared_dir / "run-utmps", shared_dir / "log"
    run_dir.mkdir()
    log_dir.mkdir()
    utmpd, wtmpd = str(run_dir / ".utmpd-socket"), str(run_dir / ".wtmpd-socket")
    daemons = [_standin("utmpd", utmpd, str(run_dir)), _standin("wtmpd", wtmpd, str(log_dir))]
    try:
        api = {"backend": "utmps", "utmpd_socket": utmpd, "wtmpd_socket": wtmpd}
        ended = pam_pyutmp.put_utmp("alice", "pts/1", "a.example", **api)
        pam_pyutmp.put_utmp("bob", "pts/2", "b.example", **api)
        # Killed: never logged out; who lists no session whose process is gone.
        gone = os.waitpid(os.spawnv(os.P_NOWAIT, "/bin/true", ["true"]), 0)[0]
        pam_pyutmp.put_utmp("carol", "pts/3", "c.example", pid=gone, **api)
        pam_pyutmp.unput_utmp(ended)
        # A logout stamped with the second of the listing is "still running" to last(1).
        logged_out = int(time.time())
        while time.time() < logged_out + 1.2:
            time.sleep(0.02)
        listed = json.loads(run("pyutmp", "who", "--json", "--source", "utmps",
                                "--utmpd-socket", utmpd).stdout)
        sessions = json.loads(run("pyutmp", "last", "--json", "--source", "utmps", "-f",
                                  str(log_dir / "wtmp")).stdout)["sessions"]
    finally:
        for daemon in daemons:
            daemon.terminate()
            daemon.wait(30)
    assert [(s["user"], s["line"], s["host"]) for s in listed["sessions"]] == [
        ("bob", "pts/2", "b.example")]
    assert [(s["user"], s["line"], s["status"]) for s in sessions] == [
        ("carol", "pts/3", "gone - no logout"),
        ("bob", "pts/2", "gone - no logout"),  # no such user: last(1) calls that gone
        ("alice", "pts/1", "closed")]
    assert sessions[2]["end_usec"] >= sessions[2]["login_usec"]


def test_errors_are_one_line_and_exit_1(tmp_path: Path) -> None:
    """A missing file or database is one "pyutmp: ..." line on stderr and exit status 1."""
    for command in (["last", "-f", str(tmp_path / "none")],
                    ["last", "--source", "wtmpdb", "-f", str(tmp_path / "none.db")],
                    ["lastlog", "--source", "lastlog2", "-f", str(tmp_path / "none.db")]):
        done = subprocess.run(["pyutmp", *command], capture_output=True, text=True, env=ENV,
                              check=False)
        assert done.returncode == 1, command
        assert done.stderr.startswith("pyutmp: ") and len(done.stderr.splitlines()) == 1
        assert str(tmp_path / "none") in done.stderr


def test_python_m_pam_pyutmp_is_the_command() -> None:
    """`python3 -m pam_pyutmp` runs the same command as the `pyutmp` script."""
    assert run("/usr/bin/python3", "-m", "pam_pyutmp", "--help").stdout == run(
        "pyutmp", "--help").stdout


def test_man_page_renders_cleanly_and_names_every_command_and_option() -> None:
    """man/pyutmp.1 renders without a groff warning and documents every subcommand and
    every option the command's parser accepts."""
    import argparse
    import shutil

    from pam_pyutmp import cli

    page = Path(__file__).resolve().parent.parent / "man" / "pyutmp.1"
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed")
    groff = subprocess.run(["groff", "-man", "-ww", "-z", str(page)], capture_output=True,
                           text=True, check=False)
    assert groff.returncode == 0 and groff.stderr == "", groff.stderr
    text = page.read_text().replace("\\-", "-")
    parser = cli._parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = []
    for name, sub in commands.choices.items():
        if f".B {name}\n" not in text:
            missing.append(name)
        for action in sub._actions:
            missing += [option for option in action.option_strings
                        if option not in ("-h", "--help") and option not in text]
    assert missing == []


@pytest.fixture(scope="module")
def btmp_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A btmp with failed attempts as login, sshd and the module write them: long and short
    names and hosts, ttys and tty-less lines, an "(unknown)" name, spread over days so the
    dates differ."""
    path = tmp_path_factory.mktemp("btmp") / "btmp"
    base = 1_700_000_000
    lines = [dump_line(6, 4000 + n, line[-4:], user, line, host, base + n * 40_000)
             for n, (user, line, host) in enumerate([
                 ("root", "pts/3", "192.0.2.7"), ("(unknown)", "ssh:notty", "198.51.100.20"),
                 ("alice", "tty1", ""), ("a-very-long-user-name-x", "webterm", "host.example"),
                 ("bob", "pts/12", "a-very-long-host-name-in-the-example-domain.example"),
                 ("root", "ftp123", "192.0.2.8"), ("carol", "su", ""),
             ])]
    path.write_bytes(stockreaders.undump("".join(lines).encode()))
    return path


@pytest.mark.parametrize("options", [[], ["-w", "--time-format", "iso"], ["-F"],
                                     ["-n", "3", "root", "tty1"], ["--time-format", "notime"],
                                     ["-i"], ["-a"], ["-R"], ["-x"], ["-2", "-a", "-i", "-w"],
                                     ["-s", "2023-11-16", "-t", "2023-11-17 06:00"],
                                     ["-p", "2023-11-17 00:00:00"]],
                         ids=["default", "iso", "full", "names-and-limit", "notime", "ip",
                              "hostlast", "nohostname", "system", "digits-hostlast-ip",
                              "since-until", "present"])
@pytest.mark.skipif(not stockreaders.HAVE_LASTB, reason=stockreaders.NO_LASTB)
def test_lastb_text_is_lastbs_to_the_byte(btmp_file: Path, options: list[str]) -> None:
    """`pyutmp lastb` prints what util-linux `lastb` prints, byte for byte."""
    expected = run("lastb", *options, "-f", str(btmp_file)).stdout
    assert run("pyutmp", "lastb", *options, "-f", str(btmp_file)).stdout == expected


def test_lastb_json_lists_every_attempt_newest_first(btmp_file: Path) -> None:
    """The reader on every release (Debian 13 has no lastb): each record one attempt."""
    data = json.loads(run("pyutmp", "lastb", "--json", "-f", str(btmp_file)).stdout)
    assert [(s["user"], s["line"]) for s in data["sessions"]] == [
        ("carol", "su"), ("root", "ftp"), ("bob", "pts/12"), ("a-very-long-user-name-x", "webterm"),
        ("alice", "tty1"), ("(unknown)", "ssh:notty"), ("root", "pts/3")]
    assert all(s["login"] == s["end"] for s in data["sessions"])


def _json_pairs(sessions: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [(s["user"], s["line"], s["host"], s["login"], s["status"],
             s["end"] if s["status"] == "closed" else "") for s in sessions]


def test_json_and_json_lines_agree_with_the_text(big_wtmp: Path) -> None:
    """On every release: --json and --json-lines list the same sessions, and the same
    pairs as the text lines (the streamed JSON and the text come from one engine);
    --json-lines is one session a line, nothing else."""
    document = json.loads(run("pyutmp", "last", "--json", "-f", str(big_wtmp)).stdout)
    assert set(document) == {"source", "file", "begins", "sessions"}
    lines = run("pyutmp", "last", "--json-lines", "-f", str(big_wtmp)).stdout.splitlines()
    assert [json.loads(line) for line in lines] == document["sessions"]
    text = run("pyutmp", "last", "-w", "--time-format", "iso", "-f", str(big_wtmp)).stdout
    assert _json_pairs(document["sessions"]) == last_pairs(text)
    assert len(lines) > 40_000
    for options in (["-n", "7", "root"], ["-x", "-s", _day(50)]):
        limited = json.loads(run("pyutmp", "last", "--json", *options, "-f",
                                 str(big_wtmp)).stdout)["sessions"]
        text = run("pyutmp", "last", "-w", "--time-format", "iso", *options, "-f",
                   str(big_wtmp)).stdout
        if "-x" in options:  # shutdowns and run levels are JSON's "type", not pairs
            assert {s["type"] for s in limited} >= {"session", "boot", "shutdown", "runlevel"}
            assert len(limited) == len(text.splitlines()) - 2
        else:
            assert _json_pairs(limited) == last_pairs(text)


def test_json_states_what_is_true(tmp_path: Path) -> None:
    """A session with a logout record is closed at that logout even in the second of
    the listing (where last's text says "still running"); a boot with no shutdown
    after it is still running, one with a shutdown is closed at the shutdown."""
    now = int(time.time())
    text = (dump_line(2, 0, "~~", "reboot", "~", "6.1.0-test", now - 900)
            + dump_line(1, ord("0"), "~~", "shutdown", "~~", "", now - 800)
            + dump_line(2, 0, "~~", "reboot", "~", "6.1.0-test", now - 700)
            + dump_line(7, FAR_PID, "ts/1", "root", "pts/1", "a.example", now - 600)
            + dump_line(8, FAR_PID, "ts/1", "", "pts/1", "", now + 3600))
    wtmp = tmp_path / "wtmp"
    wtmp.write_bytes(stockreaders.undump(text.encode()))
    sessions = json.loads(run("pyutmp", "last", "--json", "-f", str(wtmp)).stdout)["sessions"]
    assert [(s["type"], s["status"], s["end_usec"]) for s in sessions] == [
        ("session", "closed", (now + 3600) * USEC),
        ("boot", "still running", None),
        ("boot", "closed", (now - 800) * USEC)]
    assert sessions[0]["duration_sec"] == 4200


def test_json_memory_does_not_grow_with_the_file(big_wtmp: Path, tmp_path: Path) -> None:
    """--json and --json-lines over 1,000,000 records (big_wtmp ten times over, 384 MB)
    stream: the command's peak resident memory stays under 64 MiB."""
    million = tmp_path / "wtmp"
    data = big_wtmp.read_bytes()
    with million.open("wb") as out:
        for _ in range(10):
            out.write(data)
    del data
    # The peak is measured by a small parent: Linux carries a process's peak across
    # exec, so a child forked from this (large) test process would start at its size.
    measure = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "stdout=subprocess.DEVNULL); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    try:
        for output in ("--json", "--json-lines"):
            peak_kib = int(run(sys.executable, "-c", measure, "pyutmp", "last", output, "-f",
                               str(million)).stdout)
            assert peak_kib < 64 * 1024, (output, peak_kib)
    finally:
        million.unlink()


def test_time_arguments_are_util_linux_parse_timestamp(monkeypatch: pytest.MonkeyPatch) -> None:
    """-s, -t and -p read what util-linux's parse_timestamp reads (its own test cases,
    in UTC, at its reference time), and refuse what it refuses."""
    from pam_pyutmp import lastreader

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        reference = 1674180427
        for text, expected in [("2012-09-22 16:34:22", 1348331662), ("@1348331662", 1348331662),
                               ("2012-09-22 16:34", 1348331640), ("2012-09-22", 1348272000),
                               ("16:34:22", 1674232462), ("16:34", 1674232440),
                               ("now", 1674180427), ("yesterday", 1674086400),
                               ("today", 1674172800), ("tomorrow", 1674259200),
                               ("+5min", 1674180727), ("-5days", 1673748427),
                               ("20120922163422", 1348331662), ("2 hours ago", 1674173227)]:
            assert lastreader.parse_time(text, reference) == expected, text
        for text in ("soon", "2012-13-45", "-5 fortnights"):
            with pytest.raises(ValueError, match="invalid time value"):
                lastreader.parse_time(text, reference)
    finally:
        monkeypatch.undo()
        time.tzset()
    done = subprocess.run(["pyutmp", "last", "-s", "soon", "-f", "/dev/null"],
                          capture_output=True, text=True, env=ENV, check=False)
    assert done.returncode == 1 and done.stderr == 'pyutmp: invalid time value "soon"\n'

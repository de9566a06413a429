"""`pyutmp doctor --root DIR` on a healthy system seeded in a directory, and on copies of it
with one thing broken each: it must name what is broken, and nothing else."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pam_pyutmp

UTMP_GID = 43  # Debian's utmp group; the seeded /etc/group says so
NATIVE = "/usr/local/lib/security/pam_pyutmp.so"
INCLUDE = f"session optional {NATIVE} skip_if=sshd,login wtmpdb lastlog2 {{extra}}\n"
PYTHON_VERSION = "{}.{}".format(*sys.version_info[:2])


def seed(root: Path, extra_options: str = "") -> None:
    """A healthy system: pam.d with the include file and su using it, pam_pyutmp.so (a
    stand-in naming this Python's libpython), utmp, wtmp and lastlog 0664 root:utmp, a
    lastlog cap, and wtmpdb and lastlog2 as the module writes them."""
    pamd = root / "etc" / "pam.d"
    pamd.mkdir(parents=True)
    (pamd / "pyutmp").write_text(INCLUDE.format(extra=extra_options))
    (pamd / "su").write_text("auth sufficient pam_rootok.so\nsession required pam_unix.so\n"
                             "session include pyutmp\n")
    (pamd / "other").write_text("session required pam_deny.so\n")
    (root / "etc" / "group").write_text(f"root:x:0:\nutmp:x:{UTMP_GID}:\n")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "login.defs").write_text("LASTLOG_UID_MAX 60000\n")
    native = root / NATIVE.lstrip("/")
    native.parent.mkdir(parents=True)
    native.write_bytes(f"\x7fELF libpython{PYTHON_VERSION}.so.1.0\0".encode())
    for path in ("var/run/utmp", "var/log/wtmp", "var/log/lastlog"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).touch()
        os.chown(root / path, 0, UTMP_GID)
        (root / path).chmod(0o664)
    row = pam_pyutmp.put_wtmpdb("root", "pts/1", "", path=root / "var/lib/wtmpdb/wtmp.db")
    pam_pyutmp.unput_wtmpdb(row, path=root / "var/lib/wtmpdb/wtmp.db")
    pam_pyutmp.put_lastlog2_entry("su", "root", "pts/1", "",
                                  path=root / "var/lib/lastlog/lastlog2.db")


def doctor(root: Path) -> tuple[int, list[dict[str, Any]]]:
    done = subprocess.run(["pyutmp", "doctor", "--json", "--root", str(root)],
                          capture_output=True, text=True, cwd="/", check=False, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)["findings"]


def failures(findings: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(f["check"], f["message"]) for f in findings if f["status"] == "fail"]


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "root"
    seed(path)
    yield path


def test_a_healthy_system_passes_every_check(root: Path) -> None:
    """On the seeded healthy system every check passes, the exit status is 0, and the
    report names the services that run the module and the interpreter that imports it."""
    status, findings = doctor(root)
    assert failures(findings) == []
    assert status == 0
    checks = {f["check"] for f in findings}
    assert {"pam.d", "loader", "module", "file", "lastlog cap", "database"} <= checks
    messages = " ".join(f["message"] for f in findings)
    assert "services that run pam_pyutmp: su" in messages
    assert "imports" in messages and "healthy" in messages
    text = subprocess.run(["pyutmp", "doctor", "--root", str(root)], capture_output=True,
                          text=True, check=False)
    assert text.returncode == 0 and "FAIL" not in text.stdout and text.stdout.startswith("ok")


def _no_loader(root: Path) -> None:
    (root / NATIVE.lstrip("/")).unlink()


def _pam_python_loader(root: Path) -> None:
    (root / "etc" / "pam.d" / "pyutmp").write_text(
        "session optional pam_python.so /usr/local/lib/security/pam_pyutmp.py\n")


def _world_writable_wtmp(root: Path) -> None:
    (root / "var" / "log" / "wtmp").chmod(0o666)


def _unreadable_lastlog(root: Path) -> None:
    (root / "var" / "log" / "lastlog").chmod(0o600)


def _readable_btmp(root: Path) -> None:
    (root / "var" / "log" / "btmp").write_bytes(b"")
    (root / "var" / "log" / "btmp").chmod(0o644)


def _unreachable_socket(root: Path) -> None:
    sockets = root / "run" / "utmps"
    sockets.mkdir(parents=True)
    (root / "etc" / "pam.d" / "pyutmp").write_text(INCLUDE.format(
        extra="backend=utmps utmpd_socket=/run/utmps/.utmpd-socket "
              "wtmpd_socket=/run/utmps/.wtmpd-socket"))
    # utmpd's socket file is left from a daemon that is gone; wtmpd's daemon listens.
    gone = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    gone.bind(str(sockets / ".utmpd-socket"))
    gone.close()
    _LISTENING.append(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    _LISTENING[-1].bind(str(sockets / ".wtmpd-socket"))
    _LISTENING[-1].listen(5)


_LISTENING: list[socket.socket] = []


def _missing_include(root: Path) -> None:
    (root / "etc" / "pam.d" / "pyutmp").unlink()


def _mangled_wtmpdb(root: Path) -> None:
    db = root / "var" / "lib" / "wtmpdb" / "wtmp.db"
    db.unlink()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE wtmp(ID INTEGER PRIMARY KEY, Type INTEGER, User TEXT, "
                 "Login INTEGER, Logout INTEGER, TTY TEXT)")
    conn.commit()
    conn.close()
    db.chmod(0o644)


BROKEN: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # name: (how it is broken, the check that must fail, words its message must have)
    "missing loader": (_no_loader, "loader", f"{NATIVE} (the native loader) is missing"),
    "pam_python loader": (_pam_python_loader, "loader", "pam_python.so, which is not supported"),
    "wrong file mode": (_world_writable_wtmp, "file", "wtmp"),
    "unreadable lastlog": (_unreadable_lastlog, "file", "not readable by others"),
    "btmp readable by everyone": (_readable_btmp, "file", "btmp"),
    "unreachable socket": (_unreachable_socket, "socket", "utmpd socket"),
    "include of a missing file": (_missing_include, "pam.d", "includes pyutmp, which does not"),
    "mangled wtmpdb": (_mangled_wtmpdb, "database", "the upstream tools reject its rows"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_seeded_misconfiguration_is_named(root: Path, case: str) -> None:
    """Each misconfiguration seeded into the healthy system makes the doctor exit 1 with a
    failure of the right check, saying what is wrong and how to fix it, and no other."""
    breaks, check, words = BROKEN[case]
    try:
        breaks(root)
        status, findings = doctor(root)
    finally:
        while _LISTENING:
            _LISTENING.pop().close()
    failed = [f for f in findings if f["status"] == "fail"]
    assert status == 1
    assert [f["check"] for f in failed] == [check], failed
    assert words in failed[0]["message"], failed[0]
    assert failed[0]["fix"], failed[0]


def test_wrong_mode_names_the_file_and_the_mode(root: Path) -> None:
    """The file finding names the path and the mode found, and the chmod that fixes it."""
    _world_writable_wtmp(root)
    _, findings = doctor(root)
    ((check, message),) = failures(findings)
    assert check == "file" and f"{root}/var/log/wtmp" in message and "0666" in message
    (fix,) = [f["fix"] for f in findings if f["status"] == "fail"]
    assert fix == "chmod 0664 /var/log/wtmp"


def test_warnings_do_not_fail(root: Path) -> None:
    """Problems that leave logins working (an unknown option, a WAL database, no lastlog
    cap) are warnings: named, and exit status 0."""
    (root / "etc" / "pam.d" / "pyutmp").write_text(INCLUDE.format(extra="no_such_option"))
    (root / "etc" / "login.defs").write_text("")
    conn = sqlite3.connect(root / "var/lib/lastlog/lastlog2.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    status, findings = doctor(root)
    warned = {f["check"]: f["message"] for f in findings if f["status"] == "warn"}
    assert status == 0 and failures(findings) == []
    assert "no_such_option: unknown option" in warned["pam.d"]
    assert "WAL" in warned["database"]
    assert "no LASTLOG_UID_MAX" in warned["lastlog cap"]


def test_pam_python_in_the_stack_of_a_setuid_program_is_a_root_escalation(root: Path) -> None:
    """Any line loading pam_python.so, of any type and through any include, in the stack of
    a service whose program is setuid root (su, sudo, ...) fails as a root escalation naming
    the line, the program and the cause; the same line in another service does not."""
    pamd = root / "etc" / "pam.d"
    (pamd / "common-auth").write_text("auth [success=1 default=ignore] pam_unix.so\n"
                                      "auth optional pam_python.so /opt/otp.py\n")
    (pamd / "su").write_text("@include common-auth\nsession include pyutmp\n")
    (pamd / "cron").write_text("@include common-auth\n")
    su = root / "usr" / "bin" / "su"
    su.parent.mkdir(parents=True, exist_ok=True)
    su.write_bytes(b"")
    su.chmod(0o755)
    assert failures(doctor(root)[1]) == []  # not setuid yet: nothing to escalate

    su.chmod(0o4755)
    status, findings = doctor(root)

    assert status == 1
    ((check, message),) = failures(findings)
    assert check == "pam_python"
    assert message.startswith(f"root escalation: {root}/etc/pam.d/common-auth line 2 loads "
                              "pam_python.so in the stack of /usr/bin/su")
    assert "caller's PATH" in message and "cron" not in message


def test_services_twice_in_a_stack_and_the_writers_beside_the_module_are_named(
        root: Path) -> None:
    """su included by su-l is a service of its own; a service that runs the module twice (its
    own include and a system-wide line) is a warning naming both lines; pam_lastlog beside it
    is named as the writer the module leaves wtmp, lastlog and the message to."""
    pamd = root / "etc" / "pam.d"
    (pamd / "su-l").write_text("@include su\n")
    (pamd / "common-session").write_text(INCLUDE.format(extra=""))
    (pamd / "login").write_text("@include common-session\nsession include pyutmp\n"
                                "session optional pam_lastlog.so\n")
    status, findings = doctor(root)
    messages = [f["message"] for f in findings]
    assert status == 0, findings
    assert "services that run pam_pyutmp: login, su, su-l" in messages
    (twice,) = [f for f in findings if "times" in f["message"]]
    assert twice["status"] == "warn" and twice["message"].startswith(
        f"login runs pam_pyutmp 2 times ({pamd}/common-session line 1 and {pamd}/pyutmp line 1)")
    assert ('login: wtmp, lastlog, the "Last login" message left to pam_lastlog.so, which '
            "writes it in the same stack") in messages


def sshd_messages(findings: list[dict[str, Any]]) -> list[str]:
    return [f["message"] for f in findings if f["message"].startswith("sshd: an ssh login")]


def test_sshds_own_last_login_beside_a_module_that_prints_one_is_named(root: Path) -> None:
    """Debian 13 as it comes: sshd prints the last login itself and pam_lastlog2 in
    common-session prints another.  The doctor names both and the fix; PrintLastLog no in
    a drop-in that sshd_config includes silences the warning, and so does an sshd built
    without the message.  The module skipping sshd prints none; not skipping it, it does."""
    pamd = root / "etc" / "pam.d"
    (pamd / "common-session").write_text("session required pam_unix.so\n"
                                         "session optional pam_lastlog2.so\n")
    (pamd / "sshd").write_text("@include common-session\nsession include pyutmp\n")
    sshd = root / "usr" / "lib" / "openssh" / "sshd-session"
    sshd.parent.mkdir(parents=True)
    sshd.write_bytes(b"\0Last login: %s from %s\0")
    config = root / "etc" / "ssh" / "sshd_config"
    (config.parent / "sshd_config.d").mkdir(parents=True)
    config.write_text("Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n"
                      "Match User nobody\n  PrintLastLog no\n")

    status, findings = doctor(root)
    (warned,) = [f for f in findings if f["message"].startswith("sshd: an ssh login")]
    assert status == 0 and warned["status"] == "warn"
    assert warned["message"] == ('sshd: an ssh login shows 2 "Last login" lines: sshd\'s own '
                                 f"(PrintLastLog) and pam_lastlog2 ({pamd}/common-session "
                                 "line 2)'s")
    assert warned["fix"].startswith("PrintLastLog no in /etc/ssh/sshd_config.d/")

    (config.parent / "sshd_config.d" / "local.conf").write_text("PrintLastLog=no\n")
    assert sshd_messages(doctor(root)[1]) == []

    (config.parent / "sshd_config.d" / "local.conf").unlink()
    (pamd / "common-session").write_text("session required pam_unix.so\n")
    assert sshd_messages(doctor(root)[1]) == []  # the include file has skip_if=sshd
    (pamd / "pyutmp").write_text(INCLUDE.format(extra="").replace("skip_if=sshd,login ", ""))
    assert len(sshd_messages(doctor(root)[1])) == 1
    sshd.write_bytes(b"\0")
    assert sshd_messages(doctor(root)[1]) == []


def test_log_records_not_delivered_are_reported(root: Path) -> None:
    """A count of lost log records that no later record has reported is a warning."""
    lost = root / "run" / "pam_pyutmp" / "log-lost"
    lost.parent.mkdir(parents=True)
    lost.write_bytes(b"xxx")
    status, findings = doctor(root)
    (warned,) = [f for f in findings if f["check"] == "log"]
    assert status == 0 and warned["status"] == "warn"
    assert warned["message"].startswith("3 log record(s) of pam_pyutmp could not be delivered")

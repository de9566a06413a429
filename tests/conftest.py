"""Shared fixtures: private accounting files, never the machine's own."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import stockreaders
from pamfakes import LogSocket
from stockreaders import READER_ENV, wait_past

SYSTEM_FILES = ("/var/run/utmp", "/var/log/wtmp", "/var/log/lastlog", "/var/log/btmp",
                "/run/pam_pyutmp/log-lost")


@dataclass
class Accounting:
    root: Path
    utmp: Path
    wtmp: Path
    lastlog: Path

    @property
    def paths(self) -> dict[str, str]:
        return {"utmp_path": str(self.utmp), "wtmp_path": str(self.wtmp)}


@pytest.fixture
def acct(tmp_path: Path) -> Accounting:
    """Empty utmp and wtmp files and a lastlog path in a temp dir."""
    utmp = tmp_path / "utmp"
    wtmp = tmp_path / "wtmp"
    utmp.touch()
    wtmp.touch()
    return Accounting(tmp_path, utmp, wtmp, tmp_path / "lastlog")


def _snapshot() -> dict[str, tuple[int, int] | None]:
    out: dict[str, tuple[int, int] | None] = {}
    for path in SYSTEM_FILES:
        try:
            st = os.stat(path)
            out[path] = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            out[path] = None
    return out


@pytest.fixture(autouse=True, scope="session")
def system_files_untouched() -> object:
    """The suite as a whole must leave the machine's own files as they were."""
    before = _snapshot()
    yield
    assert _snapshot() == before, ("a test wrote the system's utmp, wtmp, lastlog, btmp or "
                                   "lost log count")


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LogSocket]:
    """The module's syslog lines, sent to a socket of the test's own."""
    from pam_pyutmp import syslogger

    path = tmp_path / "log.sock"
    receiver = LogSocket(path)
    monkeypatch.setattr(syslogger, "SOCKET_PATH", str(path))
    yield receiver
    receiver.close()


@pytest.fixture(autouse=True)
def private_log_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No record of a test reaches the machine's journal, and none is counted as lost
    in the machine's /run: the journal socket is one that does not exist, unless a test
    makes it, and the lost count a file of the test's own."""
    from pam_pyutmp import syslogger

    monkeypatch.setattr(syslogger, "JOURNAL_SOCKET", str(tmp_path / "journal.socket"))
    monkeypatch.setattr(syslogger, "LOST_FILE", str(tmp_path / "pam_pyutmp" / "log-lost"))


@pytest.fixture(autouse=True)
def forget_open_sessions() -> Iterator[None]:
    """What one test's sessions left in the PAM layer's memory is gone for the next."""
    yield
    from pam_pyutmp import pam

    pam._open_sessions.clear()
    pam._open_rows.clear()
    pam._instances.clear()
    pam._later_instances.clear()


# --- Stock readers and helpers shared by the tests ----------------------------

class Readers:
    """The stock util-linux/coreutils/shadow readers, run on explicit files only
    (`acctread` in place of those the release lacks)."""

    @staticmethod
    def run(*args: str, stdin: bytes | None = None) -> bytes:
        """The reader's output; where this release lacks it, `acctread`'s
        (see stockreaders.py)."""
        done = subprocess.run(
            stockreaders.command(args), input=stdin, capture_output=True, env=READER_ENV,
            check=False, timeout=60,
        )
        assert done.returncode == 0, f"{args}: rc {done.returncode}, {done.stderr!r}"
        return done.stdout

    def who(self, utmp: os.PathLike[str] | str) -> list[list[str]]:
        """`who FILE`, one list of words per listed session."""
        text = self.run("who", os.fspath(utmp)).decode()
        return [line.split() for line in text.splitlines() if line.strip()]

    def last(self, wtmp: os.PathLike[str] | str, *options: str,
             after_logout: int | None = None) -> list[str]:
        """`last -w --time-format iso -f FILE` session lines, newest first; with
        ``after_logout`` it first waits until the clock is past that second."""
        if after_logout is not None:
            wait_past(after_logout)
        text = self.run("last", "-w", "--time-format", "iso", *options, "-f",
                        os.fspath(wtmp)).decode()
        return [line for line in text.splitlines()
                if line.strip() and not line.startswith(os.path.basename(wtmp) + " begins")]

    def utmpdump(self, path: os.PathLike[str] | str) -> bytes:
        return self.run("utmpdump", os.fspath(path))

    def undump(self, text: bytes) -> bytes:
        """`utmpdump -r`: the binary file the dump text describes."""
        return stockreaders.undump(text)

    def lastlog(self, root: os.PathLike[str] | str, user: str) -> list[str]:
        text = self.run("lastlog", "-R", os.fspath(root), "-u", user).decode()
        return text.splitlines()


@pytest.fixture
def readers() -> Readers:
    """The stock readers (who, last, utmpdump, lastlog) with TZ=UTC and LC_ALL=C."""
    return Readers()


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A temp dir that an unprivileged user may enter (pytest's own tmp root is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="pyutmp-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


@pytest.fixture
def tty() -> Iterator[str]:
    """A real terminal device, as PAM_TTY names one."""
    master, slave = os.openpty()
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)

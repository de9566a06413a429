"""The accounting readers of the release at hand, for the tests.

Debian 12 has util-linux `last` and `utmpdump` and shadow `lastlog`; Debian 13
has none of them (its `last` is wtmpdb's and reads SQLite only).  Where a reader
is missing, the tests read the files with `acctread` (tests/acctread.c), which
goes through glibc's own utmpx and lastlog API and shares no code with the
project.  On a release that has both, test_readers.py checks that they agree.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Fixed zone and locale: dates print in UTC and utmpdump/last print plain ASCII.
READER_ENV = {**os.environ, "TZ": "UTC", "LC_ALL": "C"}


def wait_past(second: int) -> None:
    """Sleep until the clock has left ``second``: `last` prints "still running" for a
    logout stamped with the current second.

    The margin covers the coarse clock behind time(2), which a freshly started `last`
    was seen reading a few milliseconds behind clock_gettime(CLOCK_REALTIME).
    """
    while time.time() < second + 1.2:
        time.sleep(0.02)



def _util_linux_last() -> bool:
    """`last` is util-linux's (Debian 13's is a link to wtmpdb)."""
    found = shutil.which("last")
    if found is None:
        return False
    return "wtmpdb" not in os.path.basename(os.path.realpath(found))


DEBIAN_RELEASE = int(Path("/etc/debian_version").read_text().split(".")[0])
# Debian 12's login is shadow's: it writes its own utmp entry, and Debian's stack for it
# has pam_lastlog (wtmp, lastlog).  Debian 13's is util-linux's, built without utmp: it
# writes no record, and Linux-PAM 1.7 has no pam_lastlog.
LOGIN_WRITES_UTMP = DEBIAN_RELEASE < 13


def have_pam_module(name: str) -> bool:
    """The PAM module ``name`` ("pam_lastlog.so") is installed."""
    return bool(glob.glob(f"/usr/lib/*/security/{name}") + glob.glob(f"/lib/*/security/{name}"))


HAVE_PAM_LASTLOG = have_pam_module("pam_lastlog.so")
# Debian 13's database writers (packages libpam-wtmpdb and libpam-lastlog2).
HAVE_PAM_WTMPDB = have_pam_module("pam_wtmpdb.so")
HAVE_PAM_LASTLOG2 = have_pam_module("pam_lastlog2.so")

HAVE_LAST = _util_linux_last()
HAVE_UTMPDUMP = shutil.which("utmpdump") is not None
HAVE_LASTLOG = shutil.which("lastlog") is not None
HAVE_LASTB = shutil.which("lastb") is not None and HAVE_LAST

NO_LAST = "util-linux `last` is not on this release (its `last` is wtmpdb's)"
NO_LASTLOG = "shadow's `lastlog` is not on this release"
NO_LASTB = "util-linux `lastb` is not on this release (it went with util-linux `last`)"

_built: list[str] = []


def acctread() -> str:
    """The path of tests/acctread.c built for this run, in a directory every user
    and every test namespace can read (built at the first call)."""
    if not _built:
        where = tempfile.mkdtemp(prefix="pyutmp-acctread-", dir="/tmp")
        os.chmod(where, 0o755)
        atexit.register(shutil.rmtree, where, True)
        binary = os.path.join(where, "acctread")
        subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", binary,
                        str(HERE / "acctread.c")], check=True)
        _built.append(binary)
    return _built[0]


def command(argv: Sequence[str]) -> list[str]:
    """``argv`` of a stock reader, or the `acctread` command that reads the same
    where this release lacks that reader.  `last` is replaced only in the form
    the tests read sessions with (``-w --time-format iso -f FILE``)."""
    name, *rest = argv
    if name == "utmpdump" and not HAVE_UTMPDUMP and len(rest) == 1:
        return [acctread(), "dump", rest[0]]
    if name == "last" and not HAVE_LAST:
        options = [word for word in rest if word not in ("-w", "--time-format", "iso")]
        if len(options) == 2 and options[0] == "-f":
            return [acctread(), "last", options[1]]
        raise AssertionError(f"{NO_LAST}: acctread cannot stand in for {list(argv)}")
    if name == "lastlog" and not HAVE_LASTLOG:
        if len(rest) == 2 and rest[0] == "-u":
            return [acctread(), "lastlog", "/var/log/lastlog", rest[1]]
        if len(rest) == 4 and rest[0] == "-R" and rest[2] == "-u":
            root = Path(rest[1])
            return [acctread(), "lastlog", str(root / "var/log/lastlog"), rest[3],
                    str(root / "etc/passwd")]
        raise AssertionError(f"{NO_LASTLOG}: acctread cannot stand in for {list(argv)}")
    return list(argv)


def undump(text: bytes, env: dict[str, str] = READER_ENV) -> bytes:
    """The binary records that utmpdump's ``text`` describes (`utmpdump -r`)."""
    if HAVE_UTMPDUMP:
        done = subprocess.run(["utmpdump", "-r"], input=text, capture_output=True, env=env,
                              check=True, timeout=120)
        return done.stdout
    return undump_with_acctread(text, env)


def undump_with_acctread(text: bytes, env: dict[str, str] = READER_ENV) -> bytes:
    """What :func:`undump` gives where the release has no utmpdump."""
    with tempfile.TemporaryDirectory() as where:
        target = Path(where) / "records"
        target.touch()
        subprocess.run([acctread(), "undump", str(target)], input=text, env=env, check=True,
                       timeout=120)
        return target.read_bytes()

"""Debian's rsyslog for the tests, unpacked and never installed: `apt-get download` fetches
the package of this release and those of its dependencies that the machine lacks, and
`dpkg-deb -x` unpacks them into a cache directory, so no maintainer script runs, no
service is enabled or started, and /etc is not written.  The tests run `rsyslogd -n` from
there, with its modules directory and its libraries, as a plain process in a sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "rsyslog"
# Kept across runs (one directory per version of the package), outside any work tree.
CACHE = Path("/var/cache/pam_pyutmp/rsyslog")
LIBRARIES = "usr/lib/x86_64-linux-gnu"
# What the tests load: the daemon and the modules of the fleet recipe (omfwd is built in).
MODULES = ("imuxsock", "imtcp", "mmnormalize", "lmtcpsrv", "lmtcpclt", "lmnetstrms",
           "lmnsd_ptcp")


class Unavailable(Exception):
    """rsyslog could not be fetched or would not run here; the message says why."""


@dataclass(frozen=True)
class Rsyslog:
    """An unpacked rsyslog: ``root`` holds the package's usr/ tree."""

    root: Path

    @property
    def libraries(self) -> Path:
        return self.root / LIBRARIES

    @property
    def modules(self) -> Path:
        return self.libraries / "rsyslog"

    def command(self, config: str, pidfile: str) -> list[str]:
        """rsyslogd in the foreground with ``config``, its modules from this tree."""
        return [str(self.root / "usr" / "sbin" / "rsyslogd"), "-n", "-f", config,
                "-i", pidfile, "-M", str(self.modules)]

    def environment(self) -> dict[str, str]:
        """The libraries unpacked with it (liblognorm, ...) come before the machine's."""
        return {"LD_LIBRARY_PATH": str(self.libraries)}


def unpacked() -> Rsyslog:
    """This release's rsyslog, fetched and unpacked once into CACHE."""
    version = candidate_version(PACKAGE)
    root = CACHE / version
    if not (root / ".ready").exists():
        fetch(root)
    return Rsyslog(root)


def candidate_version(package: str) -> str:
    """The version apt would install; the package lists are read again once if apt
    knows none (a machine fresh from debootstrap)."""
    for attempt in range(2):
        if attempt:
            run(["apt-get", "update", "-qq"], "apt-get update")
        policy = run(["apt-cache", "policy", package], "apt-cache policy")
        for line in policy.splitlines():
            key, _, value = line.strip().partition(": ")
            if key == "Candidate" and value and value != "(none)":
                return value
    raise Unavailable(f"apt knows no {package} package (apt-cache policy {package})")


def fetch(root: Path) -> None:
    """Download rsyslog and the dependencies that are not installed, unpack them into
    ``root`` (made whole elsewhere, then renamed: a half-made tree is never used)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=CACHE))
    try:
        packages = [PACKAGE, *missing_dependencies(PACKAGE)]
        # apt's download user cannot write the directory root made: the same files, as root.
        run(["apt-get", "download", "-q", *packages], "apt-get download", cwd=work)
        tree = work / "tree"
        for deb in sorted(work.glob("*.deb")):
            run(["dpkg-deb", "-x", str(deb), str(tree)], "dpkg-deb -x")
        check_libraries(Rsyslog(tree))
        (tree / ".ready").touch()
        shutil.rmtree(root, ignore_errors=True)
        tree.rename(root)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def missing_dependencies(package: str) -> list[str]:
    """The packages ``package`` depends on, directly or not, that are not installed (the
    first of each set of alternatives)."""
    missing: list[str] = []
    todo = [package]
    while todo:
        for name in depends(todo.pop()):
            if name not in missing and not installed(name):
                missing.append(name)
                todo.append(name)
    return missing


def depends(package: str) -> list[str]:
    """The Depends of ``package`` (of each alternative set, the first; no virtual names)."""
    names = []
    alternative = False
    for line in run(["apt-cache", "depends", package], "apt-cache depends").splitlines():
        text = line.strip()
        if text.startswith(("Depends:", "|Depends:")):
            name = text.partition(":")[2].strip()
            if not alternative and not name.startswith("<"):
                names.append(name)
            alternative = text.startswith("|")  # the next line is an alternative to this
    return names


def installed(package: str) -> bool:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                          capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.endswith(" installed")


def check_libraries(rsyslog: Rsyslog) -> None:
    """Every library the daemon and the modules need is found: on the machine or unpacked."""
    files = [rsyslog.root / "usr" / "sbin" / "rsyslogd",
             *(rsyslog.modules / f"{name}.so" for name in MODULES)]
    env = {**os.environ, **rsyslog.environment()}
    for path in files:
        if not path.exists():
            raise Unavailable(f"the {PACKAGE} package has no {path.relative_to(rsyslog.root)}")
        linked = run(["ldd", str(path)], "ldd", env=env)
        lost = [line.split()[0] for line in linked.splitlines() if "not found" in line]
        if lost:
            raise Unavailable(f"{path.name} needs {', '.join(lost)}, neither installed nor "
                              "among the packages fetched")


def run(argv: list[str], what: str, **kwargs: object) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300,  # type: ignore[call-overload]
                          **kwargs)
    if done.returncode != 0:
        raise Unavailable(f"{what} failed ({' '.join(argv)}): {done.stderr.strip()[-500:]}")
    return done.stdout  # type: ignore[no-any-return]

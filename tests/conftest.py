"""Shared fixtures: private accounting files, never the machine's own."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

SYSTEM_FILES = ("/var/run/utmp", "/var/log/wtmp", "/var/log/lastlog")


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
    assert _snapshot() == before, "a test wrote the system's utmp, wtmp or lastlog"


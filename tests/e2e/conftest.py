"""Fixtures of the end-to-end tests: everything through real libpam and pam_python.so."""

from __future__ import annotations

from pathlib import Path

import pytest

from .sandbox import Sandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox.create(tmp_path / "sandbox")

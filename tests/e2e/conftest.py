"""Fixtures of the end-to-end tests: everything through real libpam, with the
session code loaded by pam_pyutmp.so built from this tree.  A test can pin the
loader to pam_python.so, which the project does not use, to show why."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .sandbox import Sandbox, build_native_module


@pytest.fixture(scope="session")
def native_module() -> Iterator[Path]:
    """pam_pyutmp.so for /usr/bin/python3 and the installed package, built once, in
    a directory every user may read: some tests run PAM as an unprivileged user."""
    directory = Path(tempfile.mkdtemp(prefix="pyutmp-loader-", dir="/tmp"))
    try:
        directory.chmod(0o755)
        yield build_native_module(directory / "pam_pyutmp.so")
    finally:
        shutil.rmtree(directory)


@pytest.fixture
def loader() -> str:
    """The loader of the module line; a test can pin one with parametrize("loader", ...)."""
    return "native"


@pytest.fixture
def sandbox(tmp_path: Path, loader: str, native_module: Path) -> Sandbox:
    return Sandbox.create(tmp_path / "sandbox", loader, native_module)

"""The package builds from its sdist, as pip and distributions build it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_sdist_carries_the_c_core_and_builds_a_wheel(tmp_path: Path) -> None:
    """A wheel built from the sdist alone holds the compiled core and reader, py.typed and
    the modules."""
    tree = tmp_path / "tree"
    shutil.copytree(REPO, tree, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "*.egg-info", "__pycache__", "*.so"))
    subprocess.run([sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path / "dist")],
                   cwd=tree, check=True, capture_output=True)
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    assert any(name.endswith("/csrc/pyutmp_core.c") for name in names)
    assert any(name.endswith("/csrc/build_core.py") for name in names)
    assert any(name.endswith("/csrc/build_reader.py") for name in names)
    assert any(name.endswith("/csrc/pyutmp_last.c") for name in names)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "wheels"), str(sdist)],
                   check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    with zipfile.ZipFile(wheel) as whl:
        members = whl.namelist()
    assert any(name.startswith("pam_pyutmp/_core") and name.endswith(".so") for name in members)
    # The last/lastb engine: a module of its own, which no login loads.
    assert any(name.startswith("pam_pyutmp/_reader") and name.endswith(".so")
               for name in members)
    assert "pam_pyutmp/py.typed" in members and "pam_pyutmp/pam_module.py" in members


def test_the_c_core_compiles_without_a_warning() -> None:
    """Every C file of the core passes gcc -Wall -Wextra with no warning, so the build log
    of a package stays clean and an unused or mistyped function shows up here."""
    for source in sorted((REPO / "csrc").glob("pyutmp_*.c")):
        done = subprocess.run(["gcc", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                               f"-I{REPO / 'csrc'}", str(source)],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr

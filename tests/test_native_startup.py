"""What a login pays before its session starts: the modules the session code
imports in a fresh interpreter, and the stand-ins (pam_pyutmp._typing) that keep
typing out of them."""

from __future__ import annotations

import json
import subprocess
import typing
from pathlib import Path

import pytest

from pam_pyutmp import _typing, system

SYSTEM_PYTHON = "/usr/bin/python3"
# Each costs a login milliseconds at every start of Python (typing brings re and enum;
# collections alone is 2 ms, os with its _collections_abc 1 ms).
NOT_ON_THE_LOGIN_PATH = ("typing", "re", "enum", "socket", "selectors", "random", "datetime",
                         "traceback", "ipaddress", "threading", "sqlite3", "ctypes",
                         "contextlib", "functools", "collections", "os", "_collections_abc",
                         "stat", "warnings", "json")

# Plain text in and out: json would import re, enum and collections before the count.
IMPORTED = """
import sys
sys.path[:] = sys.argv[1].split("\\n")
before = set(sys.modules)
import pam_pyutmp.native
print("\\n".join(sorted(set(sys.modules) - before)))
"""


def test_session_code_imports_nothing_a_session_does_not_need() -> None:
    """`import pam_pyutmp.native` in a fresh interpreter without site, as pam_pyutmp.so
    starts it, loads none of typing, re, enum, socket, os, random and the other heavy
    modules."""
    probe = subprocess.run([SYSTEM_PYTHON, "-I", "-c", "import json, sys; print(json.dumps("
                            "sys.path))"], capture_output=True, text=True, check=True, cwd="/")
    paths = [path for path in json.loads(probe.stdout) if path]
    done = subprocess.run([SYSTEM_PYTHON, "-I", "-S", "-c", IMPORTED, "\n".join(paths)],
                          capture_output=True, text=True, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    imported = done.stdout.split()
    assert "pam_pyutmp.pam" in imported
    assert [name for name in NOT_ON_THE_LOGIN_PATH if name in imported] == []


def entry_class(base: object) -> type:
    class Entry(base):  # type: ignore[misc, valid-type]
        """A login."""

        time: int
        line: str
        host: str = ""

        @property
        def where(self) -> str:
            return f"{self.line}@{self.host}"

        @classmethod
        def empty(cls) -> Entry:
            return cls(0, "")

    return Entry


def test_named_tuple_stand_in_makes_what_typing_makes() -> None:
    """A class on pam_pyutmp._typing.NamedTuple behaves as one on typing.NamedTuple: fields,
    defaults, _replace, _make, _asdict, methods, properties, docstring, equality, tuple-ness
    and the errors of a wrong call."""
    ours, typings = entry_class(_typing.NamedTuple), entry_class(typing.NamedTuple)
    a, b = ours(5, "pts/1"), typings(5, "pts/1")

    assert ours._fields == typings._fields == ("time", "line", "host")
    assert ours._field_defaults == typings._field_defaults == {"host": ""}
    assert a == b and isinstance(a, tuple) and repr(a) == repr(b)
    assert a._replace(host="h").where == b._replace(host="h").where == "pts/1@h"
    assert ours.empty() == typings.empty() and ours.__doc__ == typings.__doc__ == "A login."
    assert ours.__mro__[1:] == typings.__mro__[1:] == (tuple, object)
    assert a._asdict() == b._asdict() == {"time": 5, "line": "pts/1", "host": ""}
    assert ours.__match_args__ == typings.__match_args__
    assert ours._make([1, "x", "y"]) == typings._make([1, "x", "y"])
    for make in (ours, typings):
        with pytest.raises(TypeError):
            make(5)  # a field without a default is missing
        with pytest.raises(TypeError):
            make._make([1])
        with pytest.raises(ValueError):
            make(5, "pts/1")._replace(tty="x")


def test_named_tuple_stand_in_refuses_what_typing_refuses() -> None:
    """A field without a default after one with a default, and a method that would break
    the tuple, are errors with the stand-in as with typing (namedtuple alone would accept
    the first and give the default to the wrong field)."""
    with pytest.raises(TypeError):
        class Bad(_typing.NamedTuple):  # type: ignore[misc]
            a: int = 1
            b: int

    with pytest.raises(AttributeError):
        class Worse(_typing.NamedTuple):
            a: int

            def _replace(self, **kwargs: object) -> Worse:  # type: ignore[override]
                return self


def test_a_changed_login_defs_is_read_again(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """LASTLOG_UID_MAX is read once per login.defs version, and the file is looked at
    once per RECHECK_SECONDS: a process that outlives its logins sees an edit of the
    file (and its removal) a second later at most."""
    now = [100.0]
    monkeypatch.setattr(system, "_clock", lambda: now[0])
    defs = tmp_path / "login.defs"
    defs.write_text("# LASTLOG_UID_MAX 5 is a comment\nLASTLOG_UID_MAX 1000\n")
    assert system.lastlog_uid_max(str(defs)) == 1000

    defs.write_text("LASTLOG_UID_MAX 2000000\n")
    now[0] += system.RECHECK_SECONDS / 2
    assert system.lastlog_uid_max(str(defs)) == 1000  # not looked at again yet
    now[0] += system.RECHECK_SECONDS
    assert system.lastlog_uid_max(str(defs)) == 2000000
    defs.unlink()
    now[0] += system.RECHECK_SECONDS
    assert system.lastlog_uid_max(str(defs)) is None
    defs.write_text("LASTLOG_UID_MAX 7\n")
    now[0] += system.RECHECK_SECONDS
    assert system.lastlog_uid_max(str(defs)) == 7

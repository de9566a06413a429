"""What a login pays before its session starts: the modules the session code
imports in a fresh interpreter, and the plain value classes (pam_pyutmp.values)
and options that keep typing, collections and dataclasses out of them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from pam_pyutmp import options, system
from pam_pyutmp.api import UtmpEntry
from pam_pyutmp.lastlog import LastlogEntry
from pam_pyutmp.records import Record
from pam_pyutmp.system import USER_PROCESS

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


def test_value_classes_compare_copy_and_print_by_their_fields() -> None:
    """Records and the other value classes are equal, and hash alike, when their fields
    are; _replace copies with the named fields changed and leaves the original as it was;
    a field the class does not have is a TypeError."""
    record = Record(USER_PROCESS, 42, "pts/1", "ts/1", "alice", "h", 7, 100, 5)
    same = Record(USER_PROCESS, 42, "pts/1", "ts/1", "alice", "h", 7, 100, 5, bytes(16))
    assert record == same and hash(record) == hash(same) and len({record, same}) == 1
    assert record != record._replace(pid=43) and record != LastlogEntry(100, "pts/1", "h")
    moved = record._replace(line="pts/2", id="ts/2")
    assert moved == Record(USER_PROCESS, 42, "pts/2", "ts/2", "alice", "h", 7, 100, 5)
    assert (record.line, record.id) == ("pts/1", "ts/1")
    with pytest.raises(TypeError, match="tty"):
        record._replace(tty="pts/3")

    entry = UtmpEntry(record, None, None)
    assert entry._replace(notes=("n",)) == UtmpEntry(record, None, None, ("n",)) != entry
    with pytest.raises(TypeError):
        entry._replace(path="/var/run/utmp")
    assert repr(LastlogEntry(5, "pts/1", "h")) == "LastlogEntry(time=5, line='pts/1', host='h')"


def test_options_are_their_defaults_until_a_word_sets_them() -> None:
    """Each option a word names is an attribute of Options, with a default; parsing sets
    the options of the words given and no other, and leaves the defaults alone."""
    for name in (*options.FLAGS.values(), *options.PATHS.values()):
        assert hasattr(options.Options, name), name
    parsed = options.parse(("debug", "utmp=/x/utmp", "skip_if=sshd,login", "nodebug"))
    assert (parsed.debug, parsed.utmp_path, parsed.skip_if) == (
        True, "/x/utmp", frozenset({"sshd", "login"}))
    assert (parsed.nowtmp, parsed.wtmp_path, parsed.backend) == (False, None, "auto")
    assert parsed.problems == ("nodebug: unknown option",)
    assert options.Options().debug is False and options.Options().utmp_path is None


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


def test_a_fifo_at_login_defs_is_no_cap_and_no_wait(tmp_path: Path) -> None:
    """A FIFO planted where login.defs is read must not hold a login: it reads as no file."""
    fifo = tmp_path / "login.defs"
    os.mkfifo(fifo)
    assert system.lastlog_uid_max(str(fifo)) is None
    assert system.read_config(str(fifo)) is None

"""A service's session stack as libpam reads it (pam_pyutmp.stack), on PAM
directories made here, and what the module leaves to the other writers in it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pam_pyutmp import stack
from pam_pyutmp.options import parse
from pam_pyutmp.system import DEFAULT_LASTLOG2, DEFAULT_WTMPDB


@pytest.fixture
def pamd(tmp_path: Path) -> Path:
    directory = tmp_path / "pam.d"
    directory.mkdir()
    return directory


def modules(service: str, pamd: Path) -> list[tuple[str, tuple[str, ...]]]:
    return [(line.module, line.args) for line in stack.session_lines(service, (str(pamd),))]


def test_includes_substacks_and_at_includes_are_followed_in_libpams_order(pamd: Path) -> None:
    """`@include` brings every line of a file, `session include` and `session substack`
    its session lines; other types, comments and a file included twice (or itself) are
    left out; a line ending in a backslash goes on in the next."""
    (pamd / "common-session").write_text(
        "# comment\nsession [default=1] pam_permit.so\nsession requisite pam_deny.so\n"
        "session optional pam_wtmpdb.so skip_if=sshd\n")
    (pamd / "common-auth").write_text("auth required pam_unix.so\n")
    (pamd / "extra").write_text("session optional /lib/security/pam_lastlog2.so \\\n"
                                "  silent\n@include extra\n")
    (pamd / "su").write_text("auth sufficient pam_rootok.so\n@include common-auth\n"
                             "session required pam_env.so readenv=1 # why\n"
                             "@include common-session\n-session substack extra\n"
                             "session include common-session\n")
    assert modules("su", pamd) == [
        ("pam_env.so", ("readenv=1",)), ("pam_permit.so", ()), ("pam_deny.so", ()),
        ("pam_wtmpdb.so", ("skip_if=sshd",)), ("pam_lastlog2.so", ("silent",))]


def test_a_service_that_is_no_plain_name_or_no_file_has_no_stack(pamd: Path) -> None:
    (pamd / "su").write_text("session optional pam_lastlog.so\n")
    for name in ("../pam.d/su", "", ".", "..", "nosuch"):
        assert stack.session_lines(name, (str(pamd),)) == []


def test_a_fifo_in_the_stack_is_not_read(pamd: Path) -> None:
    """A FIFO where a PAM file should be must not hold a login: it is skipped."""
    os.mkfifo(pamd / "common-session")
    (pamd / "su").write_text("@include common-session\nsession optional pam_lastlog.so\n")
    assert modules("su", pamd) == [("pam_lastlog.so", ())]


@pytest.mark.parametrize(("line", "service", "expected"), [
    ("pam_lastlog.so", "login", stack.Others(lastlog=True, wtmp=True, message=True)),
    ("pam_lastlog.so nowtmp silent", "login", stack.Others(lastlog=True)),
    ("pam_lastlog.so noupdate", "login", stack.Others(wtmp=True, message=True)),
    ("pam_wtmpdb.so skip_if=sshd", "su", stack.Others(wtmpdb=DEFAULT_WTMPDB)),
    ("pam_wtmpdb.so skip_if=sshd", "sshd", stack.NONE),
    ("pam_wtmpdb.so database=/srv/w.db", "su", stack.Others(wtmpdb="/srv/w.db")),
    ("pam_lastlog2.so", "su", stack.Others(lastlog2=DEFAULT_LASTLOG2, message=True)),
    ("pam_lastlog2.so silent", "su", stack.Others(lastlog2=DEFAULT_LASTLOG2)),
    ("pam_unix.so", "su", stack.NONE),
])
def test_what_the_other_writers_record(pamd: Path, line: str, service: str,
                                       expected: stack.Others) -> None:
    (pamd / service).write_text(f"session optional {line}\n")
    found = stack.others_in(stack.session_lines(service, (str(pamd),)), service)
    assert found == expected


def test_options_leave_to_the_others_only_what_they_write() -> None:
    """The module leaves wtmp, lastlog and the message to pam_lastlog, a database to the
    module writing that very database; `ignore_others` keeps everything."""
    opts = parse(("wtmpdb", "lastlog2=/srv/l2.db"))
    left = opts.leaving(stack.Others(lastlog=True, wtmp=True, message=True,
                                     wtmpdb=DEFAULT_WTMPDB, lastlog2=DEFAULT_LASTLOG2))
    assert (left.nowtmp, left.nolastlog, left.nolastlogmsg) == (True, True, True)
    assert (left.wtmpdb, left.wtmpdb_path) == (False, None)
    assert left.lastlog2_path == "/srv/l2.db"  # another database than pam_lastlog2's
    assert not (opts.nowtmp or opts.nolastlog or opts.nolastlogmsg)  # the parsed ones stay
    assert opts.leaving(stack.NONE) is opts
    kept = parse(("wtmpdb", "ignore_others"))
    assert kept.leaving(stack.Others(wtmp=True, wtmpdb=DEFAULT_WTMPDB)) is kept


def test_a_database_under_two_names_is_one(tmp_path: Path) -> None:
    """pam_wtmpdb writing database=/var/log/wtmp.db and the module writing the link to it
    (Debian 13 has /var/lib/wtmpdb/wtmp.db -> /var/log/wtmp.db): left to pam_wtmpdb."""
    real = tmp_path / "wtmp.db"
    real.write_bytes(b"")
    (tmp_path / "link.db").symlink_to(real)
    opts = parse((f"wtmpdb={tmp_path / 'link.db'}",))
    assert opts.leaving(stack.Others(wtmpdb=str(real))).wtmpdb_path is None
    assert opts.leaving(stack.Others(wtmpdb=str(tmp_path / "other.db"))).wtmpdb_path == str(
        tmp_path / "link.db")

"""The utmps options of the PAM module line, as options.parse reads them, and how
backend=auto finds the daemons."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pam_pyutmp import system
from pam_pyutmp.options import parse
from pam_pyutmp.stores import resolve_backend


def test_utmps_timeout_takes_seconds_with_fractions() -> None:
    """utmps_timeout=2.5 is 2.5 seconds; without the option the stores' default applies."""
    assert parse(("utmps_timeout=2.5",)).utmps_timeout == 2.5
    assert parse(()).utmps_timeout is None


@pytest.mark.parametrize("value", ["0", "-1", "61", "nan", "inf", "3s", ""])
def test_a_bad_utmps_timeout_is_ignored_with_a_reason(value: str) -> None:
    """Zero, negative, above 60 s, not finite or not a number: ignored and reported, so a
    typo neither fails a login nor lets a hung daemon hold it for long."""
    options = parse((f"utmps_timeout={value}",))
    assert options.utmps_timeout is None
    assert options.problems == (f"utmps_timeout={value}: not a number of seconds above 0 "
                                "and at most 60",)


def test_the_utmps_backend_and_sockets_are_read() -> None:
    """backend=utmps with both sockets (absolute paths) reaches the options as given."""
    options = parse(("backend=utmps", "utmpd_socket=/run/u.sock", "wtmpd_socket=/run/w.sock"))
    assert (options.backend, options.utmpd_socket, options.wtmpd_socket) == (
        "utmps", "/run/u.sock", "/run/w.sock")
    assert options.problems == ()


def test_auto_looks_for_the_utmpd_socket_once_per_recheck_interval(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """backend=auto asks the disk whether utmpd's socket exists at most once per
    RECHECK_SECONDS: a daemon that starts or stops is followed a second later at most."""
    now = [50.0]
    monkeypatch.setattr(system, "_clock", lambda: now[0])
    sock = tmp_path / "utmpd"
    assert resolve_backend("auto", str(sock)) == "files"

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock))
    try:
        now[0] += system.RECHECK_SECONDS / 2
        assert resolve_backend("auto", str(sock)) == "files"  # not looked at again yet
        now[0] += system.RECHECK_SECONDS
        assert resolve_backend("auto", str(sock)) == "utmps"
    finally:
        server.close()
    sock.unlink()
    now[0] += system.RECHECK_SECONDS
    assert resolve_backend("auto", str(sock)) == "files"
    assert resolve_backend("files", str(sock)) == "files"

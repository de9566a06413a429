"""The utmps options of the PAM module line, as options.parse reads them."""

from __future__ import annotations

import pytest

from pam_pyutmp.options import parse


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

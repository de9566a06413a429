"""Unit tests of pam_pyutmp.host: the host part of an address and its reverse name."""

from __future__ import annotations

import socket
import threading

import pytest

from pam_pyutmp import host as hostmod
from pam_pyutmp.host import get_host, split_address


@pytest.mark.parametrize(("addr", "host"), [
    ("127.0.0.1:80", "127.0.0.1"),
    ("[::1]:80", "::1"),
    ("::1", "::1"),
    ("10.0.0.1", "10.0.0.1"),
    ("name:22", "name"),
    ("name", "name"),
    ("2001:db8::22", "2001:db8::22"),
    ("[2001:db8::1]", "2001:db8::1"),
    ("fe80::1%eth0", "fe80::1%eth0"),
    ("[fe80::1%eth0]:22", "fe80::1%eth0"),
    ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
    (" 10.0.0.1:22\n", "10.0.0.1"),
])
def test_split_address_takes_the_host_part(addr, host) -> None:
    """split_address drops the port of host:port and [v6]:port, never a colon group of a
    bare IPv6 address."""
    assert split_address(addr) == host


def reference_name(ip: str) -> str:
    """What the system resolver says for ``ip`` (as get_host asks it), else the IP."""
    try:
        return socket.getnameinfo((ip, 0), socket.NI_NAMEREQD)[0]
    except OSError:
        return ip


def test_get_host_of_an_unresolvable_documentation_ip_is_the_ip() -> None:
    """192.0.2.1 (TEST-NET-1) has no name, so get_host returns the IP text."""
    if reference_name("192.0.2.1") != "192.0.2.1":
        pytest.skip("this resolver names TEST-NET-1")
    assert get_host("192.0.2.1") == "192.0.2.1"
    assert get_host("192.0.2.1:51234") == "192.0.2.1"


@pytest.mark.parametrize(("addr", "ip"), [("127.0.0.1:80", "127.0.0.1"), ("[::1]:22", "::1"),
                                          ("127.0.0.1", "127.0.0.1")])
def test_get_host_agrees_with_the_system_resolver(addr, ip) -> None:
    """get_host gives the name getnameinfo finds (e.g. from /etc/hosts), or the IP."""
    assert get_host(addr) == reference_name(ip)


def test_get_host_of_a_name_does_no_lookup(monkeypatch) -> None:
    """A host that is already a name is returned without asking the resolver."""
    def refuse(*_: object) -> None:
        raise AssertionError("getnameinfo called for a name")

    monkeypatch.setattr(hostmod.socket, "getnameinfo", refuse)
    assert get_host("client.example:22") == "client.example"


def test_get_host_uses_the_name_the_resolver_gives(monkeypatch) -> None:
    """When the lookup succeeds within the timeout, its name is returned."""
    asked = []

    def resolver(sockaddr: tuple[str, int], flags: int) -> tuple[str, str]:
        asked.append((sockaddr, flags))
        return "fake-name.example", "0"

    monkeypatch.setattr(hostmod.socket, "getnameinfo", resolver)
    assert get_host("198.51.100.4:22") == "fake-name.example"
    assert asked == [(("198.51.100.4", 0), socket.NI_NAMEREQD)]


def test_get_host_returns_the_ip_when_the_resolver_hangs(monkeypatch) -> None:
    """A lookup that does not finish within the timeout is abandoned: get_host returns
    (the IP) while the resolver is still blocked."""
    release = threading.Event()
    started = threading.Event()

    def stuck(sockaddr: tuple[str, int], flags: int) -> tuple[str, str]:
        started.set()
        release.wait(30)  # only a get_host that waits for it would see this name
        return "too-late.example", "0"

    monkeypatch.setattr(hostmod.socket, "getnameinfo", stuck)
    try:
        assert get_host("198.51.100.5:22", timeout=0.05) == "198.51.100.5"
        assert started.is_set() and not release.is_set()
    finally:
        release.set()


@pytest.mark.parametrize("error", [socket.gaierror(socket.EAI_NONAME, "no name"),
                                   socket.herror(1, "unknown host"),
                                   UnicodeError("bad name")])
def test_get_host_returns_the_ip_when_the_lookup_fails(monkeypatch, error) -> None:
    """A failed lookup (no name, resolver error, undecodable name) gives the IP text."""
    def failing(*_: object) -> tuple[str, str]:
        raise error

    monkeypatch.setattr(hostmod.socket, "getnameinfo", failing)
    assert get_host("[2001:db8::5]:22") == "2001:db8::5"

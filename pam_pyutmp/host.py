"""Remote host names: ``net.Addr``-style text to a name for the records."""

from __future__ import annotations

import ipaddress
import socket
import threading

DEFAULT_TIMEOUT = 2.0


def split_address(addr: str) -> str:
    """The host part of "127.0.0.1:80", "[::1]:80", "::1", "10.0.0.1" or "name:22"."""
    addr = addr.strip()
    if addr.startswith("["):
        host, _, _ = addr[1:].partition("]")
        return host
    try:
        ipaddress.ip_address(addr.split("%", 1)[0])
        return addr  # a bare IPv4 or IPv6 address; IPv6 has colons of its own
    except ValueError:
        pass
    host, sep, port = addr.rpartition(":")
    return host if sep and port.isdigit() and ":" not in host else addr


def get_host(addr: str, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The reverse-resolved name of ``addr``'s host, or its IP text when the
    lookup fails or takes longer than ``timeout`` seconds.

    getnameinfo() cannot be interrupted, so it runs in a daemon thread that is
    abandoned on timeout: a slow resolver never delays a login further.
    """
    host = split_address(addr)
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host  # already a name
    result: list[str | None] = [None]

    def lookup() -> None:
        try:
            name, _ = socket.getnameinfo((host, 0), socket.NI_NAMEREQD)
            result[0] = name
        except (OSError, UnicodeError):
            pass

    worker = threading.Thread(target=lookup, name="pam_pyutmp-get_host", daemon=True)
    worker.start()
    worker.join(timeout)
    return result[0] or host

"""Where utmp and wtmp records go: files (glibc) or the utmps daemons (musl).

A store does I/O only; which slot a session takes is :mod:`pam_pyutmp.slots`'
business, the same for every store.
"""

from __future__ import annotations

# os's C half, the very same functions: os itself would bring _collections_abc
# into every start of Python that runs a session.
import posix

from pam_pyutmp import system, utmpfile
from pam_pyutmp._typing import TYPE_CHECKING, Protocol
from pam_pyutmp.errors import InvalidFieldError
from pam_pyutmp.records import Record
from pam_pyutmp.system import DEFAULT_UTMP, DEFAULT_WTMP

if TYPE_CHECKING:
    from collections.abc import Iterator

BACKENDS = ("auto", "files", "utmps")
# Compiled into libutmps (./configure --with-utmpd-socket=...); Alpine keeps these.
DEFAULT_UTMPD_SOCKET = "/run/utmps/.utmpd-socket"
DEFAULT_WTMPD_SOCKET = "/run/utmps/.wtmpd-socket"
# Seconds a utmps call may take, connect to last byte: long enough for the
# daemon's fsync on a busy disk, short enough that a hung daemon does not
# hold up a login noticeably (libutmps' POSIX API would wait forever).
DEFAULT_UTMPS_TIMEOUT = 3.0


class UtmpStore(Protocol):
    @property
    def name(self) -> str:
        """The file or socket, for messages."""

    def read(self) -> list[Record]:
        """Every record, in slot order."""

    def put(self, record: Record) -> None:
        """Write the record over the slot with its ut_id, else into a new slot."""

    def login(self, record: Record, label: str, has_tty: bool) -> Record:
        """Write a new session's record into the slot :mod:`pam_pyutmp.slots`
        gives it (a tty-less one named after ``label`` when it needs one);
        return it as written.  Our other writers wait meanwhile."""

    def logout(self, record: Record, logout: Record) -> bool:
        """Write ``logout`` over ``record``'s slot if the slot still holds
        ``record``'s session; False, writing nothing, if not."""


class WtmpStore(Protocol):
    @property
    def name(self) -> str:
        """The file or socket, for messages."""

    def append(self, record: Record) -> None:
        """Append one whole record, or nothing."""

    def records(self) -> Iterator[Record]:
        """Every record, oldest first (what `last` reads); a torn tail is left out."""


class UtmpFile:
    def __init__(self, path: str) -> None:
        self.name = path

    def read(self) -> list[Record]:
        return utmpfile.read(self.name)

    def put(self, record: Record) -> None:
        utmpfile.put(self.name, record)

    def login(self, record: Record, label: str, has_tty: bool) -> Record:
        return utmpfile.login(self.name, record, label, has_tty)

    def logout(self, record: Record, logout: Record) -> bool:
        return utmpfile.logout(self.name, record, logout)


class WtmpFile:
    def __init__(self, path: str) -> None:
        self.name = path

    def append(self, record: Record) -> None:
        utmpfile.append_wtmp(self.name, record)

    def records(self) -> Iterator[Record]:
        return utmpfile.iter_wtmp(self.name)


# Whether a utmpd socket existed, by path, and when that was looked at.
_utmpd_seen: dict[str, tuple[float, bool]] = {}


def resolve_backend(backend: str, utmpd_socket: str | None) -> str:
    """"files" or "utmps"; "auto" is utmps exactly when the utmpd socket exists
    (looked at once per system.RECHECK_SECONDS)."""
    if backend not in BACKENDS:
        raise InvalidFieldError("backend", f"{backend!r} is none of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "utmps" if _utmpd_exists(utmpd_socket or DEFAULT_UTMPD_SOCKET) else "files"
    return backend


def _utmpd_exists(socket: str) -> bool:
    now = system._clock()
    seen = _utmpd_seen.get(socket)
    if seen is not None and system.fresh(seen[0], now):
        return seen[1]
    try:
        posix.stat(socket)
        exists = True
    except (OSError, ValueError):
        exists = False
    system.remember(_utmpd_seen, socket, (now, exists))
    return exists


def utmp_store(backend: str = "auto", path: str | None = None,
               utmpd_socket: str | None = None, timeout: float | None = None) -> UtmpStore:
    """``timeout``: seconds each utmps call may take (utmps only)."""
    if resolve_backend(backend, utmpd_socket) == "utmps":
        from pam_pyutmp.utmps import UtmpdClient

        return UtmpdClient(utmpd_socket or DEFAULT_UTMPD_SOCKET,
                           DEFAULT_UTMPS_TIMEOUT if timeout is None else timeout)
    return UtmpFile(path or DEFAULT_UTMP)


def wtmp_store(backend: str = "auto", path: str | None = None,
               wtmpd_socket: str | None = None, utmpd_socket: str | None = None,
               timeout: float | None = None) -> WtmpStore:
    if resolve_backend(backend, utmpd_socket) == "utmps":
        from pam_pyutmp.utmps import DEFAULT_WTMPD_FILE, WtmpdClient

        # ``path``: the daemon's wtmp file, which readers open themselves.
        return WtmpdClient(wtmpd_socket or DEFAULT_WTMPD_SOCKET,
                           DEFAULT_UTMPS_TIMEOUT if timeout is None else timeout,
                           path or DEFAULT_WTMPD_FILE)
    return WtmpFile(path or DEFAULT_WTMP)

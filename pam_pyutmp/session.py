"""A whole login session as a context manager, over the library API.

Apart from :mod:`pam_pyutmp.api` so that the PAM module, which imports the
API at every start of Python, does not import contextlib for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pam_pyutmp.api import PathArg, UtmpEntry, put_lastlog_entry, put_utmp, unput_utmp
from pam_pyutmp.fields import Text


@contextmanager
def login_session(
    user: Text,
    tty: Text | None = "",
    host: Text | None = "",
    *,
    service: str = "",
    utmp_path: PathArg = None,
    wtmp_path: PathArg = None,
    lastlog_path: PathArg = None,
    lastlog_entry: bool = True,
    backend: str = "auto",
    utmpd_socket: str | None = None,
    wtmpd_socket: str | None = None,
    utmps_timeout: float | None = None,
) -> Iterator[UtmpEntry]:
    """A whole session: login records on entry, logout records on exit
    (``backend`` and the rest as for :func:`put_utmp`)."""
    entry = put_utmp(user, tty, host, service=service, utmp_path=utmp_path, wtmp_path=wtmp_path,
                     backend=backend, utmpd_socket=utmpd_socket, wtmpd_socket=wtmpd_socket,
                     utmps_timeout=utmps_timeout)
    try:
        if lastlog_entry:
            put_lastlog_entry(service, user, entry.line, host, lastlog_path=lastlog_path)
        yield entry
    finally:
        unput_utmp(entry)

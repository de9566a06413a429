"""A client of skarnet's utmps daemons (utmps-utmpd, utmps-wtmpd)."""

from __future__ import annotations

import errno
from contextlib import AbstractContextManager, nullcontext

from pam_pyutmp.errors import UtmpError, WtmpError
from pam_pyutmp.records import Record


class UtmpdClient:
    def __init__(self, socket_path: str) -> None:
        self.name = socket_path

    def read(self) -> list[Record]:
        raise UtmpError(errno.ENOSYS, "the utmps backend is not available yet", self.name)

    def put(self, record: Record) -> None:
        raise UtmpError(errno.ENOSYS, "the utmps backend is not available yet", self.name)

    def exclusive(self) -> AbstractContextManager[None]:
        return nullcontext()


class WtmpdClient:
    def __init__(self, socket_path: str) -> None:
        self.name = socket_path

    def append(self, record: Record) -> None:
        raise WtmpError(errno.ENOSYS, "the utmps backend is not available yet", self.name)

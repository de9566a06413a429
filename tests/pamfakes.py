"""Stand-ins for the unit tests of the PAM boundary (pam_pyutmp.pam): a PAM handle
(items from a dict, conversation messages collected) and the log socket."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pam_pyutmp.pam import Items


@dataclass
class FakeHandle:
    values: dict[str, str | None]
    key: int = 1
    shown: list[str] = field(default_factory=list)

    def items(self) -> Items:
        return Items(*map(self.values.get, Items._fields))

    def info(self, text: str) -> None:
        self.shown.append(text)


def handle(key: int = 1, **items: str | None) -> FakeHandle:
    """Service "svc" and user "root" unless ``items`` say otherwise."""
    base: dict[str, str | None] = {"service": "svc", "user": "root"}
    base.update(items)
    return FakeHandle(base, key)


class LogSocket:
    """The /dev/log stand-in: every datagram, drained by a thread so that many writers at
    once never fill its queue; lines() gives all of them so far."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.05)
        self.received: list[str] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        while not self.done.is_set():
            with contextlib.suppress(TimeoutError):
                self.received.append(self.sock.recv(65536).decode("utf-8", "replace"))

    def lines(self) -> list[str]:
        self.done.set()
        self.thread.join()
        with contextlib.suppress(BlockingIOError):
            self.sock.setblocking(False)
            while True:
                self.received.append(self.sock.recv(65536).decode("utf-8", "replace"))
        return self.received

    def close(self) -> None:
        self.done.set()
        self.thread.join()
        self.sock.close()

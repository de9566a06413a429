"""A stand-in for a PAM handle, for the unit tests of the PAM boundary
(pam_pyutmp.pam): items from a dict, conversation messages collected."""

from __future__ import annotations

from dataclasses import dataclass, field

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

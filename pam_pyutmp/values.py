"""Value objects: instances that are equal, hash and print by their fields.

Records, lastlog entries, PAM items and the like are plain classes with a
typed ``__init__``; ``_fields`` names their fields in the order of its
arguments, and they are the class's ``__slots__``.  This base gives them what
they need of a tuple, and nothing else: typing, collections and dataclasses,
whose import costs every login's fresh interpreter milliseconds, stay out.
"""

from __future__ import annotations

from pam_pyutmp._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Self


class Value:
    """Base of a value class: ``_fields = (...)`` and ``__slots__ = _fields``."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Value) and other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join([f"{name}={getattr(self, name)!r}" for name in self._fields])
        return f"{self.__class__.__name__}({fields})"

    def _replace(self, **changes: Any) -> Self:
        """A copy with the fields named in ``changes`` set to their values there."""
        copy = object.__new__(self.__class__)
        for name in self._fields:
            setattr(copy, name, changes.pop(name, getattr(self, name)))
        if changes:
            raise TypeError(f"{self.__class__.__name__} has no field "
                            f"{', '.join(map(repr, changes))}")
        return copy

"""typing's NamedTuple and Protocol for the login path, without importing typing.

Every login starts Python and imports the session code (pam_python.so in every
PAM transaction, pam_pyutmp.so once per process), and ``import typing``, with
the re, enum and functools it imports, costs about 6 ms of that: more than the
session itself.  Type checkers see typing's own classes here.  At run time
``class X(NamedTuple)`` makes the collections.namedtuple class that
typing.NamedTuple makes (fields, defaults, methods, docstring), and Protocol is
a plain base class: nothing checks a protocol at run time.
"""

from __future__ import annotations

TYPE_CHECKING = False  # type checkers take it as true (mypy and others know the name)

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
    from typing import Protocol as Protocol
else:
    from collections import namedtuple

    class Protocol:
        __slots__ = ()

    # As typing.NamedTupleMeta: attributes that would break the tuple, and names
    # namedtuple sets itself.
    _PROHIBITED = frozenset({"__new__", "__init__", "__slots__", "__getnewargs__", "_fields",
                             "_field_defaults", "_make", "_replace", "_asdict", "_source"})
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _NamedTupleMeta(type):
        def __new__(cls, name, bases, namespace):
            annotations = namespace.get("__annotations__", {})
            fields = list(annotations)
            defaults = [namespace[field] for field in fields if field in namespace]
            # namedtuple gives defaults to the last fields: they must be those.
            if any(field not in namespace for field in fields[len(fields) - len(defaults):]):
                raise TypeError(f"{name}: a field without a default follows one with a default")
            made = namedtuple(name, fields, defaults=defaults, module=namespace["__module__"])
            made.__annotations__ = dict(annotations)
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in made._fields:
                    setattr(made, key, value)
            return made

    _NamedTupleBase = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})

    def NamedTuple(typename, fields=None, /, **kwargs):
        raise TypeError("pam_pyutmp._typing.NamedTuple has the class form only")

    # ``class X(NamedTuple)`` puts this base in its place, as typing does.
    NamedTuple.__mro_entries__ = lambda bases: (_NamedTupleBase,)

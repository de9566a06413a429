"""typing's NamedTuple and Protocol for the login path, without importing typing.

Every login starts Python and imports the session code (pam_python.so in every
PAM transaction, pam_pyutmp.so once per process), and ``import typing``, with
the re, enum and functools it imports, costs about 6 ms of that: more than the
session itself; ``import collections`` costs another 2 ms.  Type checkers see
typing's own classes here.  At run time ``class X(NamedTuple)`` makes the class
collections.namedtuple makes for typing.NamedTuple (fields, defaults, methods,
docstring), built here from the same C field accessor, and Protocol is a plain
base class: nothing checks a protocol at run time.
"""

from __future__ import annotations

TYPE_CHECKING = False  # type checkers take it as true (mypy and others know the name)

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
    from typing import Protocol as Protocol
else:
    # The C accessor namedtuple gives each field; a built-in module, so free to import.
    from _collections import _tuplegetter

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
            made = _namedtuple(name, fields, defaults, namespace["__module__"])
            made.__annotations__ = dict(annotations)
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in made._fields:
                    setattr(made, key, value)
            return made

    def _namedtuple(name, fields, defaults, module):
        """The class ``collections.namedtuple(name, fields, defaults=defaults,
        module=module)`` makes, with the same methods."""
        fields = tuple(fields)
        for field in fields:
            if not field.isidentifier() or field.startswith("_"):
                raise ValueError(f"{name}: {field!r} cannot be a field name")
        args = ", ".join(fields)
        # As namedtuple: __new__ with the fields as its parameters, so calls bind
        # at C speed and a missing or extra argument is a TypeError.
        new = eval(f"lambda _cls, {args}: _tuple_new(_cls, ({args}{',' if fields else ''}))",
                   {"_tuple_new": tuple.__new__, "__builtins__": {}})
        new.__name__ = "__new__"
        new.__defaults__ = tuple(defaults) or None
        new.__doc__ = f"Create new instance of {name}({args})"
        count = len(fields)
        repr_format = "(" + ", ".join(f"{field}=%r" for field in fields) + ")"

        def _make(cls, iterable):
            result = tuple.__new__(cls, iterable)
            if len(result) != count:
                raise TypeError(f"Expected {count} arguments, got {len(result)}")
            return result

        def _replace(self, /, **changes):
            result = self._make(map(changes.pop, fields, self))
            if changes:
                raise ValueError(f"Got unexpected field names: {list(changes)!r}")
            return result

        def __repr__(self):
            return self.__class__.__name__ + repr_format % self

        def _asdict(self):
            return dict(zip(self._fields, self))

        def __getnewargs__(self):
            return tuple(self)

        body = {"__doc__": f"{name}({args})", "__slots__": (), "_fields": fields,
                "_field_defaults": dict(zip(fields[count - len(defaults):], defaults)),
                "__new__": staticmethod(new), "_make": classmethod(_make),
                "_replace": _replace, "__repr__": __repr__, "_asdict": _asdict,
                "__getnewargs__": __getnewargs__, "__match_args__": fields,
                "__module__": module}
        for method in (new, _make, _replace, __repr__, _asdict, __getnewargs__):
            method.__qualname__ = f"{name}.{method.__name__}"
        for index, field in enumerate(fields):
            body[field] = _tuplegetter(index, f"Alias for field number {index}")
        return type(name, (tuple,), body)

    _NamedTupleBase = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})

    def NamedTuple(typename, fields=None, /, **kwargs):
        raise TypeError("pam_pyutmp._typing.NamedTuple has the class form only")

    # ``class X(NamedTuple)`` puts this base in its place, as typing does.
    NamedTuple.__mro_entries__ = lambda bases: (_NamedTupleBase,)

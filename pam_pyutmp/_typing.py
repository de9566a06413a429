"""typing's TYPE_CHECKING and Protocol for the login path, without importing typing.

Every login starts Python and imports the session code (pam_pyutmp.so once per
process: a one-shot su pays it at every login), and ``import typing``, with
the re, enum and functools it imports, costs about 6 ms of that: more than the
session itself.  Type checkers see typing's own Protocol here; at run time it
is a plain base class, as nothing checks a protocol at run time.  The value
classes of the login path are plain classes too (:mod:`pam_pyutmp.values`).
"""

from __future__ import annotations

TYPE_CHECKING = False  # type checkers take it as true (mypy and others know the name)

if TYPE_CHECKING:
    from typing import Protocol as Protocol
else:
    class Protocol:
        __slots__ = ()

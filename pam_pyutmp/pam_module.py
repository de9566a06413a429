"""The pam_sm_* interface of pam_python.so, over the session code.

    session optional pam_python.so /path/to/pam_module.py [options]

install.sh does not install or use it: pam_python.so finds its Python through
the caller's PATH, so a user running su could make it run their own code as
root (README, "Why not pam_python.so").  It stays for the tests that show that,
and as the pam_python-style face of the module.  Only the adapter from
pam_python's handle lives here; the work is in :mod:`pam_pyutmp.pam`.
"""

from __future__ import annotations

import os
import sys

try:
    from pam_pyutmp.pam import PAM_IGNORE, Items, close_session, open_session
except ModuleNotFoundError as err:
    # pam_python.so's interpreter derives sys.prefix from PATH: login clears
    # the environment, the prefix becomes "/" (/lib is /usr/lib) and Debian's
    # site module then leaves /usr/local/lib/python3.X/dist-packages, where
    # install.sh puts this package, off sys.path.  The site directories of
    # /usr, the prefix of the /usr/bin/python3 that pam_python.so embeds, go back.
    if err.name != "pam_pyutmp":
        raise
    import site

    sys.path.extend(path for path in site.getsitepackages(["/usr"])
                    if path not in sys.path and os.path.isdir(path))
    from pam_pyutmp.pam import PAM_IGNORE, Items, close_session, open_session

from pam_pyutmp._typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing itself costs every session's fresh interpreter milliseconds
    from typing import Any


class PamPythonHandle:
    """pam_python's ``pamh`` seen as a :class:`pam_pyutmp.pam.Handle`."""

    def __init__(self, pamh: Any) -> None:
        self._pamh = pamh
        self._items: Items | None = None

    @property
    def key(self) -> int:
        return int(self._pamh.pamh)

    def items(self) -> Items:
        if self._items is None:
            self._items = Items(*map(self._item, Items._fields))
        return self._items

    def _item(self, name: str) -> str | None:
        try:
            value = getattr(self._pamh, name)
        except UnicodeDecodeError:
            # pam_python decodes items with UTF-8 and raises on other bytes: the
            # raw value comes from libpam itself, as pam_pyutmp.so reads it.
            from pam_pyutmp.native import NativeHandle

            return getattr(NativeHandle(self.key).items(), name)  # type: ignore[no-any-return]
        return value if isinstance(value, str) else None

    def info(self, text: str) -> None:
        try:  # noqa: SIM105 - contextlib would cost every session's interpreter its import
            self._pamh.conversation(self._pamh.Message(self._pamh.PAM_TEXT_INFO, text))
        except Exception:  # a host without a conversation function is fine
            pass


def pam_sm_open_session(pamh: Any, flags: int, argv: list[str]) -> int:
    return open_session(PamPythonHandle(pamh), flags, argv[1:])


def pam_sm_close_session(pamh: Any, flags: int, argv: list[str]) -> int:
    return close_session(PamPythonHandle(pamh), flags, argv[1:])


def pam_sm_authenticate(pamh: Any, flags: int, argv: list[str]) -> int:
    return PAM_IGNORE


def pam_sm_setcred(pamh: Any, flags: int, argv: list[str]) -> int:
    return PAM_IGNORE


def pam_sm_acct_mgmt(pamh: Any, flags: int, argv: list[str]) -> int:
    return PAM_IGNORE


def pam_sm_chauthtok(pamh: Any, flags: int, argv: list[str]) -> int:
    return PAM_IGNORE

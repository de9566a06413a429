"""The file pam_python.so loads: install.sh copies it to a fixed path.

    session optional pam_python.so /usr/local/lib/security/pam_pyutmp.py [options]

Only the adapter from pam_python's handle lives here; the work is in
:mod:`pam_pyutmp.pam`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

try:
    from pam_pyutmp.pam import PAM_IGNORE, close_session, open_session
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
    from pam_pyutmp.pam import PAM_IGNORE, close_session, open_session

# pam_python's item attributes decode with UTF-8 and raise on other bytes;
# libpam's own pam_get_item then gives the raw value.
_ITEM_NUMBERS = {"service": 1, "user": 2, "tty": 3, "rhost": 4, "xdisplay": 11}


class PamPythonHandle:
    """pam_python's ``pamh`` seen as a :class:`pam_pyutmp.pam.Handle`."""

    def __init__(self, pamh: Any) -> None:
        self._pamh = pamh

    @property
    def key(self) -> int:
        return int(self._pamh.pamh)

    def item(self, name: str) -> str | None:
        try:
            value = getattr(self._pamh, name)
        except UnicodeDecodeError:
            return _raw_item(int(self._pamh.pamh), _ITEM_NUMBERS[name])
        return value if isinstance(value, str) else None

    def info(self, text: str) -> None:
        with contextlib.suppress(Exception):
            self._pamh.conversation(self._pamh.Message(self._pamh.PAM_TEXT_INFO, text))


def _raw_item(handle: int, number: int) -> str | None:
    import ctypes  # only for the rare non-UTF-8 item

    libpam = ctypes.CDLL("libpam.so.0")
    value = ctypes.c_void_p()
    if libpam.pam_get_item(ctypes.c_void_p(handle), number, ctypes.byref(value)) != 0:
        return None
    if not value.value:
        return None
    return ctypes.string_at(value.value).decode("utf-8", "surrogateescape")


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

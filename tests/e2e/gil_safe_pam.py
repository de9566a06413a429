"""python-pam with libpam loaded through ``ctypes.PyDLL``.

python-pam binds libpam with ``ctypes.CDLL``, which releases the GIL for the
call; pam_python.so then calls into Python without it and the process
crashes.  Rebinding the same functions from a ``PyDLL`` keeps the GIL held,
and pam_python then runs the module inside the calling interpreter.
"""

from __future__ import annotations

import ctypes
import ctypes.util

from pam.__internals import PamAuthenticator

LIBPAM_FUNCTIONS = (
    "pam_start", "pam_end", "pam_authenticate", "pam_acct_mgmt", "pam_setcred",
    "pam_open_session", "pam_close_session", "pam_set_item", "pam_strerror",
    "pam_putenv", "pam_getenv", "pam_getenvlist",
)


def hold_gil_in_libpam() -> None:
    """Make every PamAuthenticator created from now on call libpam with the GIL held."""
    PamAuthenticator._ensure_libs()
    libpam = ctypes.PyDLL(ctypes.util.find_library("pam"))
    for name in LIBPAM_FUNCTIONS:
        released = getattr(PamAuthenticator, name)
        held = getattr(libpam, name)
        held.restype = released.restype
        held.argtypes = released.argtypes
        setattr(PamAuthenticator, name, held)

"""The Python side of pam_pyutmp.so, the PAM module that needs no pam_python.so.

pam_pyutmp.so (csrc/pam_pyutmp_loader.c) starts Python once per process and
calls :func:`open_session` and :func:`close_session` with libpam's raw handle,
flags and argv, as integers.  Here they become a :class:`pam_pyutmp.pam.Handle`
over libpam's own calls (through the cffi core), and the session code is the
very code pam_python.so runs.

As Python outlives each PAM transaction here, the end of one is reported to
:func:`pam_pyutmp.pam.transaction_ended` by a pam_set_data cleanup, which libpam
runs at pam_end.
"""

from __future__ import annotations

from pam_pyutmp import pam
from pam_pyutmp._core import ffi, lib
from pam_pyutmp.syslogger import LOG_ERR, log

# The types of the items pam.Items holds, in its order.
_ITEM_TYPES = ffi.new("int[]", [lib.PAM_SERVICE, lib.PAM_USER, lib.PAM_TTY, lib.PAM_RHOST,
                                lib.PAM_XDISPLAY])
# The key of our pam_set_data entry; the data is the handle itself.
_DATA_NAME = b"pam_pyutmp.native.session"


def _text(data: bytes) -> str:
    # As the pam_python.so path: UTF-8, and any other byte kept as a surrogate.
    return data.decode("utf-8", "surrogateescape")


class NativeHandle:
    """A raw ``pam_handle_t *`` seen as a :class:`pam_pyutmp.pam.Handle`."""

    __slots__ = ("_items", "_pamh", "key")

    def __init__(self, address: int) -> None:
        self.key = address
        self._pamh = ffi.cast("pam_handle_t *", address)
        self._items: pam.Items | None = None

    def items(self) -> pam.Items:
        if self._items is None:
            values = ffi.new("const char *[]", len(pam.Items._fields))
            lib.pyutmp_pam_items(self._pamh, _ITEM_TYPES, len(values), values)
            self._items = pam.Items(*[None if value == ffi.NULL else _text(ffi.string(value))
                                      for value in values])
        return self._items

    def info(self, text: str) -> None:
        # The text goes as an argument of "%s": it is no format.  A failed
        # conversation costs the message only, as with pam_python.so.
        message = ffi.new("char[]", text.encode("utf-8", "surrogateescape"))
        lib.pam_prompt(self._pamh, lib.PAM_TEXT_INFO, ffi.NULL, b"%s", message)

    def watch_end(self) -> None:
        """Have libpam report the end of this transaction (pam_end)."""
        lib.pam_set_data(self._pamh, _DATA_NAME, self._pamh, lib.pyutmp_session_ended)


def _args(argc: int, argv: int) -> list[str]:
    words = ffi.cast("char **", argv)
    return [_text(ffi.string(words[n])) for n in range(argc)]


def open_session(pamh: int, flags: int, argc: int, argv: int) -> int:
    """pam_sm_open_session of pam_pyutmp.so."""
    handle = NativeHandle(pamh)
    status = pam.open_session(handle, flags, _args(argc, argv))
    handle.watch_end()
    return status


def close_session(pamh: int, flags: int, argc: int, argv: int) -> int:
    """pam_sm_close_session of pam_pyutmp.so."""
    return pam.close_session(NativeHandle(pamh), flags, _args(argc, argv))


def auth_failed(pamh: int, flags: int, argc: int, argv: int) -> int:
    """pam_sm_authenticate of pam_pyutmp.so on an "authfail" line: the stack
    reached it because authentication failed."""
    return pam.auth_failed(NativeHandle(pamh), flags, _args(argc, argv))


def _session_ended(pamh: object, data: object, error_status: int) -> None:
    # Called by pam_end, and by a second pam_set_data of ours (a second
    # open_session in one transaction), which only replaces the data.
    if not error_status & lib.PAM_DATA_REPLACE:
        pam.transaction_ended(int(ffi.cast("uintptr_t", pamh)))


def _callback_failed(kind: object, error: BaseException | None, traceback: object) -> None:
    # cffi would print the traceback to the host's stderr.
    log(LOG_ERR, f"pam_end cleanup: internal error {type(error).__name__}: {error}")


ffi.def_extern(name="pyutmp_session_ended", onerror=_callback_failed)(_session_ended)

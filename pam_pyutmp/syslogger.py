"""One syslog line per event, facility authpriv, ident pam_pyutmp.

Written straight to the log socket rather than through openlog(3): openlog
would change the ident of every later line the host program (sshd, su) logs.
"""

from __future__ import annotations

import os
import socket
import time

from pam_pyutmp.fields import CONTROLS

LOG_AUTHPRIV = 10 << 3
LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG = 3, 4, 5, 6, 7
IDENT = "pam_pyutmp"
SOCKET_PATH = "/dev/log"

_ESCAPED = {ord(char): f"\\x{ord(char):02x}" for char in CONTROLS}


def escape(text: str) -> str:
    """Control characters, and bytes that were not UTF-8 (surrogate-escaped),
    as \\xNN: a log line must not carry terminal escapes or invalid text."""
    text = text.translate(_ESCAPED)
    if not text.isprintable() and any("\udc80" <= char <= "\udcff" for char in text):
        text = "".join(f"\\x{ord(char) - 0xDC00:02x}" if "\udc80" <= char <= "\udcff" else char
                       for char in text)
    return text


def fields(**values: object) -> str:
    """``key=value`` pairs for log shippers; values with spaces or quotes are quoted."""
    out = []
    for key, value in values.items():
        text = escape("" if value is None else str(value))
        if not text or any(char.isspace() or char in '"=' for char in text):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out.append(f"{key}={text}")
    return " ".join(out)


def log(priority: int, message: str) -> None:
    """Send one line; a missing or full log socket never fails a login."""
    stamp = time.strftime("%b %e %H:%M:%S")
    data = f"<{LOG_AUTHPRIV | priority}>{stamp} {IDENT}[{os.getpid()}]: {escape(message)}"
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        try:
            with socket.socket(socket.AF_UNIX, kind | socket.SOCK_CLOEXEC) as sock:
                sock.settimeout(0.5)
                sock.connect(SOCKET_PATH)
                sock.sendall(data.encode("utf-8", "backslashreplace") + (
                    b"\0" if kind == socket.SOCK_STREAM else b""))
                return
        except OSError:
            continue

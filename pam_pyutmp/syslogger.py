"""One syslog line per event, facility authpriv, ident pam_pyutmp.

Written straight to the log socket rather than through openlog(3): openlog
would change the ident of every later line the host program (sshd, su) logs.
"""

from __future__ import annotations

import os
import re
import socket
import time

LOG_AUTHPRIV = 10 << 3
LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG = 3, 4, 5, 6, 7
IDENT = "pam_pyutmp"
SOCKET_PATH = "/dev/log"

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape(text: str) -> str:
    """Control characters as \\xNN: a log line must not carry terminal escapes."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def fields(**values: object) -> str:
    """``key=value`` pairs for log shippers; values with spaces or quotes are quoted."""
    out = []
    for key, value in values.items():
        text = escape("" if value is None else str(value))
        if not text or re.search(r'[\s"=]', text):
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
                sock.sendall(data.encode("utf-8", "surrogateescape") + (
                    b"\0" if kind == socket.SOCK_STREAM else b""))
                return
        except OSError:
            continue

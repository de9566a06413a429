"""The events in a real systemd journal: systemd-journald runs as a plain process in the
sandbox (its own /run), pamtester drives real libpam, and journalctl reads the fields
back, as a collector of the fleet would."""

from __future__ import annotations

import json
import os

import pytest

from pam_pyutmp import syslogger

from .sandbox import Sandbox

JOURNALD = "/lib/systemd/systemd-journald"

# journald in the background, the PAM steps, then every record of ours as JSON lines.
SCRIPT = """
{journald} & journald=$!
for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
{steps}
kill $journald; wait $journald
journalctl -D /run/log/journal -o json SYSLOG_IDENTIFIER=pam_pyutmp
"""

STEPS = ("pamtester -I rhost=192.0.2.9 svc root open_session close_session\n"
         "pamtester -I rhost=198.51.100.3 svc root authenticate || true")

# The stack: a session line, and an authfail line that a failed authentication reaches.
STACK = "auth required pam_deny.so\nauth [default=ignore] {module} authfail\n"


@pytest.mark.skipif(not os.access(JOURNALD, os.X_OK), reason="systemd-journald is not installed")
def test_journalctl_reads_each_event_with_its_id_and_fields(sandbox: Sandbox) -> None:
    """A session opened and closed and a failed authentication: three records, each with
    its MESSAGE_ID and the PYUTMP_ fields, and the same text as the syslog line."""
    module = str(sandbox.native_module)
    sandbox.service("svc", STACK.format(module=module) + sandbox.module_line())
    done = sandbox.run(["bash", "-c", SCRIPT.format(journald=JOURNALD, steps=STEPS)],
                       timeout=60)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    events = [r for r in records if "MESSAGE_ID" in r]

    assert [(r["MESSAGE_ID"], r["PYUTMP_EVENT"]) for r in events] == [
        (syslogger.MESSAGE_IDS[kind], kind)
        for kind in ("session-opened", "session-closed", "login-failed")]
    opened, closed, failed = events
    assert {key: opened[key] for key in ("PYUTMP_USER", "PYUTMP_UID", "PYUTMP_SERVICE",
                                         "PYUTMP_LINE", "PYUTMP_HOST", "PYUTMP_BACKEND",
                                         "PYUTMP_OUTCOME", "SYSLOG_FACILITY", "PRIORITY")} == {
        "PYUTMP_USER": "root", "PYUTMP_UID": "0", "PYUTMP_SERVICE": "svc",
        "PYUTMP_LINE": "svc/0", "PYUTMP_HOST": "192.0.2.9", "PYUTMP_BACKEND": "files",
        "PYUTMP_OUTCOME": "ok", "SYSLOG_FACILITY": "10", "PRIORITY": "6"}
    assert opened["MESSAGE"].startswith("session opened: service=svc user=root ")
    assert closed["PYUTMP_LINE"] == "svc/0" and closed["_TRANSPORT"] == "journal"
    assert (failed["PYUTMP_USER"], failed["PYUTMP_HOST"], failed["PRIORITY"]) == (
        "root", "198.51.100.3", "5")

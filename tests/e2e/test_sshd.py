"""Real OpenSSH sshd (UsePAM yes) inside the sandbox, on 127.0.0.1 at a free
port, key authentication only, with pam_pyutmp in /etc/pam.d/sshd.

sshd writes its own utmp/wtmp entry for the pty it allocates; PAM_TTY is
"ssh" when the session opens, so the module's entry takes a tty-less slot."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import stockreaders

from .sandbox import (
    DEAD_PROCESS,
    USER_PROCESS,
    Dumped,
    Sandbox,
    User,
    closed,
    dump,
    last_sessions,
    parse_dump,
    wait_for,
)

SSHD = "/usr/sbin/sshd"
PAM_SSHD = ("auth required pam_deny.so\naccount required pam_permit.so\n"
            "password required pam_deny.so\nsession required pam_permit.so\n")
# sshd as a service manager starts it: a plain environment.
SERVICE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "LANG": "C.UTF-8"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc: each process's parent)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(text.rsplit(")", 1)[1].split()[1])
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent]
        found += kids
        todo += kids
    return found


def running(pid: int) -> bool:
    """Not gone and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class SshServer:
    box: Sandbox
    user: User
    key: Path
    port: int = 0
    process: subprocess.Popen[str] | None = None
    more_config: str = ""  # lines added to the test's sshd_config

    def start(self, module_options: str | None) -> None:
        """/etc/pam.d/sshd with the module (None: as the test wrote it), then
        sshd -D -e, listening."""
        if module_options is not None:
            self.box.service("sshd", PAM_SSHD + self.box.module_line(module_options))
        for _attempt in range(3):  # another process may take the free port first
            self.port = free_port()
            config = self.box.root / "ssh" / "sshd_config"
            config.write_text(sshd_config(self.box.root / "ssh", self.port, self.user.name)
                              + self.more_config)
            log = self.box.root / "sshd.log"
            with log.open("w") as out:
                self.process = self.box.popen([SSHD, "-D", "-e", "-f", str(config)],
                                              stdout=out, stderr=subprocess.STDOUT,
                                              env=SERVICE_ENV)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and self.process.poll() is None:
                if "Server listening on" in log.read_text():
                    return
                time.sleep(0.05)
            self.stop()
            if "Address already in use" not in log.read_text():
                break
        pytest.fail(f"sshd did not start: {log.read_text()}")

    def ssh_argv(self) -> list[str]:
        """The client: the test user's key only, no config, no known hosts kept."""
        return ["ssh", "-F", "/dev/null", "-tt", "-i", str(self.key), "-p", str(self.port),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
                "-o", "ConnectTimeout=10", f"{self.user.name}@127.0.0.1"]

    @staticmethod
    def client_env() -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if not k.startswith("SSH_")}

    def ssh(self, command: str) -> str:
        """Run ``command`` on a pty over ssh as the test user; its output."""
        done = subprocess.run([*self.ssh_argv(), command], capture_output=True, text=True,
                              timeout=30, env=self.client_env(), stdin=subprocess.DEVNULL)
        assert done.returncode == 0, (done.stdout, done.stderr, self.log())
        return done.stdout.replace("\r", "")

    def wait_logged_out(self) -> list[Dumped]:
        """utmp once no session is live: sshd closes the session after the client has gone."""
        wait_for("the ssh session to close",
                 lambda: all(r.type != USER_PROCESS for r in dump(self.box, "/var/run/utmp")))
        return dump(self.box, "/var/run/utmp")

    def log(self) -> str:
        path = self.box.root / "sshd.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        """Stop sshd and whatever it started (nsexec passes SIGTERM on to sshd)."""
        if self.process is None:
            return
        leftovers = children(self.process.pid)
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        # A connection's processes end on their own once the client has gone.
        deadline = time.monotonic() + 5
        while any(running(pid) for pid in leftovers) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in leftovers:
            if running(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.process = None


def sshd_config(directory: Path, port: int, user: str) -> str:
    return f"""\
ListenAddress 127.0.0.1:{port}
HostKey {directory}/host_key
PidFile none
UsePAM yes
StrictModes no
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers {user}
PermitRootLogin no
AuthorizedKeysFile /home/%u/.ssh/authorized_keys
UseDNS no
PrintMotd no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
LogLevel VERBOSE
"""


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[SshServer]:
    """A test user whose authorized key is a fresh client key, a throwaway host
    key and the privilege separation directory: sshd is started by the test."""
    user = sandbox.add_user("pyutest")
    keys = sandbox.root / "ssh"
    keys.mkdir()
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name,
                        "-f", str(keys / name)], check=True, timeout=30)
    dot_ssh = user.home_dir / ".ssh"
    dot_ssh.mkdir()
    (dot_ssh / "authorized_keys").write_text((keys / "client_key.pub").read_text())
    for path in (dot_ssh, dot_ssh / "authorized_keys"):
        os.chown(path, user.uid, user.gid)
    (sandbox.root / "run" / "sshd").mkdir(mode=0o755)
    ssh_server = SshServer(sandbox, user, keys / "client_key")
    try:
        yield ssh_server
    finally:
        ssh_server.stop()


def listed(who: str) -> list[list[str]]:
    """`who` lines as [user, line, host in parentheses]."""
    return [[line.split()[0], line.split()[1], line.split()[-1]]
            for line in who.splitlines() if line.strip()]


def test_skip_if_sshd_leaves_only_sshds_own_records(server: SshServer) -> None:
    """With skip_if=sshd the module, loaded and run by sshd, writes nothing: who in the session
    lists sshd's pty entry alone, and utmp and wtmp hold sshd's records only."""
    server.start("skip_if=sshd debug")
    who = server.ssh("who /run/utmp")
    utmp = server.wait_logged_out()

    assert len(listed(who)) == 1, who
    user, line, host = listed(who)[0]
    assert (user, host) == (server.user.name, "(127.0.0.1)") and line.startswith("pts/"), who
    assert [(r.type, r.line) for r in utmp] == [(DEAD_PROCESS, line)], utmp
    wtmp = dump(server.box, "/var/log/wtmp")
    assert [(r.type, r.line) for r in wtmp] == [(USER_PROCESS, line), (DEAD_PROCESS, line)]
    ours = server.box.our_syslog()
    assert any("skipped for this service" in entry and "service=sshd" in entry
               for entry in ours), server.box.syslog()
    assert not [entry for entry in ours if "session opened" in entry]
    sessions = last_sessions(server.box)
    assert [s[:2] for s in sessions] == [[server.user.name, line]] and closed(sessions[0])


def test_module_slot_for_ssh_beside_sshds_pty_entry_both_closed(server: SshServer) -> None:
    """Without skip_if the module's entry for PAM_TTY "ssh" (line "sshd/0", id "P000") sits beside
    sshd's own pts entry without touching it; after logout both are closed and last pairs each."""
    server.start("")
    dumper = shlex.join(stockreaders.command(["utmpdump", "/var/run/utmp"]))
    output = server.ssh(f"who /run/utmp; echo ----; {dumper} 2>/dev/null")
    utmp = server.wait_logged_out()

    who, live_dump = output.split("----\n")
    seen = listed(who)
    assert len(seen) == 2, who
    ours, theirs = sorted(seen, key=lambda entry: entry[1] != "sshd/0")
    assert ours == [server.user.name, "sshd/0", "(127.0.0.1)"], who
    pts = theirs[1]
    assert theirs == [server.user.name, pts, "(127.0.0.1)"] and pts.startswith("pts/"), who
    live = parse_dump(live_dump)
    assert sorted((r.type, r.id, r.line, r.user) for r in live) == sorted(
        [(USER_PROCESS, "P000", "sshd/0", server.user.name),  # the module's
         (USER_PROCESS, pts[-4:], pts, server.user.name)]), live  # sshd's

    assert sorted((r.type, r.id, r.line) for r in utmp) == sorted(
        [(DEAD_PROCESS, "P000", "sshd/0"), (DEAD_PROCESS, pts[-4:], pts)]), utmp
    wtmp = dump(server.box, "/var/log/wtmp")
    for line in ("sshd/0", pts):
        assert [r.type for r in wtmp if r.line == line] == [USER_PROCESS, DEAD_PROCESS], wtmp
    sessions = last_sessions(server.box)
    assert sorted(s[:3] for s in sessions) == sorted(
        [[server.user.name, "sshd/0", "127.0.0.1"], [server.user.name, pts, "127.0.0.1"]])
    assert all(closed(s) for s in sessions), sessions
    ours = server.box.our_syslog()
    opened = [entry for entry in ours if "session opened" in entry]
    assert len(opened) == 1 and "tty=ssh " in opened[0] and "line=sshd/0 id=P000" in opened[0]
    assert sum("session closed" in entry and "id=P000" in entry for entry in ours) == 1, ours


def test_two_ssh_sessions_at_once_get_slots_of_their_own(server: SshServer) -> None:
    """Two ssh sessions open at once get the module slots "sshd/0" and "sshd/1" beside sshd's two
    pty entries, so who lists four sessions and last pairs all four."""
    server.start("")
    go = server.user.home_dir / "go"
    # The first session stays open (at most 20 s) until the second has looked.
    first = subprocess.Popen(
        [*server.ssh_argv(), "who /run/utmp; i=0; while [ ! -e ~/go ] && [ $i -lt 400 ]; "
                             "do sleep 0.05; i=$((i+1)); done"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=server.client_env())
    try:
        wait_for("the first session", lambda: sum(
            r.type == USER_PROCESS for r in dump(server.box, "/var/run/utmp")) == 2)
        who = server.ssh(f"who /run/utmp; touch {go.name}")
        first_out, first_err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=10)
    assert first.returncode == 0, (first_out, first_err)
    server.wait_logged_out()

    lines = sorted(entry[1] for entry in listed(who))
    assert len(lines) == 4 and len(set(lines)) == 4, who
    assert lines[2:] == ["sshd/0", "sshd/1"] and all(x.startswith("pts/") for x in lines[:2])
    sessions = last_sessions(server.box)
    assert sorted(s[1] for s in sessions) == lines, sessions
    assert all(closed(s) for s in sessions), sessions

"""A fresh-machine view for end-to-end tests: private /etc/pam.d, /run,
/var/log and /dev/log, and optionally users of its own (/etc/passwd, shadow,
group, gshadow and /home), in a mount namespace of their own (see nsexec.py)."""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import stockreaders
from stockreaders import READER_ENV

import pam_pyutmp.pam_module

from .nsexec import PAM_AUTH_UPDATE_DIRS, STATE_DIRS

NSEXEC = Path(__file__).with_name("nsexec.py")
PTYDRIVE = Path(__file__).with_name("ptydrive.py")
MODULE = pam_pyutmp.pam_module.__file__  # the file pam_python.so would load
SYSTEM_PYTHON = "/usr/bin/python3"
REPO = Path(__file__).resolve().parents[2]
BUILD_LOADER = REPO / "csrc" / "build_loader.py"
HOST_SOURCE = Path(__file__).with_name("pam_host.c")
# How the module line loads the session code: pam_pyutmp.so (the module of
# csrc/pam_pyutmp_loader.c, by path), or pam_python.so with the module file, for
# the tests that show why the project does not use it.
LOADERS = ("pam_python", "native")
ACCOUNT_FILES = ("passwd", "shadow", "group", "gshadow")
# The pam-auth-update profiles install.sh --enable system enables (sessions, failed
# logins), and the module path in them.
PROFILE_DIR = REPO / "pam.d" / "pam-configs"
PROFILES = ("pyutmp", "pyutmp-authfail")
INSTALLED_MODULE = "/usr/local/lib/security/pam_pyutmp.so"
INCLUDE_LINE = "session include pyutmp"  # what `install.sh --enable SERVICE` adds


@dataclass(frozen=True)
class User:
    """A user that exists only inside one sandbox."""

    name: str
    uid: int
    gid: int
    home: str  # as the sandbox sees it: /home/NAME
    home_dir: Path  # the same directory from outside


def _ids_in_use(path: Path, field: int) -> set[int]:
    ids = set()
    for line in path.read_text().splitlines():
        parts = line.split(":")
        if len(parts) > field and parts[field].isdigit():
            ids.add(int(parts[field]))
    return ids


def password_hash(password: str) -> str:
    """``password`` hashed for a shadow entry (SHA-512 crypt) by libcrypt, the library
    pam_unix checks it with: Python 3.13 has no crypt module."""
    libcrypt = ctypes.CDLL("libcrypt.so.1")
    libcrypt.crypt.restype = ctypes.c_char_p
    libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    hashed: bytes | None = libcrypt.crypt(password.encode(), b"$6$pyutmp.test$")
    assert hashed and hashed.startswith(b"$6$"), hashed
    return hashed.decode()


def build_native_module(output: Path, *extra: str) -> Path:
    """pam_pyutmp.so built from this tree for the system interpreter and the
    installed package (csrc/build_loader.py; ``extra`` are its options)."""
    done = subprocess.run([SYSTEM_PYTHON, str(BUILD_LOADER), str(output), "--werror", *extra],
                          capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr
    return output


def build_host(output: Path, *extra: str) -> Path:
    """tests/e2e/pam_host.c built into ``output`` (``extra``: more compiler options)."""
    done = subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", *extra,
                           str(HOST_SOURCE), "-o", str(output), "-lpam", "-lpthread"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return output


@dataclass
class Sandbox:
    root: Path
    loader: str = "native"  # one of LOADERS
    native_module: Path | None = None  # pam_pyutmp.so, for the native loader

    @property
    def utmp(self) -> Path:
        return self.root / "run" / "utmp"

    @property
    def wtmp(self) -> Path:
        return self.root / "log" / "wtmp"

    @property
    def lastlog(self) -> Path:
        return self.root / "log" / "lastlog"

    @property
    def btmp(self) -> Path:
        return self.root / "log" / "btmp"

    @classmethod
    def create(cls, root: Path, loader: str = "native",
               native_module: Path | None = None) -> Sandbox:
        assert loader in LOADERS and (loader != "native" or native_module is not None)
        for name in ("pam.d", "run", "log"):
            (root / name).mkdir(parents=True, exist_ok=True)
        box = cls(root, loader, native_module)
        for name in STATE_DIRS:  # private wtmpdb and lastlog2 directories (nsexec.py)
            (root / "lib" / name).mkdir(parents=True, exist_ok=True)
        # Debian 13 keeps wtmp.db in /var/log and links /var/lib/wtmpdb/wtmp.db to it.
        link = Path("/var/lib/wtmpdb/wtmp.db")
        if link.is_symlink():
            (root / "lib" / "wtmpdb" / "wtmp.db").symlink_to(os.readlink(link))
        # As on a booted Debian: empty utmp/wtmp, no lastlog yet.
        box.utmp.touch()
        box.wtmp.touch()
        box.service("other", "auth required pam_deny.so\naccount required pam_deny.so\n"
                             "password required pam_deny.so\nsession required pam_deny.so\n")
        return box

    def service(self, name: str, text: str) -> None:
        """Write /etc/pam.d/NAME as the sandbox sees it."""
        (self.root / "pam.d" / name).write_text(text)

    def module_line(self, options: str = "", control: str = "optional") -> str:
        """The session line of pam_pyutmp with this sandbox's loader."""
        native = self.loader == "native"
        module = str(self.native_module) if native else f"pam_python.so {MODULE}"
        return f"session {control} {module} {options}".rstrip() + "\n"

    def machine_services(self, *names: str) -> None:
        """The machine's own /etc/pam.d files ``names`` and common-* (pam-auth-update's
        layout), less the include line `install.sh --enable SERVICE` may have added."""
        for path in sorted(Path("/etc/pam.d").iterdir()):
            if path.is_file() and (path.name in names or path.name.startswith("common-")):
                lines = path.read_text().splitlines(keepends=True)
                self.service(path.name, "".join(line for line in lines
                                                if line.strip() != INCLUDE_LINE))

    def enable_profile(self) -> subprocess.CompletedProcess[str]:
        """The module enabled as `install.sh --enable system` enables it: the real
        pam-auth-update, run in the namespace on copies of its state, profiles and
        debconf database, enables the project's profiles (pam.d/pam-configs/) with
        this sandbox's pam_pyutmp.so for the installed one.  Call machine_services first:
        pam-auth-update rewrites the common-* files it finds."""
        module = str(self.native_module)
        # pam-auth-update turns "end" anywhere in a line's control and module path into
        # a jump count: such a path would not be the module's any more.
        assert self.loader == "native" and "end" not in module, module
        for name, machine in PAM_AUTH_UPDATE_DIRS.items():
            if Path(machine).is_dir():
                subprocess.run(["cp", "-a", machine, str(self.root / name)], check=True)
        for name in PROFILES:
            profile = self.root / "pamconfigs" / name
            profile.write_text((PROFILE_DIR / name).read_text().replace(INSTALLED_MODULE, module))
            profile.chmod(0o644)
        return self.run(["pam-auth-update", "--enable", *PROFILES],
                        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})

    def add_user(self, name: str, shell: str = "/bin/sh", uid: int | None = None,
                 password: str | None = None) -> User:
        """A user of this sandbox only, with a home of its own under ROOT/home, and
        ``uid`` as its uid and gid (default: the first free from 3000); with
        ``password``, one pam_unix accepts (else none: only root can su to it).

        The first call copies the machine's passwd, shadow, group and gshadow
        into ROOT/etc; nsexec mounts them over /etc inside the namespace, so
        the machine's own files are never written.
        """
        etc = self.root / "etc"
        etc.mkdir(exist_ok=True)
        for file in ACCOUNT_FILES:
            machine = Path("/etc", file)
            if not (etc / file).exists() and machine.exists():
                shutil.copy2(machine, etc / file)  # the mode too: shadow stays 0640
                os.chown(etc / file, 0, machine.stat().st_gid)
        used = _ids_in_use(etc / "passwd", 2) | _ids_in_use(etc / "group", 2)
        if uid is None:
            uid = next(n for n in range(3000, 60000) if n not in used)
        assert uid not in used, f"uid {uid} is taken"
        home = self.root / "home" / name
        home.mkdir(parents=True)
        (self.root / "home").chmod(0o755)
        os.chown(home, uid, uid)
        home.chmod(0o755)
        secret = password_hash(password) if password else "*"
        lines = {
            "passwd": f"{name}:x:{uid}:{uid}:pam_pyutmp test user:/home/{name}:{shell}",
            "shadow": f"{name}:{secret}:19000:0:99999:7:::",
            "group": f"{name}:x:{uid}:",
            "gshadow": f"{name}:!::",
        }
        for file, line in lines.items():
            if (etc / file).exists():
                with (etc / file).open("a") as out:
                    out.write(line + "\n")
        return User(name, uid, uid, f"/home/{name}", home)

    def _argv(self, command: list[str]) -> list[str]:
        return ["unshare", "-m", "--propagation", "private", SYSTEM_PYTHON, str(NSEXEC),
                str(self.root), "--", *command]

    def run(self, command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run ``command`` inside the sandbox (as root)."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("cwd", "/")  # never import the source tree by accident
        return subprocess.run(self._argv(command), **kwargs)  # type: ignore[call-overload, no-any-return]

    def popen(self, command: list[str], **kwargs: object) -> subprocess.Popen[str]:
        """Start ``command`` inside the sandbox in the background (as root);
        ``terminate()`` reaches the command itself (nsexec passes SIGTERM on)."""
        kwargs.setdefault("text", True)
        kwargs.setdefault("cwd", "/")
        return subprocess.Popen(self._argv(command), **kwargs)  # type: ignore[call-overload, no-any-return]

    def on_terminal(self, command: list[str], steps: list[list[str]], timeout: float = 20,
                    env: dict[str, str] | None = None) -> Terminal:
        """Run ``command`` on a new pty inside the sandbox, as its controlling
        terminal, talking to it with ``steps`` (see ptydrive.py).  Prompts are
        the shells' own: PS1 and ENV are not passed on unless ``env`` has them."""
        if env is None:
            env = {k: v for k, v in os.environ.items() if k not in ("PS1", "ENV")}
        argv = [SYSTEM_PYTHON, str(PTYDRIVE), json.dumps(steps), str(timeout), "--", *command]
        result = self.run(argv, env=env, timeout=timeout + 30)
        assert result.returncode == 0, result.stderr
        terminal = Terminal(**json.loads(result.stdout))
        assert not terminal.timed_out, f"{command} did not finish: {terminal.output!r}"
        assert not terminal.steps_left, f"{command}: steps not taken {terminal.steps_left}, " \
                                        f"output {terminal.output!r}"
        return terminal

    def python(self, code: str, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run Python ``code`` with the system interpreter inside the sandbox."""
        return self.run([SYSTEM_PYTHON, "-c", code, *args], **kwargs)

    def syslog(self) -> list[str]:
        path = self.root / "syslog"
        if not path.exists():
            return []
        return path.read_bytes().decode("utf-8", "replace").splitlines()

    def our_syslog(self) -> list[str]:
        """Lines logged by pam_pyutmp itself."""
        return [line for line in self.syslog() if " pam_pyutmp[" in line]


def reader(box: Sandbox, *command: str) -> str:
    """Output of a stock reader (who, last, utmpdump, lastlog) run in the sandbox
    (`acctread` in place of one the release lacks)."""
    result = box.run(stockreaders.command(command))
    assert result.returncode == 0, result.stderr
    return result.stdout


@dataclass(frozen=True)
class Terminal:
    """What ptydrive.py saw of a command on a pty of its own."""

    tty: str  # "/dev/pts/3"
    output: str  # without "\r"
    status: int
    timed_out: bool
    steps_left: list[list[str]]

    @property
    def line(self) -> str:
        """The tty as ut_line holds it: "pts/3"."""
        return self.tty.removeprefix("/dev/")

    def section(self, n: int) -> list[str]:
        """The output lines of command ``n`` given to :func:`shell_steps`."""
        before = self.output.split(_marker(n), 1)[0]
        after_typing = before.rsplit(f"@@$(({n}))@@", 1)[1]  # the echo of the typed line
        return [line for line in after_typing.splitlines()[1:] if line.strip()]


def _marker(n: int) -> str:
    return f"@@{n}@@"


def shell_steps(prompt: str, *commands: str) -> list[list[str]]:
    """Steps for ptydrive.py: wait for the shell's ``prompt``, run each command
    once the prompt is back, its end marked so that :meth:`Terminal.section`
    finds its output, then exit.
    The marker is typed as "@@$((n))@@" so that the echo of the typed line never
    passes for it."""
    steps = [["expect", prompt]]
    for n, command in enumerate(commands):
        steps += [["send", f"{command}; echo @@$(({n}))@@\n"],
                  ["expect", f"{_marker(n)}\n{prompt}"]]
    return [*steps, ["send", "exit\n"]]


@dataclass(frozen=True)
class Dumped:
    """One record as `utmpdump` prints it."""

    type: int
    pid: int
    id: str
    user: str
    line: str
    host: str


_DUMP_LINE = re.compile(r"^\[(\d+)\] \[\s*(\d+)\] \[(.{4})\] \[(.*?) *\] \[(.*?) *\] \[(.*?) *\] ")
USER_PROCESS = 7
DEAD_PROCESS = 8


def dump(box: Sandbox, path: str) -> list[Dumped]:
    """The records of a utmp or wtmp file, read inside the sandbox by `utmpdump`."""
    return parse_dump(reader(box, "utmpdump", path))


def parse_dump(output: str) -> list[Dumped]:
    """The records in `utmpdump` output."""
    records = []
    for text in output.splitlines():
        found = _DUMP_LINE.match(text)
        assert found, text
        kind, pid, id_, user, line, host = found.groups()
        records.append(Dumped(int(kind), int(pid), id_.rstrip(), user, line, host))
    return records


_CLOSED = re.compile(r" \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* - \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def last_sessions(box: Sandbox) -> list[list[str]]:
    """`last -w --time-format iso -f /var/log/wtmp` in the sandbox, one list of
    words per session line.  Run once the clock has left the current second: a
    logout stamped with the second `last` runs in shows as "still running"."""
    second = int(time.time())
    while time.time() < second + 1:
        time.sleep(0.02)
    result = box.run(stockreaders.command(["last", "-w", "--time-format", "iso", "-f",
                                           "/var/log/wtmp"]), env=READER_ENV)
    assert result.returncode == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines()
            if line.strip() and not line.startswith("wtmp begins")]


def closed(session: list[str]) -> bool:
    """A `last` session line with a login and a logout time (not "still logged
    in", "gone - no logout", "crash" or "down")."""
    return _CLOSED.search(" " + " ".join(session)) is not None


def db_rows(path: Path, query: str) -> list[tuple[object, ...]]:
    """The rows ``query`` finds in the SQLite database at ``path`` (wtmpdb, lastlog2)."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(query).fetchall()


def wait_for(what: str, test: Callable[[], bool], timeout: float = 10) -> None:
    """Poll ``test()`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)

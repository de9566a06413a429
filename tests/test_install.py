"""install.sh, run where it can do its worst unseen: each test gets a private mount
namespace (tests/install_ns.sh) with a copy of /etc/pam.d, an overlay on /usr/local
(whatever install.sh or pip writes lands in a temp dir), its own /var/backups, /run
and /var/log.  The machine's own files are never touched."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import stat
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
INSTALL = REPO / "install.sh"
DRIVER = REPO / "tests" / "install_ns.sh"

INCLUDE_LINE = "session include pyutmp"
MODULE_FILE = "/usr/local/lib/security/pam_pyutmp.py"
MODULE_SO = "/usr/local/lib/security/pam_pyutmp.so"
MAN_FILE = "/usr/local/share/man/man8/pam_pyutmp.8"
CLI_MAN_FILE = "/usr/local/share/man/man1/pyutmp.1"
SERVICE = "pyutmp-test"
SERVICE_TEXT = (
    "# a service of the installer tests\n"
    "auth     required pam_permit.so\n"
    "account  required pam_permit.so\n"
    "session  required pam_permit.so\n"
    "password required pam_deny.so\n"
)
# What install.sh installs with apt when missing: it must find them all, so that no
# apt-get runs from a test.
APT_PACKAGES = ("python3", "python3-pip", "python3-cffi", "python3-dev", "python3-setuptools",
                "python3-wheel", "gcc", "libc6-dev", "libpam0g-dev", "libsqlite3-dev")
# Any pam_pyutmp already installed on this machine is hidden from the namespace.
HIDE_INSTALLED = (
    "shopt -s nullglob; rm -rf /usr/local/lib/python3*/*-packages/pam_pyutmp "
    "/usr/local/lib/python3*/*-packages/pam_pyutmp-*.dist-info "
    f"{MODULE_FILE} {MODULE_SO} {MAN_FILE} {CLI_MAN_FILE}"
)
UTMP_SIZE = 384  # glibc's struct utmp
USER_PROCESS, DEAD_PROCESS = 7, 8

Snapshot = dict[str, tuple[object, ...]]


def fitted(path: Path) -> bytes:
    """A file of pam.d/ as install.sh installs it on this machine: its session line without
    login among the skipped services where login writes no record of its own (Debian 13),
    with the options wtmpdb and lastlog2 where pam_wtmpdb and pam_lastlog2 are installed."""
    extra = "".join(f" {option}" for option, module in (("wtmpdb", "pam_wtmpdb.so"),
                                                        ("lastlog2", "pam_lastlog2.so"))
                    if glob.glob(f"/usr/lib/*/security/{module}")
                    or glob.glob(f"/lib/*/security/{module}"))
    session_line = f"{MODULE_SO} skip_if=sshd,login"
    login = shutil.which("login")
    # login writes its own records where it calls pututline (shadow's, Debian 12).
    writes = login is not None and re.search(rb"pututx?line", Path(login).read_bytes())
    skipped = f"{MODULE_SO} skip_if=" + ("sshd,login" if writes else "sshd")
    return "".join(line.replace(session_line, skipped).rstrip("\n") + extra + "\n"
                   if session_line in line and not line.lstrip().startswith("#") else line
                   for line in path.read_text().splitlines(keepends=True)).encode()


def _missing_packages() -> list[str]:
    missing = []
    for pkg in APT_PACKAGES:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True,
                              text=True, check=False)
        if "ok installed" not in done.stdout:
            missing.append(pkg)
    return missing


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mount namespaces, overlayfs)"),
    pytest.mark.skipif(not all(shutil.which(tool) for tool in ("unshare", "pamtester",
                                                                  "dpkg-query")),
                       reason="needs unshare, pamtester and dpkg (Debian): run tests/run"),
]


def tree(root: Path, times: bool) -> Snapshot:
    """Every entry under ``root``: type and mode, owner, content hash; with ``times``
    also mtime and inode, which change when a file is rewritten even unchanged."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            path = Path(dirpath, name)
            st = path.lstat()
            if stat.S_ISREG(st.st_mode):
                content = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                content = os.readlink(path)
            else:
                content = str(st.st_rdev)  # overlayfs whiteouts are 0/0 devices
            entry: tuple[object, ...] = (stat.filemode(st.st_mode), st.st_uid, st.st_gid, content)
            if times:
                entry += (st.st_mtime_ns, st.st_ino)
            out[str(path.relative_to(root))] = entry
    return out


def wtmp_records(path: Path) -> list[tuple[int, str, str]]:
    """(type, line, user) of each record of a wtmp file."""
    data = path.read_bytes()
    assert len(data) % UTMP_SIZE == 0, f"torn wtmp: {len(data)} bytes"
    records = []
    for offset in range(0, len(data), UTMP_SIZE):
        ut_type, _pid, line, _id, user = struct.unpack_from("<hxxi32s4s32s", data, offset)
        records.append((ut_type, line.rstrip(b"\0").decode(), user.rstrip(b"\0").decode()))
    return records


@dataclass
class Box:
    """One machine as install.sh sees it: STATE/pamd is its /etc/pam.d, STATE/upper
    what it wrote to /usr/local, STATE/backups its /var/backups."""

    state: Path

    @property
    def pamd(self) -> Path:
        return self.state / "pamd"

    @property
    def upper(self) -> Path:
        return self.state / "upper"

    @property
    def backups(self) -> Path:
        return self.state / "backups"

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(DRIVER), str(self.state), *command], capture_output=True,
                              text=True, timeout=600, check=False, cwd="/")

    def install(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(INSTALL), *args)

    def installed_ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = self.install(*args)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def snapshot(self, times: bool = True) -> dict[str, Snapshot]:
        return {name: tree(self.state / name, times)
                for name in ("pamd", "upper", "backups", "pamlib", "pamconfigs")}

    def probe(self) -> dict[str, bool]:
        """What the namespace's python3 and file system show of an installation."""
        code = (
            "import importlib.util, json, os, sys\n"
            "print(json.dumps({'package': importlib.util.find_spec('pam_pyutmp') is not None,"
            " 'module_file': os.path.exists(sys.argv[1]),"
            " 'man_page': all(map(os.path.exists, sys.argv[2].split(':'))),"
            " 'native_module': os.path.exists(sys.argv[3]),"
            " 'include_file': os.path.exists('/etc/pam.d/pyutmp')}))"
        )
        done = self.run("/usr/bin/python3", "-I", "-c", code, MODULE_FILE,
                        f"{MAN_FILE}:{CLI_MAN_FILE}", MODULE_SO)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def box(tmp_path: Path) -> Box:
    """A machine without pam_pyutmp: this one's /etc/pam.d (copied, less any pyutmp
    include) plus the test service, and /usr/local with no pam_pyutmp in view."""
    missing = _missing_packages()
    if missing:
        pytest.skip(f"install.sh would apt-get install {' '.join(missing)}: run ./install.sh first")
    state = tmp_path / "state"
    for name in ("upper", "work", "backups", "run", "log"):
        (state / name).mkdir(parents=True)
    subprocess.run(["cp", "-a", "/etc/pam.d", str(state / "pamd")], check=True)
    for machine, copy in (("/var/lib/pam", "pamlib"), ("/usr/share/pam-configs", "pamconfigs")):
        if os.path.isdir(machine):
            subprocess.run(["cp", "-a", machine, str(state / copy)], check=True)
    box = Box(state)
    (box.pamd / "pyutmp").unlink(missing_ok=True)
    for path in box.pamd.iterdir():
        if path.is_file() and not path.is_symlink():
            text = path.read_bytes()
            cleaned = b"".join(line for line in text.splitlines(keepends=True)
                               if line.rstrip(b"\n") != INCLUDE_LINE.encode())
            if cleaned != text:
                path.write_bytes(cleaned)
    (box.pamd / SERVICE).write_text(SERVICE_TEXT)
    (box.pamd / SERVICE).chmod(0o644)
    (state / "run" / "utmp").touch()
    (state / "log" / "wtmp").touch()
    hidden = box.run("bash", "-c", HIDE_INSTALLED)
    assert hidden.returncode == 0, hidden.stderr
    assert box.probe() == {"package": False, "module_file": False, "man_page": False,
                           "native_module": False, "include_file": False}
    return box


def test_enable_adds_one_line_and_the_include_records_a_session(box: Box) -> None:
    """`install.sh --enable` installs every file, adds exactly one include line after the
    service's last session line, and a pamtester session through it reaches wtmp."""
    box.installed_ok("--enable", SERVICE)

    lines = SERVICE_TEXT.splitlines(keepends=True)
    assert (box.pamd / SERVICE).read_text() == "".join([*lines[:4], INCLUDE_LINE + "\n",
                                                        *lines[4:]])
    assert (box.backups / "pam_pyutmp" / SERVICE).read_text() == SERVICE_TEXT
    installed = {
        box.pamd / "pyutmp": fitted(REPO / "pam.d" / "pyutmp"),
        box.upper / "share" / "man" / "man8" / "pam_pyutmp.8":
            (REPO / "man" / "pam_pyutmp.8").read_bytes(),
        box.upper / "share" / "man" / "man1" / "pyutmp.1": (REPO / "man" / "pyutmp.1").read_bytes(),
    }
    for path, content in installed.items():
        assert path.read_bytes() == content, path
        st = path.stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o644, 0, 0), path
    native_module = box.upper / "lib" / "security" / "pam_pyutmp.so"
    st = native_module.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o644, 0, 0)
    assert box.probe() == {"package": True, "module_file": False, "man_page": True,
                           "native_module": True, "include_file": True}

    session = box.run("pamtester", "-v", SERVICE, "root", "open_session", "close_session")
    assert session.returncode == 0, session.stdout + session.stderr
    records = wtmp_records(box.state / "log" / "wtmp")
    assert [(kind, user) for kind, _line, user in records] == [(USER_PROCESS, "root"),
                                                                (DEAD_PROCESS, "")], records
    assert records[0][1] == records[1][1] == f"{SERVICE}/0"


def test_second_install_changes_nothing(box: Box) -> None:
    """Running `install.sh --enable` again rewrites no file: pam.d, everything written to
    /usr/local and the backups keep their content, mode, mtime and inode."""
    box.installed_ok("--enable", SERVICE)
    before = box.snapshot()

    again = box.installed_ok("--enable", SERVICE)

    assert box.snapshot() == before
    assert "already enabled" in again.stdout
    assert "package up to date" in again.stdout
    # pam_pyutmp.so, the two man pages, the include file
    assert again.stdout.count("pam_pyutmp: up to date:") == 4, again.stdout


def test_uninstall_restores_pam_d_and_removes_everything(box: Box) -> None:
    """`--uninstall` after installing and enabling two services leaves the pam.d copy
    byte-identical (content and mode) to before and removes every installed file."""
    (box.pamd / SERVICE).chmod(0o600)  # an unusual mode must come back too
    before = tree(box.pamd, times=False)
    box.installed_ok("--enable", f"{SERVICE},su")
    assert INCLUDE_LINE in (box.pamd / "su").read_text()

    removed = box.installed_ok("--uninstall")

    assert tree(box.pamd, times=False) == before
    assert box.probe() == {"package": False, "module_file": False, "man_page": False,
                           "native_module": False, "include_file": False}
    assert "uninstalled pam_pyutmp" in removed.stdout


def test_dry_run_changes_nothing(box: Box) -> None:
    """`--dry-run` of install+enable on a fresh machine, and of --disable and --uninstall
    on an installed one, says what it would do and changes no file."""
    fresh = box.snapshot()
    dry = box.installed_ok("--dry-run", "--enable", SERVICE)
    assert box.snapshot() == fresh
    assert f"would add '{INCLUDE_LINE}' to /etc/pam.d/{SERVICE}" in dry.stdout
    assert "would install /etc/pam.d/pyutmp" in dry.stdout

    box.installed_ok("--enable", SERVICE)
    installed = box.snapshot()
    for args in (("--disable", SERVICE), ("--uninstall",)):
        dry = box.installed_ok("--dry-run", *args)
        assert f"would remove '{INCLUDE_LINE}' from /etc/pam.d/{SERVICE}" in dry.stdout
        assert box.snapshot() == installed, args


def test_enable_of_a_missing_service_fails_before_any_change(box: Box) -> None:
    """`--enable nosuchservice` exits non-zero naming the missing /etc/pam.d file, and
    installs or changes nothing."""
    before = box.snapshot()

    done = box.install("--enable", f"{SERVICE},nosuchservice")

    assert done.returncode != 0
    assert "no PAM service file /etc/pam.d/nosuchservice" in done.stderr
    assert box.snapshot() == before


def test_enable_then_disable_gives_back_the_same_bytes_and_mode(box: Box) -> None:
    """A service file with no session line and no final newline gets the include at its
    end, and `--disable` gives back its exact bytes and its mode."""
    original = b"auth required pam_permit.so\naccount required pam_permit.so"
    path = box.pamd / "pyutmp-nonl"
    path.write_bytes(original)
    path.chmod(0o640)

    box.installed_ok("--enable", "pyutmp-nonl")
    assert path.read_bytes() == original + b"\n" + INCLUDE_LINE.encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640

    box.installed_ok("--disable", "pyutmp-nonl")
    assert path.read_bytes() == original
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_uninstall_refuses_while_a_service_includes_pyutmp_by_hand(box: Box) -> None:
    """`--uninstall` fails and changes nothing while a service includes pyutmp by a line
    install.sh did not write, since removing the include file would break that service."""
    box.installed_ok()
    (box.pamd / "pyutmp-hand").write_text("session required pam_permit.so\n@include pyutmp\n")
    before = box.snapshot()

    done = box.install("--uninstall")

    assert done.returncode != 0
    assert "/etc/pam.d/pyutmp-hand line 2: @include pyutmp" in done.stderr
    assert box.snapshot() == before


def include_rules(box: Box) -> list[str]:
    text = (box.pamd / "pyutmp").read_text()
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_an_install_that_used_pam_python_is_moved_to_pam_pyutmp_so(box: Box) -> None:
    """An include file and module file of an install that loaded the module with
    pam_python.so (which lets a user running su choose the code it runs as root): the next
    install replaces the include with the one loading pam_pyutmp.so, keeping the old one
    and saying why, and removes the module file; `--loader pam_python` is refused."""
    old_include = f"session optional pam_python.so {MODULE_FILE} skip_if=sshd,login\n"
    (box.pamd / "pyutmp").write_text(old_include)
    planted = box.run("bash", "-c", f"mkdir -p {Path(MODULE_FILE).parent} && "
                                    f"echo '# old module file' >{MODULE_FILE}")
    assert planted.returncode == 0, planted.stderr

    done = box.installed_ok("--enable", SERVICE)

    assert (box.pamd / "pyutmp").read_bytes() == fitted(REPO / "pam.d" / "pyutmp")
    assert (box.backups / "pam_pyutmp" / "pyutmp.old").read_text() == old_include
    assert "pam_python.so" in done.stderr and "as root" in done.stderr
    assert f"removed {MODULE_FILE}" in done.stdout
    assert box.probe()["module_file"] is False
    session = box.run("pamtester", "-v", SERVICE, "root", "open_session", "close_session")
    assert session.returncode == 0, session.stdout + session.stderr
    assert [kind for kind, _line, _user in wtmp_records(box.state / "log" / "wtmp")] == [
        USER_PROCESS, DEAD_PROCESS]

    before = box.snapshot()
    refused = box.install("--loader", "pam_python")
    assert refused.returncode != 0 and "PATH" in refused.stderr
    assert box.snapshot() == before


def test_su_example_is_what_enable_makes_of_debian_su(box: Box) -> None:
    """pam.d/examples/su is exactly what `--enable su` makes of Debian's stock /etc/pam.d/su."""
    conffiles = subprocess.run(["dpkg-query", "-W", "-f=${Conffiles}", "util-linux"],
                               capture_output=True, text=True, check=False).stdout
    stock = {line.split()[0]: line.split()[1] for line in conffiles.splitlines() if line.strip()}
    su = box.pamd / "su"
    digest = hashlib.md5(su.read_bytes(), usedforsecurity=False).hexdigest()
    if stock.get("/etc/pam.d/su") != digest:
        pytest.skip("this machine's /etc/pam.d/su is not Debian's stock one")

    box.installed_ok("--enable", "su")

    assert su.read_bytes() == (REPO / "pam.d" / "examples" / "su").read_bytes()


def test_enable_system_is_the_profile_in_common_session_and_uninstall_takes_it_back(
        box: Box) -> None:
    """`--enable system` installs the pam-auth-update profile and enables it: the module line
    lands in common-session (interactive sessions), not in common-session-noninteractive
    (cron, sudo), and a session of a service that includes common-session is recorded, and
    one of runuser-l, which includes none and gets the include line; `--disable system` and
    `--uninstall` leave /etc/pam.d byte for byte as before, and pam-auth-update's state."""
    if not (box.state / "pamconfigs").is_dir() or shutil.which("pam-auth-update") is None:
        pytest.skip("pam-auth-update is not on this machine")
    if not (box.pamd / "runuser-l").is_file():
        pytest.skip("no /etc/pam.d/runuser-l here (util-linux's runuser)")
    (box.pamd / "pyutmp-sys").write_text("@include common-session\n")
    before = box.snapshot(times=False)

    done = box.installed_ok("--enable", "system")

    assert "enabled system-wide" in done.stdout
    for name in ("pyutmp", "pyutmp-authfail"):
        assert (box.state / "pamconfigs" / name).read_bytes() == fitted(
            REPO / "pam.d" / "pam-configs" / name)
    assert MODULE_SO in (box.pamd / "common-session").read_text()
    assert MODULE_SO not in (box.pamd / "common-session-noninteractive").read_text()
    # The auth part among the primary modules, which jump over it on success.
    auth = (box.pamd / "common-auth").read_text()
    assert f"{MODULE_SO} authfail" in auth
    assert auth.index("pam_unix.so") < auth.index(MODULE_SO) < auth.index("pam_deny.so")
    # runuser -l's stack includes no common-session: it gets the include line itself.
    assert (box.pamd / "runuser-l").read_text().count(INCLUDE_LINE + "\n") == 1
    assert "runuser-l includes no common-session" in done.stdout
    for service in ("pyutmp-sys", "runuser-l"):
        session = box.run("pamtester", "-v", service, "root", "open_session", "close_session")
        assert session.returncode == 0, session.stdout + session.stderr
    records = wtmp_records(box.state / "log" / "wtmp")
    assert [(kind, line) for kind, line, _user in records] == [
        (USER_PROCESS, "pyutmp-sys/0"), (DEAD_PROCESS, "pyutmp-sys/0"),
        (USER_PROCESS, "runuser-l/0"), (DEAD_PROCESS, "runuser-l/0")], records

    box.installed_ok("--disable", "system")
    disabled = box.snapshot(times=False)["pamd"]
    del disabled["pyutmp"]  # installed, as by a plain ./install.sh: --uninstall removes it
    assert disabled == before["pamd"]
    box.installed_ok("--enable", "system")
    box.installed_ok("--uninstall")
    after = box.snapshot(times=False)
    assert after["pamd"] == before["pamd"]
    assert after["pamconfigs"] == before["pamconfigs"]


def test_enable_failed_logins_alone_is_the_authfail_line_in_common_auth(box: Box) -> None:
    """`--enable failed-logins` enables the authfail profile alone: common-auth gets the
    line, common-session nothing; `--enable SERVICE` of a service whose authentication is
    common-auth's says how its failed logins are recorded; `--disable failed-logins` gives
    pam.d back as it was."""
    if not (box.state / "pamconfigs").is_dir() or shutil.which("pam-auth-update") is None:
        pytest.skip("pam-auth-update is not on this machine")
    (box.pamd / SERVICE).write_text(SERVICE_TEXT.replace("auth     required pam_permit.so",
                                                         "@include common-auth"))
    hinted = box.installed_ok("--enable", SERVICE)
    assert "--enable failed-logins" in hinted.stdout
    before = box.snapshot(times=False)["pamd"]

    box.installed_ok("--enable", "failed-logins")
    assert f"{MODULE_SO} authfail" in (box.pamd / "common-auth").read_text()
    assert MODULE_SO not in (box.pamd / "common-session").read_text()
    assert not (box.state / "pamconfigs" / "pyutmp").exists()

    box.installed_ok("--disable", "failed-logins")
    assert box.snapshot(times=False)["pamd"] == before


def test_include_file_holds_the_one_module_line() -> None:
    """pam.d/pyutmp has exactly one PAM line: the optional line of the installed
    pam_pyutmp.so, by absolute path, with skip_if=sshd,login and showfailed."""
    text = (REPO / "pam.d" / "pyutmp").read_text()
    rules = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert rules == [f"session optional {MODULE_SO} skip_if=sshd,login showfailed"]


def test_man_page_renders_cleanly_and_lists_every_option() -> None:
    """man/pam_pyutmp.8 renders without a groff warning and documents every option the
    module parses (pam_pyutmp.options)."""
    from pam_pyutmp import options

    page = REPO / "man" / "pam_pyutmp.8"
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed")
    groff = subprocess.run(["groff", "-man", "-ww", "-z", str(page)], capture_output=True,
                           text=True, check=False)
    assert groff.returncode == 0 and groff.stderr == "", groff.stderr
    text = page.read_text()
    names = [*options.FLAGS, *(f"{name}=" for name in options.PATHS), "skip_if=",
             "lastlog_uid_max=", "backend=", "utmps_timeout="]
    undocumented = [name for name in names
                    if f".B {name}\n" not in text and f".BI {name} " not in text]
    assert undocumented == []

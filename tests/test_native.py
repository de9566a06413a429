"""pam_pyutmp.native, the Python side of pam_pyutmp.so, in this very process
through real libpam (ctypes.CDLL), with a PAM configuration directory of its
own (pam_start_confdir: the machine's /etc/pam.d is never read) and accounting
files in a temp dir; and the module file csrc/build_loader.py makes."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest

from pam_pyutmp import native, pam, syslogger, utmpfile
from pam_pyutmp.system import DEAD_PROCESS, USER_PROCESS

REPO = Path(__file__).resolve().parent.parent
BUILD_LOADER = REPO / "csrc" / "build_loader.py"
SYSTEM_PYTHON = "/usr/bin/python3"
PAM_SUCCESS, PAM_TTY, PAM_RHOST, PAM_TEXT_INFO, PAM_BUF_ERR = 0, 3, 4, 4, 5

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc (./install.sh)")


class PamMessage(ctypes.Structure):
    _fields_ = [("msg_style", ctypes.c_int), ("msg", ctypes.c_char_p)]


class PamResponse(ctypes.Structure):
    _fields_ = [("resp", ctypes.c_void_p), ("resp_retcode", ctypes.c_int)]


CONV = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.POINTER(PamMessage)),
                        ctypes.POINTER(ctypes.POINTER(PamResponse)), ctypes.c_void_p)


class PamConv(ctypes.Structure):
    _fields_ = [("conv", CONV), ("appdata_ptr", ctypes.c_void_p)]


LIBC = ctypes.CDLL(None)
LIBC.calloc.restype = ctypes.c_void_p
LIBC.calloc.argtypes = (ctypes.c_size_t, ctypes.c_size_t)
LIBPAM = ctypes.CDLL("libpam.so.0")  # plain CDLL: the GIL is released around each call
LIBPAM.pam_start_confdir.argtypes = (ctypes.c_char_p, ctypes.c_char_p,
                                     ctypes.POINTER(PamConv), ctypes.c_char_p,
                                     ctypes.POINTER(ctypes.c_void_p))
LIBPAM.pam_set_item.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
for name in ("pam_open_session", "pam_close_session", "pam_end"):
    getattr(LIBPAM, name).argtypes = (ctypes.c_void_p, ctypes.c_int)


class Transaction:
    """One PAM transaction of this process; the conversation keeps every text shown."""

    def __init__(self, confdir: Path, service: str = "svc", user: str = "root") -> None:
        self.shown: list[tuple[int, bytes]] = []
        self.conv_func = CONV(self.converse)  # kept: libpam holds a pointer to it
        self.conv = PamConv(self.conv_func, None)
        self.pamh = ctypes.c_void_p()
        status = LIBPAM.pam_start_confdir(service.encode(), user.encode(),
                                          ctypes.byref(self.conv), str(confdir).encode(),
                                          ctypes.byref(self.pamh))
        assert status == PAM_SUCCESS, status

    @property
    def key(self) -> int:
        return int(self.pamh.value or 0)

    def converse(self, count: int, messages, responses, _data) -> int:  # type: ignore[no-untyped-def]
        array = LIBC.calloc(count, ctypes.sizeof(PamResponse))  # libpam free()s it
        if not array:
            return PAM_BUF_ERR
        for n in range(count):
            self.shown.append((messages[n].contents.msg_style, messages[n].contents.msg))
        responses[0] = ctypes.cast(array, ctypes.POINTER(PamResponse))
        return PAM_SUCCESS

    def set(self, item: int, value: bytes) -> None:
        assert LIBPAM.pam_set_item(self.pamh, item, value) == PAM_SUCCESS

    def end(self) -> int:
        return int(LIBPAM.pam_end(self.pamh, PAM_SUCCESS))


@pytest.fixture
def confdir(tmp_path: Path) -> Path:
    path = tmp_path / "pam.d"
    path.mkdir()
    (path / "other").write_text("session required pam_deny.so\n")
    (path / "svc").write_text("session required pam_permit.so\n")
    return path


@pytest.fixture(scope="module")
def module_so(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pam_pyutmp.so for the system interpreter and the installed package."""
    out = tmp_path_factory.mktemp("native") / "pam_pyutmp.so"
    done = subprocess.run([SYSTEM_PYTHON, str(BUILD_LOADER), str(out), "--werror"],
                          capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def quiet_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The module's syslog lines go to a socket nobody reads, not the machine's log."""
    monkeypatch.setattr(syslogger, "SOCKET_PATH", str(tmp_path / "no-log"))


def test_items_are_libpams_values_with_any_byte_kept(confdir: Path) -> None:
    """The handle reads PAM items from libpam: set ones as text (bytes that are not UTF-8
    kept as surrogates, as on the pam_python.so path), unset ones as None."""
    pamh = Transaction(confdir)
    pamh.set(PAM_TTY, b"/dev/pts/9")
    pamh.set(PAM_RHOST, b"host-\xff\xfe")
    handle = native.NativeHandle(pamh.key)

    assert handle.key == pamh.key
    assert handle.items() == pam.Items("svc", "root", "/dev/pts/9", "host-\udcff\udcfe", None)
    assert pamh.end() == PAM_SUCCESS


def test_info_reaches_the_conversation_verbatim(confdir: Path) -> None:
    """info() shows its text through the application's conversation as PAM_TEXT_INFO, once
    and unchanged, even with printf directives in it: the text is never a format."""
    pamh = Transaction(confdir)
    text = "Last login: 100% sure %s %n from h\udcff"

    native.NativeHandle(pamh.key).info(text)

    assert pamh.shown == [(PAM_TEXT_INFO, text.encode("utf-8", "surrogateescape"))]
    assert pamh.end() == PAM_SUCCESS


def session_stack(confdir: Path, module_so: Path, tmp_path: Path, more: str = "") -> None:
    utmp, wtmp = tmp_path / "utmp", tmp_path / "wtmp"
    utmp.touch()
    wtmp.touch()
    (confdir / "svc").write_text(f"session required {module_so} utmp={utmp} wtmp={wtmp} "
                                 f"lastlog={tmp_path / 'lastlog'}\n{more}")


def test_pam_end_forgets_a_session_that_was_not_closed(
        confdir: Path, module_so: Path, tmp_path: Path, quiet_log: None) -> None:
    """pam_pyutmp.so in this Python host: a session opened and never closed is dropped from
    the open sessions when the transaction ends (pam_set_data's cleanup at pam_end), so a
    later handle at the same address is never taken for it and nothing piles up."""
    session_stack(confdir, module_so, tmp_path)
    pamh = Transaction(confdir)

    assert LIBPAM.pam_open_session(pamh.pamh, 0) == PAM_SUCCESS
    assert pamh.key in pam._open_sessions
    assert pamh.end() == PAM_SUCCESS
    assert pamh.key not in pam._open_sessions


def test_a_second_open_in_one_transaction_keeps_the_session(
        confdir: Path, module_so: Path, tmp_path: Path, quiet_log: None) -> None:
    """A host that calls open_session twice: the second call writes no second session, and
    its pam_set_data, which replaces the first one's (a cleanup call with PAM_DATA_REPLACE),
    does not drop the session, which close then finds and ends: one wtmp pair."""
    session_stack(confdir, module_so, tmp_path, more="session required pam_permit.so\n")
    pamh = Transaction(confdir)

    assert LIBPAM.pam_open_session(pamh.pamh, 0) == PAM_SUCCESS
    entry = pam._open_sessions.get(pamh.key)
    assert LIBPAM.pam_open_session(pamh.pamh, 0) == PAM_SUCCESS
    assert entry is not None and pam._open_sessions.get(pamh.key) is entry
    assert LIBPAM.pam_close_session(pamh.pamh, 0) == PAM_SUCCESS
    assert pamh.key not in pam._open_sessions
    assert pamh.end() == PAM_SUCCESS
    wtmp = list(utmpfile.iter_wtmp(str(tmp_path / "wtmp")))
    assert [r.type for r in wtmp] == [USER_PROCESS, DEAD_PROCESS]


def dynamic_section(path: Path) -> str:
    done = subprocess.run(["readelf", "-d", "-W", str(path)], capture_output=True, text=True,
                          check=True)
    return done.stdout


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs binutils")
def test_module_is_a_pam_module_that_stays_loaded(module_so: Path) -> None:
    """The module exports the six pam_sm_* functions and nothing else, links the system
    Python's libpython and libpam by soname, and is marked NODELETE: libpam's dlclose()
    at pam_end must not unmap code that Python and the fork handlers still call."""
    exported = subprocess.run(["nm", "-D", "--defined-only", str(module_so)],
                              capture_output=True, text=True, check=True).stdout.split()[2::3]
    assert sorted(exported) == sorted(f"pam_sm_{name}" for name in (
        "open_session", "close_session", "authenticate", "setcred", "acct_mgmt", "chauthtok"))
    libpython = subprocess.run([SYSTEM_PYTHON, "-c", "import sysconfig; print(sysconfig."
                                "get_config_var('INSTSONAME'))"], capture_output=True, text=True,
                               check=True).stdout.strip()
    assert libpython.startswith("libpython3."), libpython
    dynamic = dynamic_section(module_so)
    assert f"[{libpython}]" in dynamic and "[libpam.so.0]" in dynamic, dynamic
    assert "NODELETE" in dynamic, dynamic


def test_build_gives_the_same_bytes_twice(module_so: Path, tmp_path: Path) -> None:
    """Building again from the same tree and interpreter gives the same file, so install.sh
    can leave an unchanged installed module alone."""
    again = tmp_path / "again" / "pam_pyutmp.so"
    again.parent.mkdir()
    done = subprocess.run([SYSTEM_PYTHON, str(BUILD_LOADER), str(again)], capture_output=True,
                          text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr
    assert again.read_bytes() == module_so.read_bytes()


def test_build_refuses_an_interpreter_without_the_package(tmp_path: Path) -> None:
    """Built for an interpreter that does not have the package installed (a bare venv),
    the module could never import it: the build stops and says so instead."""
    venv = tmp_path / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    out = tmp_path / "pam_pyutmp.so"
    done = subprocess.run([SYSTEM_PYTHON, str(BUILD_LOADER), str(out), "--python",
                           str(venv / "bin" / "python3")], capture_output=True, text=True,
                          timeout=120, cwd="/")
    assert done.returncode != 0 and not out.exists()
    assert "pam_pyutmp is not installed for" in done.stderr, done.stderr

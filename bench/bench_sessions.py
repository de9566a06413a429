"""What the pam_pyutmp module line adds to the cost of one PAM session, with either loader.

    sudo /usr/bin/python3 bench/bench_sessions.py            # full run, about a minute
    sudo /usr/bin/python3 bench/bench_sessions.py --quick    # smoke run, a few seconds
    sudo /usr/bin/python3 bench/bench_sessions.py -n 100 --cycles 500 --rss-cycles 2000

Five session stacks are measured side by side, in one run, against the same pty,

    permit   session required pam_permit.so
    lastlog  session required pam_permit.so + session optional pam_lastlog.so
    pyempty  session required pam_permit.so + session optional pam_python.so <empty module>
    ours-py  session required pam_permit.so + session optional pam_python.so <pam_module.py>
    ours-so  session required pam_permit.so + session optional <pam_pyutmp.so>

"ours-py" is pam_pyutmp loaded by pam_python.so, "ours-so" the same session code loaded
by pam_pyutmp.so (csrc/pam_pyutmp_loader.c, built here from this tree for the installed
package), which starts Python once per process.  Each is measured in three ways:

    pamtester   ``pamtester SVC root open_session close_session``: one process per
                session, so both loaders start Python every time
    in-process  pam_start .. pam_open_session .. pam_close_session .. pam_end in a loop
                in this Python process, libpam loaded with ctypes.PyDLL so that
                pam_python.so finds the GIL held (pam_pyutmp.so runs in this interpreter)
    C host      the same loop in a C program (tests/e2e/pam_host.c), where
                pam_pyutmp.so starts its own Python; not for the pam_python.so stacks

Runs of the stacks are interleaved, so drift of the machine hits them alike; the
"vs baseline" lines are computed from this run's baselines.  The RSS growth of a host
running many cycles is then measured in a fresh process per stack: the Python host for
every stack, and the C host for ours-so (after its first 100 cycles) and ours-py.

"pyempty" is pam_python.so running a module that only returns PAM_SUCCESS: ours-py minus
pyempty is the work of pam_pyutmp itself (its imports included), the rest is the price
of pam_python.so.  The script exits 1 when pam_pyutmp's syslog lines show that it did
not run for every "ours" session (the lines are "optional", so a failure would pass
silently and make "ours" look cheap).

pam_lastlog and our module write /run/utmp, /var/log/wtmp and /var/log/lastlog, so all
of it runs in a private mount namespace (tests/e2e/nsexec.py) with its own /etc/pam.d,
/run, /var/log and /dev/log under a temp dir /tmp/pam_pyutmp-bench-*: the machine's own
files are never touched.  Needs root, pamtester, gcc, libpam-python, libpam0g-dev and
the package installed for /usr/bin/python3 (./install.sh).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parent.parent
NSEXEC = REPO / "tests" / "e2e" / "nsexec.py"
PAM_HOST = REPO / "tests" / "e2e" / "pam_host.c"
BUILD_LOADER = REPO / "csrc" / "build_loader.py"
SYSTEM_PYTHON = "/usr/bin/python3"  # the interpreter pam_python.so embeds
STACKS = ("permit", "lastlog", "pyempty", "ours-py", "ours-so")
OURS = ("ours-py", "ours-so")
BASELINES = ("permit", "lastlog", "pyempty")
C_STACKS = ("permit", "lastlog", "ours-so")  # pam_python.so in a C host: see C_RSS_PY
USER = "root"
RSS_WARMUP = 20
C_RSS_CYCLES = 10_000  # the C host's RSS run of ours-so; growth counts after the first 100


# --- outside the namespace: prepare, re-exec, check, report -----------------------------


def installed_module() -> str:
    """Path of the pam_module.py that install.sh put in /usr/bin/python3's site-packages.

    Asked from / and with -I so that this source tree (no compiled _core) is not what
    gets imported.
    """
    code = "import pam_pyutmp.pam_module as m; print(m.__file__)"
    result = subprocess.run([SYSTEM_PYTHON, "-I", "-c", code], cwd="/", capture_output=True,
                            text=True)
    if result.returncode != 0:
        sys.exit(f"pam_pyutmp is not installed for {SYSTEM_PYTHON} (run ./install.sh):\n"
                 f"{result.stderr}")
    return result.stdout.strip()


# pam_python.so's own price, with a module that does nothing: what is left of "ours"
# over this is the work of pam_pyutmp itself.
EMPTY_MODULE = """\
def pam_sm_open_session(pamh, flags, argv):
    return pamh.PAM_SUCCESS


def pam_sm_close_session(pamh, flags, argv):
    return pamh.PAM_SUCCESS
"""


def stack_texts(module: str, empty_module: Path, native_module: Path) -> dict[str, str]:
    permit = "session required pam_permit.so\n"
    return {
        "permit": permit,
        "lastlog": permit + "session optional pam_lastlog.so\n",
        "pyempty": permit + f"session optional pam_python.so {empty_module}\n",
        # Default paths: inside the namespace they are the sandbox's files.
        "ours-py": permit + f"session optional pam_python.so {module}\n",
        "ours-so": permit + f"session optional {native_module}\n",
    }


def prepare_root(root: Path, module: str) -> None:
    """The fresh-machine view nsexec.py mounts, as tests/e2e/sandbox.py makes it, with
    pam_pyutmp.so and the C host built into it."""
    for name in ("pam.d", "run", "log"):
        (root / name).mkdir()
    # As on a booted Debian: empty utmp and wtmp, no lastlog yet.
    (root / "run" / "utmp").touch()
    (root / "log" / "wtmp").touch()
    (root / "pam.d" / "other").write_text(
        "auth required pam_deny.so\naccount required pam_deny.so\n"
        "password required pam_deny.so\nsession required pam_deny.so\n")
    empty_module = root / "empty_module.py"
    empty_module.write_text(EMPTY_MODULE)
    native_module = root / "pam_pyutmp.so"
    build([SYSTEM_PYTHON, str(BUILD_LOADER), str(native_module)], "building pam_pyutmp.so")
    build(["gcc", "-O2", str(PAM_HOST), "-o", str(root / "pam_host"), "-lpam", "-lpthread"],
          "building the C host")
    for stack, text in stack_texts(module, empty_module, native_module).items():
        (root / "pam.d" / service(stack)).write_text(text)


def build(command: list[str], what: str) -> None:
    done = subprocess.run(command, cwd="/", capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{what} failed:\n{done.stderr}")


def service(stack: str) -> str:
    return f"bench-{stack}"


def run_inside(root: Path, args: argparse.Namespace) -> dict:
    """Re-run this script in the namespace; it leaves its measures in ROOT/results.json."""
    command = [sys.executable, str(HERE), "--inside", str(root), "-n", str(args.runs),
               "--cycles", str(args.cycles), "--rss-cycles", str(args.rss_cycles),
               "--c-rss-cycles", str(args.c_rss_cycles), "--c-py-rss-cycles",
               str(args.c_py_rss_cycles), "--warmup", str(args.warmup)]
    argv = ["unshare", "-m", "--propagation", "private", SYSTEM_PYTHON, str(NSEXEC),
            str(root), "--", *command]
    # From /: pam_python.so's interpreter must import the installed package, not this tree.
    result = subprocess.run(argv, cwd="/")
    if result.returncode != 0:
        sys.exit(f"the run in the namespace failed (status {result.returncode})")
    return json.loads((root / "results.json").read_text())


def check_our_module_ran(root: Path, expected: dict[str, int]) -> tuple[str, bool]:
    """The module lines are "optional": had a loader failed to load the module, every
    session would still succeed and "ours" would look free.  Its syslog lines, which name
    the service, prove it ran."""
    lines = (root / "syslog").read_bytes().decode("utf-8", "replace").splitlines()
    ours = [line for line in lines if " pam_pyutmp[" in line]
    texts, ok = [], True
    for stack, count in expected.items():
        mine = [line for line in ours if f"service={service(stack)} " in line]
        opened = sum("session opened" in line for line in mine)
        closed = sum("session closed" in line for line in mine)
        texts.append(f"{stack}: {opened} opened / {closed} closed (expected {count} each)")
        ok = ok and opened == closed == count
    other = [line for line in ours if "session opened" not in line
             and "session closed" not in line]
    text = f"check: pam_pyutmp logged {'; '.join(texts)}; {len(other)} other lines"
    ok = ok and not other
    if not ok:
        text += "\nWARNING: the 'ours' numbers may not measure the module\n"
        text += "\n".join(other)[:2000]
    return text, ok


def expected_sessions(args: argparse.Namespace) -> dict[str, int]:
    """Sessions of each 'ours' stack over the whole run, warm-up included."""
    timed = 2 * args.warmup + args.runs + args.cycles
    python_host_rss = RSS_WARMUP + args.rss_cycles
    return {"ours-py": timed + python_host_rss + args.c_py_rss_cycles,
            "ours-so": timed + python_host_rss + args.warmup + args.cycles
            + args.c_rss_cycles}


def outside(args: argparse.Namespace) -> None:
    if os.geteuid() != 0:
        sys.exit("run as root: the namespace and the PAM modules need it")
    if not shutil.which("pamtester"):
        sys.exit("pamtester not found (apt-get install pamtester)")
    module = installed_module()
    root = Path(tempfile.mkdtemp(prefix="pam_pyutmp-bench-"))
    try:
        prepare_root(root, module)
        results = run_inside(root, args)
        check, ok = check_our_module_ran(root, expected_sessions(args))
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root)
    print(report(results, args, module, root))
    print(check)
    if not ok:
        sys.exit(1)


# --- the report --------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f}"


def timing_rows(method: str, samples: dict[str, list[float]]) -> list[str]:
    rows = []
    for stack, s in samples.items():
        rows.append(f"{method:<11} {stack:<8} {ms(statistics.median(s))} {ms(statistics.mean(s))}"
                    f" {ms(min(s))} {ms(statistics.stdev(s))} {len(s):6d}")
    return rows


def added_rows(method: str, samples: dict[str, list[float]]) -> list[str]:
    """Per "ours" stack: the median it adds over each baseline, and the ratio of medians."""
    rows = []
    median = {stack: statistics.median(s) for stack, s in samples.items()}
    for ours in OURS:
        if ours not in median:
            continue
        added, ratios = [], []
        for base in BASELINES:
            if base in median:
                added.append(ms(median[ours] - median[base]))
                ratios.append(f"{median[ours] / median[base]:9.2f}x")
            else:
                added.append(f"{'-':>8}")
                ratios.append(f"{'-':>10}")
        rows.append(f"{method:<11} {ours:<8} {' '.join(added)} {' '.join(ratios)}")
    return rows


def ratio(samples: dict[str, list[float]], stack: str, base: str) -> float:
    return statistics.median(samples[stack]) / statistics.median(samples[base])


def target_rows(results: dict) -> list[str]:
    one = ratio(results["pamtester"], "ours-so", "ours-py")
    python_host = ratio(results["inprocess"], "ours-so", "lastlog")
    c_host = ratio(results["chost"], "ours-so", "lastlog")
    return [
        f"pamtester   ours-so / ours-py {one:6.2f}  (target 0.5 or less: one-transaction "
        "processes)",
        f"in-process  ours-so / lastlog {python_host:6.2f}  (target 1.5 or less: full cycle)",
        f"C host      ours-so / lastlog {c_host:6.2f}  (target 1.5 or less: full cycle)",
    ]


def rss_rows(rss: dict[str, dict[str, int]]) -> list[str]:
    rows = []
    for stack in STACKS:
        r = rss[stack]
        growth = r["end_kb"] - r["start_kb"]
        halves = f"{r['middle_kb'] - r['start_kb']}/{r['end_kb'] - r['middle_kb']}"
        rows.append(f"{stack:<8} {r['start_kb']:9d} {r['end_kb']:9d} {growth:10d}"
                    f" {halves:>15} {growth * 1024 / r['cycles']:12.1f}")
    return rows


def c_rss_rows(rss: dict[str, dict[str, int]]) -> list[str]:
    rows = []
    for stack, r in rss.items():
        after, end, cycles = r["rss_kb_after_100"], r["rss_kb_end"], r["cycles"]
        growth = end - after
        rows.append(f"{stack:<8} {cycles:7d} {after:11d} {end:9d} {growth:10d}"
                    f" {growth * 1024 / max(cycles - 100, 1):12.1f}")
    return rows


def report(results: dict, args: argparse.Namespace, module: str, root: Path) -> str:
    env = results["env"]
    columns = (f"{'+permit':>8} {'+lastlog':>8} {'+pyempty':>8} {'x permit':>10} "
               f"{'x lastlog':>10} {'x pyempty':>10}")
    lines = [
        f"pam_pyutmp session cost: {USER} open_session+close_session, PAM_TTY={env['tty']}",
        f"ours-py: pam_python.so {module}",
        f"ours-so: {root / 'pam_pyutmp.so'} (built from this tree)",
        f"host: Linux {env['kernel']}, {env['cpus']} CPUs, Python {env['python']}, "
        f"Linux-PAM {env['libpam']}, pamtester {env['pamtester']}",
        f"pamtester: {args.runs} runs/stack; in-process and C host: {args.cycles} cycles/stack "
        f"(after {args.warmup} warm-up each; stacks interleaved)",
        "",
        "time per session (ms)",
        f"{'method':<11} {'stack':<8} {'median':>8} {'mean':>8} {'min':>8} {'stdev':>8} "
        f"{'n':>6}",
        *timing_rows("pamtester", results["pamtester"]),
        *timing_rows("in-process", results["inprocess"]),
        *timing_rows("C host", results["chost"]),
        "",
        "added per session by pam_pyutmp over each baseline stack (median ms; ratio of medians)",
        f"{'method':<11} {'stack':<8} {columns}",
        *added_rows("pamtester", results["pamtester"]),
        *added_rows("in-process", results["inprocess"]),
        *added_rows("C host", results["chost"]),
        "",
        "targets (ratio of medians)",
        *target_rows(results),
        "",
        f"Python host RSS over {args.rss_cycles} cycles (fresh process per stack, "
        f"after {RSS_WARMUP} warm-up cycles)",
        f"{'stack':<8} {'start KB':>9} {'end KB':>9} {'growth KB':>10} {'halves KB':>15} "
        f"{'B per cycle':>12}",
        *rss_rows(results["rss"]),
        "",
        "C host RSS (fresh process per stack; growth after the first 100 cycles)",
        f"{'stack':<8} {'cycles':>7} {'KB at 100':>11} {'end KB':>9} {'growth KB':>10} "
        f"{'B per cycle':>12}",
        *c_rss_rows(results["crss"]),
    ]
    return "\n".join(lines)


# --- inside the namespace: the measures -------------------------------------------------


def inside(args: argparse.Namespace) -> None:
    root = Path(args.inside)
    _master, slave = os.openpty()  # held open for the whole run: PAM_TTY stays a live pty
    tty = os.ttyname(slave)
    pam = InProcessPam(tty)
    results = {
        "env": environment(tty),
        "pamtester": interleaved(lambda stack: pamtester_session(stack, tty), args.warmup,
                                 args.runs, "pamtester"),
        "inprocess": interleaved(lambda stack: pam.session(service(stack)), args.warmup,
                                 args.cycles, "in-process"),
        "chost": c_host_times(root, tty, args.warmup, args.cycles),
        "rss": {stack: rss_in_fresh_host(stack, args.rss_cycles) for stack in STACKS},
        "crss": {stack: c_host_rss(root, tty, stack, cycles) for stack, cycles in
                 (("ours-so", args.c_rss_cycles), ("ours-py", args.c_py_rss_cycles))
                 if cycles},
    }
    (root / "results.json").write_text(json.dumps(results))


def c_host(root: Path, tty: str, *args: str) -> dict:
    """One run of the C host (tests/e2e/pam_host.c) with PAM_TTY set; its JSON."""
    env = {**os.environ, "PAM_HOST_TTY": tty}
    done = subprocess.run([str(root / "pam_host"), *args], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pam_host {' '.join(args)}: {done.stderr}")
    out = json.loads(done.stdout)
    if out.get("failed"):
        raise RuntimeError(f"pam_host {' '.join(args)}: {out['failed']} sessions failed")
    return out  # type: ignore[no-any-return]


def c_host_times(root: Path, tty: str, warmup: int, count: int) -> dict[str, list[float]]:
    """In-process cycles in a C program, where pam_pyutmp.so starts Python itself; the
    stacks take turns in one process, as in interleaved()."""
    out = c_host(root, tty, "bench", str(warmup + count), *map(service, C_STACKS))
    print("bench: C host done", file=sys.stderr)
    return {stack: out["times"][service(stack)][warmup:] for stack in C_STACKS}


def c_host_rss(root: Path, tty: str, stack: str, cycles: int) -> dict[str, int]:
    out = c_host(root, tty, "cycles", str(cycles), service(stack), USER)
    print(f"bench: C host RSS of {stack} done", file=sys.stderr)
    return out  # type: ignore[no-any-return]


def environment(tty: str) -> dict[str, object]:
    return {
        "tty": tty,
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "libpam": package_version("libpam0g"),
        "pamtester": package_version("pamtester"),
    }


def package_version(name: str) -> str:
    result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True,
                            text=True)
    return result.stdout or "?"


def interleaved(session: Callable[[str], None], warmup: int, count: int,
                label: str) -> dict[str, list[float]]:
    """Wall time of ``count`` sessions per stack, the stacks taking turns.

    Turns (rotated every round) rather than one stack after the other, so that a slow
    patch of the machine (another job, CPU frequency) costs every stack alike.
    """
    for _ in range(warmup):
        for stack in STACKS:
            session(stack)
    samples: dict[str, list[float]] = {stack: [] for stack in STACKS}
    for n in range(count):
        turn = n % len(STACKS)
        for stack in STACKS[turn:] + STACKS[:turn]:
            start = time.perf_counter()
            session(stack)
            samples[stack].append(time.perf_counter() - start)
    print(f"bench: {label} done", file=sys.stderr)
    return samples


def pamtester_session(stack: str, tty: str) -> None:
    command = ["pamtester", "-I", f"tty={tty}", service(stack), USER, "open_session",
               "close_session"]
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.decode()}")


def rss_in_fresh_host(stack: str, cycles: int) -> dict[str, int]:
    """A process of its own per stack: what an earlier stack left in memory (pam_python
    imports, allocator arenas) must not count as this stack's growth."""
    command = [sys.executable, str(HERE), "--rss-child", stack, "--rss-cycles", str(cycles)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def rss_child(stack: str, cycles: int) -> None:
    _master, slave = os.openpty()
    pam = InProcessPam(os.ttyname(slave))
    for _ in range(RSS_WARMUP):
        pam.session(service(stack))
    # The middle reading tells a steady leak (both halves grow alike) from a one-off
    # cost that warm-up did not cover (the first half grows, the second does not).
    readings = [vm_rss_kb()]
    for half in (cycles // 2, cycles - cycles // 2):
        for _ in range(half):
            pam.session(service(stack))
        readings.append(vm_rss_kb())
    start, middle, end = readings
    print(json.dumps({"start_kb": start, "middle_kb": middle, "end_kb": end, "cycles": cycles}))


def vm_rss_kb() -> int:
    # Collect first: garbage awaiting the cycle collector is not a leak.
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


# --- libpam through ctypes ----------------------------------------------------------------

PAM_SUCCESS = 0
PAM_BUF_ERR = 5
PAM_TTY = 3


class PamMessage(ctypes.Structure):
    _fields_ = [("msg_style", ctypes.c_int), ("msg", ctypes.c_char_p)]


class PamResponse(ctypes.Structure):
    _fields_ = [("resp", ctypes.c_void_p), ("resp_retcode", ctypes.c_int)]


CONV_FUNC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int,
                             ctypes.POINTER(ctypes.POINTER(PamMessage)),
                             ctypes.POINTER(ctypes.POINTER(PamResponse)), ctypes.c_void_p)


class PamConv(ctypes.Structure):
    _fields_ = [("conv", CONV_FUNC), ("appdata_ptr", ctypes.c_void_p)]


class InProcessPam:
    """Open and close sessions through libpam in this process.

    PyDLL, not CDLL: CDLL releases the GIL around each call and pam_python.so, which
    runs the module in this very interpreter, then crashes (see tests/e2e/gil_safe_pam.py).
    """

    def __init__(self, tty: str) -> None:
        self.tty = tty.encode()
        self.libc = ctypes.CDLL(None)
        self.libc.calloc.restype = ctypes.c_void_p
        self.libc.calloc.argtypes = (ctypes.c_size_t, ctypes.c_size_t)
        self.lib = self.bind(ctypes.PyDLL(ctypes.util.find_library("pam")))
        self.conv_func = CONV_FUNC(self.converse)  # kept: libpam holds a pointer to it
        self.conv = PamConv(self.conv_func, None)

    @staticmethod
    def bind(lib: ctypes.PyDLL) -> ctypes.PyDLL:
        handle, c_int, c_char_p = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
        lib.pam_start.argtypes = (c_char_p, c_char_p, ctypes.POINTER(PamConv),
                                  ctypes.POINTER(handle))
        lib.pam_set_item.argtypes = (handle, c_int, c_char_p)
        lib.pam_open_session.argtypes = (handle, c_int)
        lib.pam_close_session.argtypes = (handle, c_int)
        lib.pam_end.argtypes = (handle, c_int)
        lib.pam_strerror.argtypes = (handle, c_int)
        lib.pam_strerror.restype = c_char_p
        return lib

    def converse(self, count: int, _messages: object, responses: object,
                 _appdata: object) -> int:
        """Only "Last login" style texts come in a session: answer each with nothing.

        The array is calloc'ed because libpam's caller frees it with free().
        """
        array = self.libc.calloc(count, ctypes.sizeof(PamResponse))
        if not array:
            return PAM_BUF_ERR
        responses[0] = ctypes.cast(array, ctypes.POINTER(PamResponse))  # type: ignore[index]
        return PAM_SUCCESS

    def session(self, service_name: str) -> None:
        """pam_start, PAM_TTY, open_session, close_session, pam_end; raises on failure."""
        pamh = ctypes.c_void_p()
        self.check(pamh, "pam_start",
                   self.lib.pam_start(service_name.encode(), USER.encode(),
                                      ctypes.byref(self.conv), ctypes.byref(pamh)))
        status = PAM_SUCCESS
        try:
            status = self.lib.pam_set_item(pamh, PAM_TTY, self.tty)
            self.check(pamh, "pam_set_item", status)
            status = self.lib.pam_open_session(pamh, 0)
            self.check(pamh, "pam_open_session", status)
            status = self.lib.pam_close_session(pamh, 0)
            self.check(pamh, "pam_close_session", status)
        finally:
            self.lib.pam_end(pamh, status)

    def check(self, pamh: ctypes.c_void_p, call: str, status: int) -> None:
        if status != PAM_SUCCESS:
            reason = self.lib.pam_strerror(pamh, status) or b"?"
            raise RuntimeError(f"{call}: {reason.decode()} ({status})")


# --- command line ---------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 10 pamtester runs, 40 cycles, 200 RSS cycles, "
                             "1000 and 150 C host RSS cycles")
    parser.add_argument("-n", "--runs", type=int, default=100,
                        help="pamtester runs per stack (default 100)")
    parser.add_argument("--cycles", type=int, default=500,
                        help="in-process timed cycles per stack (default 500)")
    parser.add_argument("--rss-cycles", type=int, default=1000,
                        help="in-process cycles per stack for the RSS growth (default 1000)")
    parser.add_argument("--c-rss-cycles", type=int, default=C_RSS_CYCLES,
                        help="C host cycles of ours-so for its RSS growth (default 10000; "
                             "0: skip)")
    parser.add_argument("--c-py-rss-cycles", type=int, default=300,
                        help="C host cycles of ours-py, which starts and finalises Python "
                             "every time, for its RSS growth (default 300; 0: skip)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed sessions per stack before each timing (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temp root for a look")
    # Internal: the re-executed run in the namespace, and one RSS host.
    parser.add_argument("--inside", metavar="ROOT", help=argparse.SUPPRESS)
    parser.add_argument("--rss-child", metavar="STACK", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.cycles, args.rss_cycles = 10, 40, 200
        args.c_rss_cycles, args.c_py_rss_cycles = 1000, 150
    if args.runs < 2 or args.cycles < 2 or args.rss_cycles < 1:
        parser.error("need at least 2 runs and cycles (for a stdev) and 1 RSS cycle")
    if any(0 < n <= 100 for n in (args.c_rss_cycles, args.c_py_rss_cycles)):
        parser.error("C host RSS runs count from cycle 100: give more than 100, or 0")
    return args


def main() -> None:
    args = parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.rss_cycles)
    elif args.inside:
        inside(args)
    else:
        outside(args)


if __name__ == "__main__":
    main()

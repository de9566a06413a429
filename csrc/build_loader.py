"""Builds pam_pyutmp.so, the PAM module that runs pam_pyutmp in an embedded Python.

    python3 csrc/build_loader.py OUTPUT [--python /usr/bin/python3] [--package-dir DIR]

It is a PAM module, not a Python extension: it links the libpython of one
interpreter (``--python``, the system's by default) and starts that interpreter
with a sys.path fixed here, at build time: the interpreter's standard library,
then the directory the package is installed in and the one cffi's backend is
in.  So it is built after the package is installed (install.sh does both in
that order) and rebuilt when either moves.  ``--package-dir`` names another
directory holding a ``pam_pyutmp`` package (tests use one).

Needs a C compiler, the interpreter's headers (python3-dev) and libpam's
(libpam0g-dev).  The same sources and interpreter give the same bytes, so
install.sh can tell an unchanged module from a changed one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = "pam_pyutmp_loader.c"

# Run by the target interpreter, isolated and without site: its standard
# library is then exactly the sys.path it prints.
STDLIB_QUERY = """
import json, sys, sysconfig
print(json.dumps({
    "version": list(sys.version_info[:2]),
    "stdlib": sys.path,
    "include": sysconfig.get_config_var("INCLUDEPY"),
    "libdir": sysconfig.get_config_var("LIBDIR"),
    "soname": sysconfig.get_config_var("INSTSONAME"),
    "shared": sysconfig.get_config_var("Py_ENABLE_SHARED"),
}))
"""
# With site, as the package is installed: where pam_pyutmp and cffi's
# backend are found.  find_spec imports neither.
PACKAGE_QUERY = """
import json, os.path
from importlib.util import find_spec
def where(name):
    spec = find_spec(name)
    if spec is None or not spec.origin:
        return None
    path = os.path.dirname(spec.origin)
    return os.path.dirname(path) if spec.submodule_search_locations else path
print(json.dumps({"package": where("pam_pyutmp"), "cffi": where("_cffi_backend")}))
"""


def ask(python: str, flags: list[str], code: str) -> dict[str, Any]:
    # From /, so that no source tree in the current directory is found.
    try:
        done = subprocess.run([python, *flags, "-c", code], capture_output=True, text=True,
                              cwd="/", check=False)
    except OSError as err:
        sys.exit(f"build_loader: cannot run {python}: {err.strerror}")
    if done.returncode != 0:
        sys.exit(f"build_loader: {python} failed:\n{done.stderr}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def c_string(text: str) -> str:
    """A C string literal for a -D definition; paths only, so no escapes."""
    if any(char in text for char in '"\\\n') or not text.isprintable():
        sys.exit(f"build_loader: cannot embed {text!r} in C")
    return f'"{text}"'


def configuration(python: str, package_dir: str | None) -> dict[str, Any]:
    info = ask(python, ["-I", "-S"], STDLIB_QUERY)
    if not info["shared"] or not info["soname"]:
        sys.exit(f"build_loader: {python} has no shared libpython to link")
    found = ask(python, ["-I"], PACKAGE_QUERY)
    if package_dir is None:
        package_dir = found["package"]
        if package_dir is None:
            sys.exit(f"build_loader: pam_pyutmp is not installed for {python} "
                     "(install the package first, or give --package-dir)")
    if found["cffi"] is None:
        sys.exit(f"build_loader: cffi's _cffi_backend is not installed for {python}")
    # Entries that do not exist (python3X.zip, as a rule) would cost every import a look.
    stdlib = [path for path in info["stdlib"] if path and os.path.exists(path)]
    package_path = []
    for path in (os.path.abspath(package_dir), found["cffi"]):
        if path not in stdlib and path not in package_path:
            package_path.append(path)
    for path in (*stdlib, *package_path):
        if ":" in path:
            sys.exit(f"build_loader: a sys.path entry with ':' cannot be embedded: {path}")
    return {**info, "sys_path": [*stdlib, *package_path], "package_path": package_path}


def build(output: Path, python: str, package_dir: str | None, cc: str,
          werror: bool = False) -> list[str]:
    """Compile and link the module to ``output``; returns its sys.path."""
    config = configuration(python, package_dir)
    defines = {
        "PYUTMP_PYTHON": python,
        "PYUTMP_LIBPYTHON": config["soname"],
        "PYUTMP_SYS_PATH": ":".join(config["sys_path"]),
        "PYUTMP_PACKAGE_PATH": ":".join(config["package_path"]),
    }
    command = [
        cc, "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", *(["-Werror"] if werror else []),
        # Only the pam_sm_* functions are the host's business.
        "-fvisibility=hidden",
        f"-I{config['include']}",
        *(f"-D{name}={c_string(str(value))}" for name, value in defines.items()),
        SOURCE, "-o", str(output.resolve()),
        # The interpreter's libpython by its soname, so no libpython3.X.so
        # development link is needed, and never a static libpython.
        f"-L{config['libdir']}", f"-l:{config['soname']}", "-lpam",
        # libpam dlclose()s the module at pam_end; Python, its fork handlers
        # and its callbacks into this code stay, so the code must stay too.
        "-Wl,-z,nodelete",
        "-Wl,-z,defs", "-Wl,-z,relro", "-Wl,-z,now",
        "-s",
    ]
    # From the source directory, by a relative name: the output does not depend
    # on where the tree lies.
    done = subprocess.run(command, cwd=HERE, capture_output=True, text=True, check=False)
    if done.returncode != 0 or (werror and done.stderr):
        sys.exit(f"build_loader: {' '.join(command)}\n{done.stderr}")
    if done.stderr:
        print(done.stderr, file=sys.stderr, end="")
    return list(config["sys_path"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="the module to write, e.g. pam_pyutmp.so")
    parser.add_argument("--python", default="/usr/bin/python3",
                        help="the interpreter to embed (default /usr/bin/python3)")
    parser.add_argument("--package-dir",
                        help="the directory holding the pam_pyutmp package (default: where "
                             "the interpreter has it installed)")
    parser.add_argument("--cc", default=os.environ.get("CC", "gcc"), help="the C compiler")
    parser.add_argument("--werror", action="store_true", help="fail on any compiler warning")
    args = parser.parse_args()
    if shutil.which(args.cc) is None:
        sys.exit(f"build_loader: no C compiler {args.cc!r}")
    build(args.output, args.python, args.package_dir, args.cc, args.werror)


if __name__ == "__main__":
    main()

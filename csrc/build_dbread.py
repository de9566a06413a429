"""cffi build script for the private extension ``pam_pyutmp._dbread``: the
listings of wtmpdb and lastlog2 over SQLite's C API (``pyutmp_dbread.c``).

A module of its own, apart from ``_core``: PAM hosts load ``_core`` at every
login and must not load libsqlite3 with it.  The build needs SQLite's headers
(Debian: libsqlite3-dev; Alpine: sqlite-dev); the library itself is the one
Python's sqlite3 module already links.
"""

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
# Relative paths keep the build reproducible from an sdist.
CSRC = "csrc"

ffibuilder = FFI()
ffibuilder.cdef((HERE / "pyutmp_dbread_cdef.h").read_text())
ffibuilder.set_source(
    "pam_pyutmp._dbread",
    '#include "pyutmp_dbread.h"',
    sources=[f"{CSRC}/pyutmp_dbread.c", f"{CSRC}/pyutmp_output.c"],
    include_dirs=[CSRC],
    libraries=["sqlite3"],
    extra_compile_args=["-Wall", "-Wextra", "-O2"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)

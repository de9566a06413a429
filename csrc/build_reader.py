"""cffi build script for the private extension ``pam_pyutmp._reader``: the
`last` and `lastb` engine, kept out of ``pam_pyutmp._core`` so that a login
never loads it."""

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
CSRC = "csrc"  # relative: the build is reproducible from an sdist

ffibuilder = FFI()
ffibuilder.cdef((HERE / "pyutmp_last_cdef.h").read_text())
ffibuilder.set_source(
    "pam_pyutmp._reader",
    '#include "pyutmp_last.h"',
    sources=[f"{CSRC}/pyutmp_last.c", f"{CSRC}/pyutmp_timestamp.c", f"{CSRC}/pyutmp_output.c"],
    include_dirs=[CSRC],
    extra_compile_args=["-Wall", "-Wextra", "-O2"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)

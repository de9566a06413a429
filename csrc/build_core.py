"""cffi build script for the private extension ``pam_pyutmp._core``.

Out-of-line API mode: the C compiler sees the platform's own ``<utmpx.h>`` and
``<lastlog.h>``, so field sizes and default paths are the C library's.  libpam's
calls (``pyutmp_pam_cdef.h``) serve :mod:`pam_pyutmp.native`, the Python side of
the PAM module pam_pyutmp.so.
"""

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
# Relative paths keep the build reproducible from an sdist.
CSRC = "csrc"

ffibuilder = FFI()
ffibuilder.cdef((HERE / "pyutmp_cdef.h").read_text())
ffibuilder.cdef((HERE / "pyutmp_pam_cdef.h").read_text())
ffibuilder.set_source(
    "pam_pyutmp._core",
    '#include "pyutmp_core.h"\n#include "pyutmp_pam.h"\n#include <security/pam_ext.h>',
    sources=[f"{CSRC}/pyutmp_core.c", f"{CSRC}/pyutmp_slots.c", f"{CSRC}/pyutmp_pam.c"],
    include_dirs=[CSRC],
    libraries=["pam"],
    extra_compile_args=["-Wall", "-Wextra", "-O2"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)

# cffi_modules has no pyproject.toml spelling yet; all other metadata lives there.
from setuptools import setup

setup(cffi_modules=[
    "csrc/build_core.py:ffibuilder",
    "csrc/build_reader.py:ffibuilder",
    "csrc/build_dbread.py:ffibuilder",
])

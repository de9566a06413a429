"""``python3 -m pam_pyutmp``: the `pyutmp` command."""

import sys

from pam_pyutmp.cli import main

sys.exit(main())

"""``python -m execsim``: the same as the ``execsim`` command."""

import sys

from execsim.cli.main import main

sys.exit(main())

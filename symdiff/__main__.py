"""``python -m symdiff``: the same as the ``symdiff`` command."""

import sys

from symdiff.cli import main

sys.exit(main())

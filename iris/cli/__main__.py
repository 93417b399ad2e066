"""``python -m iris.cli``: the same as the ``iris`` command."""

import sys

from iris.cli import main

sys.exit(main())

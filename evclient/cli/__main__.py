"""``python -m evclient.cli``."""

import sys

from .app import main

sys.exit(main())

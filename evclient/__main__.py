"""``python -m evclient``: the command line (needs the ``cli`` extra)."""

from evclient.cli import main

raise SystemExit(main())

"""``python -m frankly`` runs the command line."""

import sys

from frankly.cli.main import main

sys.exit(main())

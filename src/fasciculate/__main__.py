"""``python -m fasciculate``: the command line."""

import sys

from fasciculate.cli import main

sys.exit(main())

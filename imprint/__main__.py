"""`python -m imprint` runs the command line (the same as `imprint` and `python build.py`)."""

import sys

from imprint.cli import main

sys.exit(main())

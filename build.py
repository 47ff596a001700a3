#!/usr/bin/env python3
"""Build every edition of book/ into dist/. See `python build.py --help`."""

import sys

from imprint.cli import main

if __name__ == "__main__":
    sys.exit(main())

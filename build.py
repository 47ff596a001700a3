#!/usr/bin/env python3
"""Build every edition of book/ into dist/. See `python build.py --help`."""

import sys

if __name__ == "__main__":
    # Compile imprint's modules once, not at every build: where Python is told not to write
    # bytecode (PYTHONDONTWRITEBYTECODE, as on this project's machine) every start compiled
    # them again, 0.3 s of each build. The bytecode goes where Python puts it by default:
    # __pycache__ folders beside the sources (ignored by git).
    sys.dont_write_bytecode = False
    from imprint.cli import main

    sys.exit(main())

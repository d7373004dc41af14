"""`python -m emulator [--host H] [--port P] [--config FILE] [--tokens-per-s N] [--threads N]`;
see docs/emulator.md."""

import sys

from emulator.cli import main

if __name__ == "__main__":
    sys.exit(main())

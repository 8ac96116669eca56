"""``python -m noticewatch.demoweb --port N``."""

from __future__ import annotations

import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())

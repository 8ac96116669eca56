"""Loading the effective settings file ``noticewatch crawl`` hands to ``scrapy crawl``.

Secrets (the database URL may carry a password) travel in a file readable only by
the user, not on the command line where ``ps`` would show them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings


def apply_settings_file(settings: BaseSettings) -> None:
    path = settings.get("NOTICEWATCH_SETTINGS_FILE")
    if not path:
        return
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    # The file already folds in the user's own -s overrides (applied last), so
    # command-line priority here keeps the documented precedence.
    settings.setdict(data, priority="cmdline")

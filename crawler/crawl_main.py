"""``python -m crawler.crawl_main crawl <spider> …``: Scrapy's own command line, then a quick exit.

This is ``scrapy crawl`` (``scrapy.cmdline.execute``, same arguments, same exit code)
with one difference at the end. A crawl process has imported Scrapy, Twisted, lxml,
SQLAlchemy and the rest, and Python's teardown of all those modules at exit takes
≈ 0.3 s, on every crawl: a seventh of an unchanged incremental cycle, paid again by
every job of the scheduler. So once the crawl is over, the atexit handlers run
(logging flushes its files, multiprocessing finalises its queues and semaphores)
and the process leaves with ``os._exit``, skipping only that teardown.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys


def main(argv: list[str] | None = None) -> None:
    from scrapy.cmdline import execute

    try:
        execute(["scrapy", *(sys.argv[1:] if argv is None else argv)])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    # Exceptions other than SystemExit propagate: a traceback and the normal exit.
    atexit._run_exitfuncs()  # what a normal exit runs first (logging.shutdown among them)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed or gone: nothing left to save
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()

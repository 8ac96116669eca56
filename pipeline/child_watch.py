"""Worker processes of a crawl (persist writer, text extraction) die with the crawl.

A crawl killed with SIGKILL (or by the OOM killer) cannot shut its process pools down,
and a ``ProcessPoolExecutor`` worker never sees EOF on its call queue (the spawned
worker holds both ends of the pipe): it would wait for work for ever, an orphan holding
memory and the crawl's stdout/stderr. ``exit_with_parent`` is the pools' initializer (or
part of it): a daemon thread waits on the parent's sentinel and ends the process when
the parent is gone. Exiting mid-task is safe for both users: the writer's open
transaction rolls back (the spider never got its acknowledgement) and an extraction's
result had nobody left to receive it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from multiprocessing.connection import wait


def exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_wait_then_exit, args=(parent.sentinel,), daemon=True,
                         name="parent-watch").start()


def _wait_then_exit(sentinel: int) -> None:
    wait([sentinel])
    os._exit(0)

"""One fetch or import of a model at a time, across processes (a terminal and a viewer's Fetch button).

Both write the same staging folders beside the cache entry; without a lock the second deleted the first's
work folder and both failed. The lock is an OS file lock (``filelock``, in the fetch extra; huggingface_hub
depends on it too), so it is released when its process ends, even on a crash; the lock file itself stays,
in the cache's ``locks`` folder, out of the models folder the model list reads.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from saprot_scan.settings import cache_dir


@contextmanager
def model_lock(name: str, report: Callable[[str], None] = lambda line: None) -> Iterator[bool]:
    """Hold ``name``'s lock for the block; yields whether another process held it first (we waited for it)."""
    from filelock import FileLock, Timeout

    folder = cache_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / f"model-{name}.lock"))
    waited = False
    try:
        lock.acquire(timeout=0)
    except Timeout:
        waited = True
        report(f"another fetch or import of {name} is in progress; waiting for it to finish")
        lock.acquire()
    try:
        yield waited
    finally:
        lock.release()

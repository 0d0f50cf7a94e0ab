"""One fetch or import of a model at a time, across processes (a terminal and a viewer's Fetch button).

Both write the same staging folders beside the cache entry; without a lock the second deleted the first's
work folder and both failed. The lock is an OS file lock (``filelock``, in the fetch extra; huggingface_hub
depends on it too), so it is released when its process ends, even on a crash; the lock file itself stays,
in the cache's ``locks`` folder, out of the models folder the model list reads.

A cache may be shared (a lab server): the working folders a fetch or import writes and deletes in (``locks``,
``.NAME.work`` and what is below it) must be real folders of the cache, never symbolic links someone planted
to make another user's import write or delete elsewhere (issue 27); ``private_folder`` refuses them.
filelock >= 3.20.1 opens the lock file without following a link (CVE-2025-68146).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from saprot_scan.errors import ModelError
from saprot_scan.settings import cache_dir


def refuse_link(path: Path) -> Path:
    """``path`` unless it is a symbolic link (which is never followed, written through or deleted through)."""
    if os.path.islink(path):
        raise ModelError(f"{path} is a symbolic link; refusing to write or delete through it (in a shared cache "
                         "someone else may have planted it); remove the link and run the command again")
    return path


def private_folder(path: Path) -> Path:
    """The cache working folder ``path``, created if missing (its parent must exist), refused if it is a
    symbolic link or not a folder. The cache's own root may be a link: the user chose it."""
    refuse_link(path)
    try:
        path.mkdir(exist_ok=True)
    except FileExistsError:  # a file there: refused just below
        pass
    if os.path.islink(path) or not path.is_dir():  # planted between the check and the mkdir
        raise ModelError(f"{path} is not a folder of the cache; refusing to use it")
    if hasattr(os, "getuid") and path.stat().st_uid != os.getuid():  # made by another user, who can plant in it
        raise ModelError(f"{path} belongs to another user; refusing to write or delete in it (remove it, or use a "
                         "cache of your own: SAPROT_SCAN_CACHE)")
    return path


SAFE_FILELOCK = (3, 20, 1)


def _check_filelock(version: str) -> None:
    """Refuse a filelock that follows a symlinked lock file (before 3.20.1; pyproject asks for a newer one)."""
    numbers = []
    for part in version.split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        numbers.append(int(digits) if digits else 0)
    if tuple(numbers) < SAFE_FILELOCK:
        raise ModelError(f"filelock {version} follows a symbolic link planted as a lock file (CVE-2025-68146); "
                         "upgrade it: pip install 'filelock>=3.20.1'")


@contextmanager
def model_lock(name: str, report: Callable[[str], None] = lambda line: None) -> Iterator[bool]:
    """Hold ``name``'s lock for the block; yields whether another process held it first (we waited for it)."""
    import filelock
    from filelock import FileLock, Timeout

    _check_filelock(getattr(filelock, "__version__", "0"))
    folder = cache_dir() / "locks"
    folder.parent.mkdir(parents=True, exist_ok=True)
    private_folder(folder)
    lock = FileLock(str(refuse_link(folder / f"model-{name}.lock")))
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

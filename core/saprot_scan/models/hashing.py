"""SHA-256 of model files, remembered by (size, mtime) so a 2.6 GB model is not re-hashed every load."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from saprot_scan.settings import cache_dir


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of the file, plus its ONNX external-data file when there is one."""
    path = Path(path)
    digest = hashlib.sha256()
    for part in (path, path.with_name(path.name + ".data")):
        if part.exists():
            with open(part, "rb") as handle:
                while block := handle.read(chunk):
                    digest.update(block)
    return digest.hexdigest()


def cached_sha256(path: str | os.PathLike) -> str:
    """``sha256_file`` with a small stamp file keyed by path, size and modification time."""
    path = Path(path).resolve()
    stat = path.stat()
    data = path.with_name(path.name + ".data")
    stamp = [str(path), stat.st_size, stat.st_mtime_ns]
    if data.exists():
        stamp += [data.stat().st_size, data.stat().st_mtime_ns]
    store = cache_dir() / "hashes.json"
    try:
        known = json.loads(store.read_text())
    except (OSError, ValueError):
        known = {}
    key = hashlib.sha256(json.dumps(stamp).encode()).hexdigest()
    if key in known:
        return known[key]
    value = sha256_file(path)
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        _merge_into(store, {key: value})
    except OSError:
        pass  # a read-only cache only costs speed
    return value


def _merge_into(store: Path, entries: dict[str, str]) -> None:
    """Add ``entries`` to the JSON store through a temporary file of this writer's own (never a fixed
    name, which two processes hashing at once would share), re-reading the store just before the move
    so another process's entries are kept; the last writer of a near-simultaneous pair may still drop
    the other's newest entry, which costs only one re-hash later, never a wrong value or a broken file."""
    try:
        known = json.loads(store.read_text())
    except (OSError, ValueError):
        known = {}
    known.update(entries)
    fd, tmp = tempfile.mkstemp(prefix=f".{store.name}.", suffix=".part", dir=store.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(known))
        os.replace(tmp, store)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise

"""SHA-256 of model files, remembered by (size, mtime) so a 2.6 GB model is not re-hashed every load."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .paths import cache_dir


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
    known[key] = value
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.with_suffix(".tmp")
        tmp.write_text(json.dumps(known))
        os.replace(tmp, store)
    except OSError:
        pass  # a read-only cache only costs speed
    return value

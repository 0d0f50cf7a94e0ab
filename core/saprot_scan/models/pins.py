"""The SHA-256 a fetched model's files must have: pinned in registry.json, else recorded at the first fetch.

Why: the hub's listing names each file's SHA-256, but a fetch from a wrong mirror or a hostile
``HF_ENDPOINT`` gets its listing from the same server as its files, so a match with the listing proves
nothing (issue 27). Only a hash known before the download defends. No public source found gives the hashes
of SaProt's weight files at the pinned commits, and a guessed pin would break every real user's fetch, so
registry.json pins none for them (its ``sha256_note`` says so) and this module records the hashes of the
first fetch that passed every check (trust on first use): a later fetch of the same revision whose files
differ is refused. The record lives in the user's cache (``pinned-hashes.json``), beside the models.
"""
from __future__ import annotations

import json
import os
import tempfile
import time

from saprot_scan.settings import cache_dir

STORE = "pinned-hashes.json"


def _store_path():
    return cache_dir() / STORE


def _read() -> dict:
    try:
        data = json.loads(_store_path().read_text())
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def expected_hashes(name: str, entry: dict) -> tuple[dict[str, str], str]:
    """(file -> SHA-256, where they come from) for ``name`` at its pinned revision; empty when nothing is
    known yet (the first fetch)."""
    pinned = entry.get("sha256")
    if isinstance(pinned, dict) and pinned:
        return {str(k): str(v) for k, v in pinned.items()}, "the SHA-256 pinned in the registry"
    record = _read().get(name, {})
    found = record.get(entry.get("revision") or "", {}) if isinstance(record, dict) else {}
    files = found.get("files") if isinstance(found, dict) else None
    if isinstance(files, dict) and files and all(isinstance(v, str) for v in files.values()):
        when = found.get("recorded", "an earlier fetch")
        return dict(files), f"the SHA-256 recorded at this revision's first fetch ({when})"
    return {}, ""


def record_first_fetch(name: str, revision: str, hashes: dict[str, str]) -> bool:
    """Remember the verified files of ``name`` at ``revision`` unless hashes are already recorded for it;
    whether they were recorded now."""
    data = _read()
    entry = data.get(name) if isinstance(data.get(name), dict) else {}
    if isinstance(entry.get(revision), dict) and entry[revision].get("files"):
        return False
    entry[revision] = {"files": dict(hashes), "recorded": time.strftime("%Y-%m-%d", time.gmtime())}
    data[name] = entry
    path = _store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{STORE}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(data, indent=1))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True

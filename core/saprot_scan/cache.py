"""The on-disk result cache: a chain's (L, 20) scores keyed by its tokens, the scorer's identity and the method.

Entries are ``<key>.npy`` files under ``settings.results_dir()``, written through a temporary file of
the writer's own and moved into place, so two processes caching the same chain at once both succeed and
a reader never sees half a file. A cache that cannot be written or read only costs time.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from typing import Sequence

import numpy as np

from saprot_scan.encoding.tokens import MAX_RESIDUES
from saprot_scan.settings import results_dir

#: Bumped whenever stored scores would mean something else.
RESULT_FORMAT = 1


def cache_key(combined_tokens: str, scorer_identity: Sequence[str], method: str) -> str:
    """Key of one chain's scores: its SaProt tokens, what the scorer says identifies it, the method."""
    text = json.dumps([RESULT_FORMAT, combined_tokens, *scorer_identity, method, MAX_RESIDUES])
    return hashlib.sha256(text.encode()).hexdigest()


def load_scores(key: str) -> np.ndarray | None:
    """The cached scores for ``key``, or None."""
    try:
        return np.load(results_dir() / f"{key}.npy", allow_pickle=False)
    except (OSError, ValueError):
        return None


def store_scores(key: str, scores: np.ndarray) -> None:
    """Cache ``scores`` under ``key`` (all-or-nothing; silently skipped where the cache is not writable)."""
    try:
        folder = results_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".npy.part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, scores, allow_pickle=False)
            os.replace(tmp, folder / f"{key}.npy")
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    except OSError:
        pass  # a read-only cache only costs time

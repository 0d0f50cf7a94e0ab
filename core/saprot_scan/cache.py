"""The on-disk result cache: a chain's (L, 20) scores keyed by its tokens, the scorer's identity and the method.

A stopped masked scan leaves a partial entry beside (``<key>.partial.npy``: the scores plus a column saying
which rows were computed), so the next scan of the same chain computes only the rest; the whole entry
replaces it when the scan completes.

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
#: A stopped scan's entry: (L, 21), the scores then 1.0 where the row was computed.
PARTIAL_SUFFIX = ".partial.npy"


def cache_key(combined_tokens: str, scorer_identity: Sequence[str], method: str) -> str:
    """Key of one chain's scores: its SaProt tokens, what the scorer says identifies it, the method."""
    text = json.dumps([RESULT_FORMAT, combined_tokens, *scorer_identity, method, MAX_RESIDUES])
    return hashlib.sha256(text.encode()).hexdigest()


def load_scores(key: str) -> np.ndarray | None:
    """The cached scores for ``key``, or None when there are none or the file is not scores this cache could
    have written (a shared cache may hold anything): its header is checked before any data is read, so a file
    declaring a huge shape costs nothing, and strings, complex or boolean values, infinities or a matrix with
    no finite row are a miss that is recomputed and overwritten."""
    try:
        with open(results_dir() / f"{key}.npy", "rb") as handle:
            version = np.lib.format.read_magic(handle)
            reader = {(1, 0): np.lib.format.read_array_header_1_0,
                      (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if reader is None:  # np.save writes 1.0 (2.0 for huge headers); anything else is not ours
                return None
            shape, _fortran, dtype = reader(handle, max_header_size=10_000)
            if not _plausible_header(shape, dtype):
                return None
            handle.seek(0)
            scores = np.lib.format.read_array(handle, allow_pickle=False)
    except (OSError, ValueError, EOFError, SyntaxError, TypeError):
        return None
    return scores if _plausible_scores(scores) else None


def _plausible_header(shape, dtype) -> bool:
    return (isinstance(shape, tuple) and len(shape) == 2 and shape[1] == 20 and 0 < shape[0] <= MAX_RESIDUES
            and np.dtype(dtype).kind == "f" and np.dtype(dtype).itemsize in (4, 8))


def _plausible_scores(scores: np.ndarray) -> bool:
    """Every row finite (a scored residue) or all NaN (a residue with no scores); at least one scored."""
    finite = np.isfinite(scores)
    rows_ok = finite.all(axis=1) | np.isnan(scores).all(axis=1)
    return bool(rows_ok.all() and finite.all(axis=1).any())


def load_partial(key: str, length: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(scores (L, 20), done (L,) bool) a stopped scan left under ``key``, or None (none, or not this shape)."""
    try:
        stored = np.load(results_dir() / f"{key}{PARTIAL_SUFFIX}", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if stored.shape != (length, 21):
        return None
    return np.array(stored[:, :20], dtype=float), stored[:, 20] > 0.5


def store_partial(key: str, scores: np.ndarray, done: np.ndarray) -> None:
    """Keep the rows a stopped scan computed (``done``) for the next scan of the chain (same rules as
    ``store_scores``)."""
    _store(f"{key}{PARTIAL_SUFFIX}", np.column_stack([np.asarray(scores, dtype=float),
                                                       np.asarray(done, dtype=float)]))


def drop_partial(key: str) -> None:
    """Forget a partial entry once the whole chain is stored."""
    with contextlib.suppress(OSError):
        os.unlink(results_dir() / f"{key}{PARTIAL_SUFFIX}")


def store_scores(key: str, scores: np.ndarray) -> None:
    """Cache ``scores`` under ``key`` (all-or-nothing; silently skipped where the cache is not writable)."""
    _store(f"{key}.npy", scores)


def _store(name: str, array: np.ndarray) -> None:
    try:
        folder = results_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, array, allow_pickle=False)
            os.replace(tmp, folder / name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    except OSError:
        pass  # a read-only cache only costs time

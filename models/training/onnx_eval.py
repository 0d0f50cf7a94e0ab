"""The exported model seen through onnxruntime only (what users run), for evaluation and the timing check."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from saprot_scan import run_logits
from saprot_scan import CLS_ID, EOS_ID, STRUCT_LETTERS, token_id

from .evaluate import LogitsFn


def onnx_session(path: Path, threads: int = 2) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_logits_fn(session: ort.InferenceSession) -> LogitsFn:
    def logits(ids: np.ndarray, attention: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        return run_logits(session, ids, attention, rows)
    return logits


def time_masked_marginal(session: ort.InferenceSession, length: int = 300, batch: int = 8,
                         seed: int = 0) -> tuple[float, float]:
    """(wall, CPU) seconds of a full masked-marginal scan of a random ``length``-residue chain (one pass per site).

    CPU seconds of this process are reported too: on a shared machine wall time mostly measures the neighbours.
    """
    rng = np.random.default_rng(seed)
    residues = rng.integers(token_id("A", "p"), token_id("Y", "c") + 1, size=length)
    ids = np.concatenate([[CLS_ID], residues, [EOS_ID]]).astype(np.int64)
    hidden = token_id("#", STRUCT_LETTERS[0]) + (ids - 5) % len(STRUCT_LETTERS)
    run = onnx_logits_fn(session)
    run(ids[None, :], np.ones((1, ids.size), dtype=np.int64))  # warm-up
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(1, length + 1, batch):
        sites = np.arange(start, min(start + batch, length + 1))
        masked = np.repeat(ids[None, :], sites.size, axis=0)
        masked[np.arange(sites.size), sites] = hidden[sites]
        run(masked, np.ones_like(masked), sites[:, None])
    return time.perf_counter() - started, time.process_time() - cpu_started

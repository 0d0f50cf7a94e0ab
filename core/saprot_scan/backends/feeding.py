"""How an ONNX SaProt export is fed: (input_ids, attention_mask[, query_rows]) -> logits.

saprot-scan's exports take ``query_rows`` (B, R) and return logits at those rows only, so a masked
scan skips the last layer's work on rows it never reads (export.py). Exports without that input (older
ones, or made by other tools) still work: their full logits are computed and the rows picked here.
"""
from __future__ import annotations

import numpy as np

#: The model's input and output names, declared once (the exporter writes them, the runtime checks them).
INPUT_IDS = "input_ids"
ATTENTION_MASK = "attention_mask"
QUERY_ROWS = "query_rows"
LOGITS = "logits"


def takes_query_rows(session) -> bool:
    """Whether the model computes logits only at requested rows."""
    return any(i.name == QUERY_ROWS for i in session.get_inputs())


def all_rows(ids: np.ndarray) -> np.ndarray:
    """Every row of every sequence: the full (B, T) logits."""
    batch, tokens = np.shape(ids)
    return np.broadcast_to(np.arange(tokens, dtype=np.int64), (batch, tokens)).copy()


def feed(ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None, with_rows: bool) -> dict[str, np.ndarray]:
    """The input dict for one run; ``rows`` None means all rows."""
    inputs = {INPUT_IDS: np.ascontiguousarray(ids, dtype=np.int64),
              ATTENTION_MASK: np.ascontiguousarray(mask, dtype=np.int64)}
    if with_rows:
        inputs[QUERY_ROWS] = np.ascontiguousarray(all_rows(ids) if rows is None else rows, dtype=np.int64)
    return inputs


def pick_rows(logits: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """Rows of full (B, T, V) logits, for models that return every row."""
    if rows is None:
        return logits
    return np.take_along_axis(logits, np.asarray(rows, dtype=np.int64)[:, :, None], axis=1)


def run_logits(session, ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """(B, R, 446) float32 logits at ``rows`` (B, R), or (B, T, 446) when ``rows`` is None."""
    with_rows = takes_query_rows(session)
    out = session.run([LOGITS], feed(ids, mask, rows, with_rows))[0]
    out = np.asarray(out, dtype=np.float32)
    return out if with_rows else pick_rows(out, rows)


class SessionModel:
    """Just enough of backends.onnx.LoadedModel for the scans, over a plain onnxruntime session (the int8
    check compares two files this way)."""

    def __init__(self, session, batch_size: int = 4):
        self.session = session
        self.batch_size = batch_size

    def logits(self, ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        return run_logits(self.session, ids, mask, rows)

    def default_batch_size(self, length: int) -> int:
        return self.batch_size


class EveryRowModel:
    """A model asked for every row's logits, the wanted rows picked afterwards: what a model without
    ``query_rows`` costs, and the reference the query-rows saving is measured and tested against."""

    def __init__(self, model):
        self.model = model
        self.device = getattr(model, "device", "cpu")

    def logits(self, ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        return pick_rows(self.model.logits(ids, mask), rows)

    def default_batch_size(self, length: int) -> int:
        return self.model.default_batch_size(length)

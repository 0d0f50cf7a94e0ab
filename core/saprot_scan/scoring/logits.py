"""What SaProt's scoring maths needs from a masked language model, and the progress callback it reports to.

Defined here, below ``backends``, so the maths never imports the scorers that use it (the ONNX sessions,
the benchmarks' other back ends). Standard library + numpy only.
"""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

#: ``progress(done, total)`` callbacks, in residues.
ProgressFn = Callable[[int, int], None]


class LogitsModel(Protocol):
    """A SaProt-vocabulary masked language model, as the scoring maths uses it."""

    def logits(self, ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """float32 logits (B, R, 446) at ``rows`` (B, R), or (B, T, 446) for every row when ``rows`` is None."""

    def default_batch_size(self, length: int) -> int:
        """Sequences per run for sequences of ``length`` tokens."""

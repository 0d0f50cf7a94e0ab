"""Checks on a SaProt checkpoint and on its ONNX export that hold for real checkpoints, not only random ones.

- The vocabulary: ``vocab.txt`` must be exactly SaProt's 446 tokens in SaProt's order (5 special tokens, then
  every amino-acid letter with every 3Di letter), since token ids are computed, not looked up.
- The export's agreement with PyTorch is judged on scale: real ESM-2-style checkpoints carry large outlier
  activations, so logits of size ~20-40 legitimately differ by more than a fixed 1e-4 in fp32. The check uses
  (a) the largest logit difference relative to the logit scale (the largest |logit| PyTorch gives), and
  (b) the largest difference in the numbers users see, log-probability differences log P(a) - log P(b)
  between amino acids at one position (every scan and variant score is a sum of those).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from saprot_scan.encoding.tokens import VOCAB_SIZE, vocabulary
from saprot_scan.errors import ModelError
from saprot_scan.scoring.marginals import aa_log_probs

#: precision -> (largest logit difference relative to the logit scale, largest log-probability-difference error).
#: A wrong export (an op, the mask or the rotary positions done differently) errs by order 1; fp32 rounding on a
#: small model with realistic magnitudes (weights std 0.5, outlier channels of 25-40) measured 6.5e-4 of the
#: logit scale and 1.1e-2 in log-probability differences (tests/core/test_model_checks.py), the tiny test model ~1e-6.
LIMITS = {"fp32": (1e-3, 2e-2), "fp16": (2e-2, 0.2)}


def check_vocab(folder: str | Path, required: bool = True) -> None:
    """Refuse a checkpoint whose vocab.txt is not SaProt's (or is missing, when ``required``)."""
    path = Path(folder) / "vocab.txt"
    if not path.is_file():
        if required:
            raise ModelError(f"{Path(folder).name}: no vocab.txt; a SaProt checkpoint has its 446-token vocabulary")
        return
    if path.stat().st_size > 1_000_000:  # SaProt's is 2 KB; never read a stranger's gigabytes into memory
        raise ModelError(f"vocab.txt is {path.stat().st_size} bytes, not SaProt's 446-token vocabulary")
    tokens = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    while tokens and not tokens[-1]:
        tokens.pop()
    want = vocabulary()
    if tokens == want:
        return
    if sorted(tokens) == sorted(want):
        first = next(i for i, (a, b) in enumerate(zip(tokens, want)) if a != b)
        raise ModelError(f"vocab.txt has SaProt's {VOCAB_SIZE} tokens in another order (line {first + 1} is "
                         f"{tokens[first]!r}, SaProt has {want[first]!r}); refusing it: its token ids would be wrong")
    sample = next((t for t in tokens if t not in set(want)), None)
    raise ModelError(f"vocab.txt is not SaProt's vocabulary ({len(tokens)} tokens, SaProt has {VOCAB_SIZE}"
                     + (f"; e.g. {sample!r} is not a SaProt token" if sample is not None else "")
                     + "); is it a SaProt checkpoint?")


def agreement(want: np.ndarray, got: np.ndarray) -> dict[str, float]:
    """How far ``got`` logits are from ``want`` (rows x 446, real tokens only), on scale and on scores."""
    want = np.asarray(want, dtype=np.float64).reshape(-1, want.shape[-1])
    got = np.asarray(got, dtype=np.float64).reshape(-1, got.shape[-1])
    absolute = float(np.abs(got - want).max())
    scale = float(max(1.0, np.abs(want).max()))
    delta = aa_log_probs(got) - aa_log_probs(want)  # rows x 20
    # log P(a) - log P(b) errs by delta[a] - delta[b]: the worst pair is the row's max minus its min
    score = float((delta.max(axis=-1) - delta.min(axis=-1)).max())
    return {"max_abs_logit_diff": absolute, "logit_scale": scale, "relative_logit_diff": absolute / scale,
            "max_score_diff": score}


def check_agreement(report: dict[str, float], precision: str) -> None:
    """Refuse an export whose logits or scores are further from PyTorch than its precision allows."""
    relative_limit, score_limit = LIMITS[precision]
    relative, score = report["relative_logit_diff"], report["max_score_diff"]
    if not (relative <= relative_limit and score <= score_limit):
        raise ModelError(f"exported {precision} model disagrees with the reference evaluation: logits differ by "
                         f"{report['max_abs_logit_diff']:.2e} ({relative:.2e} of the logit scale "
                         f"{report['logit_scale']:.3g}; limit {relative_limit:g}), log-probability differences by "
                         f"{score:.2e} (limit {score_limit:g})")

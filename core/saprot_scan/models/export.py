"""Export a SaProt-format Hugging Face checkpoint to ONNX and check the result before it is kept.

The graph is written directly from the checkpoint's weights (esm_graph.py), fp32 or fp16, with no torch or
transformers: the ``fetch`` extra (onnx, huggingface_hub) is all an export needs. Before the file is moved
into place, onnxruntime runs it on a padded batch and its logits are compared with a float64 evaluation of
the same checkpoint (reference.py), judged on scale (models/checks.py); a disagreement leaves nothing behind.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from saprot_scan.backends.feeding import pick_rows, run_logits
from saprot_scan.encoding.tokens import VOCAB_SIZE
from saprot_scan.models.stages import QUIET, Stages

#: Written into the ONNX metadata so the runtime can tell our exports from other models.
FORMAT_TAG = "saprot-scan-onnx-2"  # 2: logits only at the query_rows input


def sample_batch(length: int = 24, batch: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A padded batch of random residue tokens (different lengths) for export checks."""
    rng = np.random.default_rng(seed)
    ids = np.full((batch, length + 2), 1, dtype=np.int64)
    mask = np.zeros_like(ids)
    for b in range(batch):
        n = max(1, length - 5 * b)
        ids[b, 0] = 0
        ids[b, 1:n + 1] = rng.integers(5, VOCAB_SIZE, size=n)
        ids[b, n + 1] = 2
        mask[b, :n + 2] = 1
    return ids, mask


def sample_rows(mask: np.ndarray, count: int = 2, seed: int = 1) -> np.ndarray:
    """(B, count) random real-token rows of each sequence of a padded batch."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, int(m.sum()), size=count) for m in mask]).astype(np.int64)


def export_onnx(hf_dir: str | os.PathLike, out_path: str | os.PathLike, fp16: bool = False,
                verify: bool = True, stages: Stages = QUIET, source: str | None = None) -> dict:
    """Export ``hf_dir`` to ``out_path`` (fp16 weights and arithmetic with ``fp16``; inputs and logits stay
    as the runtime feeds them); return a report of its agreement with the float64 reference.

    The export must agree on a padded batch, judged on scale (``models.checks``: the logit difference
    relative to the logit scale, and log-probability differences), or nothing is written. A vocab.txt in
    ``hf_dir`` must be SaProt's.
    """
    from saprot_scan.models.checks import check_vocab
    from saprot_scan.models.esm_graph import build_model, float_parameter_count, read_config
    from saprot_scan.models.hashing import sha256_file
    from saprot_scan.outputs.files import check_writable

    hf_dir, out_path = Path(hf_dir), Path(out_path)
    check_writable(out_path)
    check_vocab(hf_dir, required=False)  # our own training runs write no tokenizer files; fetch/import require it
    precision = "fp16" if fp16 else "fp32"
    shape = read_config(hf_dir)
    tmp_dir = out_path.parent / f".{out_path.name}.export"
    tmp_dir.mkdir(exist_ok=True)
    tmp = tmp_dir / out_path.name
    meta = {"saprot_scan.format": FORMAT_TAG, "saprot_scan.vocab_size": str(VOCAB_SIZE),
            "saprot_scan.precision": precision, "saprot_scan.source": source or hf_dir.name}
    try:
        total = float_parameter_count(shape) * (2 if fp16 else 4)
        stages.say(f"reading {hf_dir.name} ({shape.layers} layers x {shape.hidden}) and building the {precision} graph")
        with stages.writing(f"writing {precision} weights", total) as written:
            built = build_model(hf_dir, tmp, precision, metadata=meta, on_bytes=written)
        report = {"max_abs_logit_diff": None}
        if verify:
            from saprot_scan.models.checks import check_agreement

            stages.say(f"checking the {precision} model against a float64 evaluation of the checkpoint")
            report.update(_compare(hf_dir, tmp))
            check_agreement(report, precision)
            stages.say(f"check passed: {report['relative_logit_diff']:.1e} of the logit scale, "
                       f"log-probability differences within {report['max_score_diff']:.1e}")
        for item in tmp_dir.iterdir():
            os.replace(item, out_path.parent / item.name)
    finally:
        for item in tmp_dir.glob("*"):
            item.unlink()
        tmp_dir.rmdir()
    report.update(path=str(out_path), sha256=sha256_file(out_path), fp16=fp16, external_data=built["external_data"])
    return report


def _compare(hf_dir: Path, onnx_path: Path) -> dict[str, float]:
    """Agreement (``models.checks.agreement``) with the float64 reference over every real token of a padded
    batch (one sequence with masked sites, so the token-dropout scale is exercised) and a few picked rows."""
    import onnxruntime as ort

    from saprot_scan.encoding.tokens import MASK_ID
    from saprot_scan.models.checkpoint import read_checkpoint
    from saprot_scan.models.checks import agreement
    from saprot_scan.models.esm_graph import Weights, read_config
    from saprot_scan.models.reference import reference_logits

    ids, mask = sample_batch()
    ids[0, 3] = ids[0, 9] = MASK_ID
    weights = Weights(read_checkpoint(hf_dir), read_config(hf_dir), hf_dir.name)
    want = reference_logits(weights, ids, mask)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("session.disable_prepacking", "1")  # one pass: no second copy of weights
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    full = run_logits(session, ids, mask)
    rows = sample_rows(mask, count=3, seed=2)
    picked = run_logits(session, ids, mask, rows)
    del session
    real = mask.astype(bool)
    width = want.shape[-1]
    return agreement(np.concatenate([want[real], pick_rows(want, rows).reshape(-1, width)]),
                     np.concatenate([full[real], picked.reshape(-1, width)]))

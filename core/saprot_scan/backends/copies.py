"""Faster copies of an exported model that live beside it: ``X.int8.onnx`` (CPU) and ``X.fp16.onnx`` (CUDA).

The runtime picks a copy only when it was made from exactly this fp32 file (its metadata names the
fp32 file's SHA-256) and, for int8, when the copy passed the score-agreement check at creation.
"""
from __future__ import annotations

from pathlib import Path

from saprot_scan.backends.base import PRECISIONS  # noqa: F401 (where callers used to find it)

#: An int8 copy is used only if its scores rank-agree with fp32 at least this well (mean per-position
#: Spearman rho of the 19 substitution scores on a check chain).
MIN_INT8_SPEARMAN = 0.99

#: Metadata keys written into variant files.
PARENT_SHA_KEY = "saprot_scan.parent_sha256"
CHECK_KEY = "saprot_scan.check_spearman_mean"
CHECK_MIN_KEY = "saprot_scan.check_spearman_min"
PRECISION_KEY = "saprot_scan.precision"


def copy_path(model_path: str | Path, precision: str) -> Path:
    """Where the ``precision`` copy of ``model_path`` lives: ``name.onnx`` -> ``name.int8.onnx``."""
    path = Path(model_path)
    stem = path.name[:-len(".onnx")] if path.name.endswith(".onnx") else path.name
    for known in (".int8", ".fp16"):
        if stem.endswith(known):
            stem = stem[:-len(known)]
    return path.with_name(f"{stem}.{precision}.onnx") if precision != "fp32" else path.with_name(f"{stem}.onnx")


def read_metadata(path: str | Path) -> dict[str, str]:
    """The model's custom metadata without loading its weights into a session."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}

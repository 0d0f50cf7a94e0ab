"""``python -m saprot_scan.testing.make_tiny_model OUT_DIR``: a small random SaProt-format checkpoint
(OUT_DIR/hf) and its ONNX export by the core's exporter (OUT_DIR/tiny.onnx). Making the checkpoint needs torch and
transformers (the test extra); the export itself does not."""
from __future__ import annotations

import sys
from pathlib import Path


def make_tiny_model(out_dir: str | Path, seed: int = 0) -> Path:
    from saprot_scan.models.architectures import random_checkpoint
    from saprot_scan.models.export import export_onnx

    out = Path(out_dir)
    onnx_path = out / "tiny.onnx"
    if not onnx_path.exists():
        hf = random_checkpoint(out / "hf", "tiny", seed=seed)
        export_onnx(hf, onnx_path)
    return onnx_path


if __name__ == "__main__":
    print(make_tiny_model(sys.argv[1] if len(sys.argv) > 1 else "tiny-model"))

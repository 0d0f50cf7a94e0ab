"""Export a SaProt-format Hugging Face checkpoint to ONNX and check it against PyTorch.

Facts behind the choices (shared/docs/onnx-and-speed.md): the dynamo exporter of an eager-attention
model gives ~2e-6 logit differences and runs faster on onnxruntime than an sdpa export; large models
need external data; fp16 conversion with onnxruntime's own converter (keeping fp32 inputs/outputs) loads.
Needs the ``export`` extra (torch, transformers, onnx).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import InputError, ModelError
from .tokens import VOCAB_SIZE

#: Written into the ONNX metadata so the runtime can tell our exports from other models.
FORMAT_TAG = "saprot-scan-onnx-1"
EXTERNAL_DATA_THRESHOLD = 1_800_000_000  # bytes of weights above which protobuf's 2 GB limit bites


def _load_checkpoint(hf_dir: Path):
    import torch
    from transformers import AutoConfig, EsmForMaskedLM

    if not (hf_dir / "config.json").is_file():
        raise InputError(f"{hf_dir}: no config.json; expected a Hugging Face checkpoint folder")
    config = AutoConfig.from_pretrained(hf_dir)
    if getattr(config, "model_type", "") != "esm" or config.vocab_size != VOCAB_SIZE:
        raise ModelError(f"{hf_dir}: not a SaProt checkpoint (need an ESM model with a {VOCAB_SIZE}-token "
                         f"vocabulary, found {config.model_type} with {config.vocab_size})")
    model = EsmForMaskedLM.from_pretrained(hf_dir, attn_implementation="eager", dtype=torch.float32)
    return model.eval()


class _LogitsOnly:
    """Wraps the HF model so the graph has exactly (input_ids, attention_mask) -> logits."""

    @staticmethod
    def build(model):
        import torch

        class Wrapper(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask):
                return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits

        return Wrapper(model).eval()


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


def torch_logits(model, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reference logits from PyTorch (fp32)."""
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits
    return out.float().numpy()


def export_onnx(hf_dir: str | os.PathLike, out_path: str | os.PathLike, fp16: bool = False,
                verify: bool = True, opset: int = 18) -> dict:
    """Export ``hf_dir`` to ``out_path``; return a report with the max logit difference to PyTorch.

    fp32 exports must agree with PyTorch within 1e-4 on a padded batch, or nothing is written.
    """
    import torch

    from .atomic import check_writable
    from .hashing import sha256_file

    hf_dir, out_path = Path(hf_dir), Path(out_path)
    check_writable(out_path)
    model = _load_checkpoint(hf_dir)
    wrapper = _LogitsOnly.build(model)
    ids, mask = sample_batch()
    n_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    external = n_bytes > EXTERNAL_DATA_THRESHOLD
    tmp_dir = out_path.parent / f".{out_path.name}.export"
    tmp_dir.mkdir(exist_ok=True)
    tmp = tmp_dir / out_path.name
    try:
        batch, seq = torch.export.Dim("batch", min=1), torch.export.Dim("sequence", min=3, max=1026)
        program = torch.onnx.export(
            wrapper, (torch.from_numpy(ids), torch.from_numpy(mask)), dynamo=True, opset_version=opset,
            input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
            optimize=True, verbose=False,
        )
        program.save(str(tmp), external_data=external)
        _finish_model(tmp, fp16=fp16, external=external, source=hf_dir)
        report = {"max_abs_logit_diff": None}
        if verify:
            diff = _compare(model, tmp, ids, mask)
            report["max_abs_logit_diff"] = diff
            limit = 5e-2 if fp16 else 1e-4
            if not diff <= limit:
                raise ModelError(f"exported logits differ from PyTorch by {diff:.2e} (limit {limit:g})")
        for item in tmp_dir.iterdir():
            os.replace(item, out_path.parent / item.name)
    finally:
        for item in tmp_dir.glob("*"):
            item.unlink()
        tmp_dir.rmdir()
    report.update(path=str(out_path), sha256=sha256_file(out_path), fp16=fp16, external_data=external)
    return report


def _finish_model(path: Path, fp16: bool, external: bool, source: Path) -> None:
    """Convert to fp16 if asked, and tag the model so the runtime can recognise it."""
    import onnx

    model = onnx.load(str(path), load_external_data=True)
    if fp16:
        from onnxruntime.transformers.float16 import convert_float_to_float16

        model = convert_float_to_float16(model, keep_io_types=True)
    meta = {"saprot_scan.format": FORMAT_TAG, "saprot_scan.vocab_size": str(VOCAB_SIZE),
            "saprot_scan.precision": "fp16" if fp16 else "fp32", "saprot_scan.source": source.name}
    del model.metadata_props[:]
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    for item in path.parent.iterdir():
        item.unlink()
    if external:
        onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                  location=path.name + ".data")
    else:
        onnx.save(model, str(path))


def _compare(model, onnx_path: Path, ids: np.ndarray, mask: np.ndarray) -> float:
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    want = torch_logits(model, ids, mask)
    real = mask.astype(bool)
    return float(np.abs(got[real] - want[real]).max())

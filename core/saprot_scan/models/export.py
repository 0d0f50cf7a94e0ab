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

from saprot_scan.errors import InputError, ModelError
from saprot_scan.backends.feeding import ATTENTION_MASK, INPUT_IDS, LOGITS, QUERY_ROWS, pick_rows, run_logits
from saprot_scan.encoding.tokens import MAX_POSITIONS, VOCAB_SIZE

#: Written into the ONNX metadata so the runtime can tell our exports from other models.
FORMAT_TAG = "saprot-scan-onnx-2"  # 2: logits only at the query_rows input
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


class _QueryRowsModel:
    """Wraps the HF model as (input_ids, attention_mask, query_rows) -> logits at the query rows only.

    Why: a masked-marginal pass needs the logits of one row (the masked site), and in the last layer
    only that row's query, attention output, MLP and LM head feed them; every other layer must still run
    on all rows because later layers read their keys and values. Restricting the last layer and the head
    is exact (same arithmetic on the rows kept) and saves about 1/12 of a 35M pass. ``query_rows`` =
    ``arange(T)`` for every sequence gives the full logits (the wild-type-marginal pass).
    """

    @staticmethod
    def build(model):
        import torch

        class Wrapper(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, query_rows):
                esm = self.inner.esm
                hidden = esm.embeddings(input_ids=input_ids, attention_mask=attention_mask)
                additive = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
                positions = torch.arange(hidden.shape[1], device=hidden.device).unsqueeze(0)
                cos, sin = esm.rotary_embeddings(hidden, positions)
                for layer in esm.encoder.layer[:-1]:
                    hidden = layer(hidden, attention_mask=additive, position_embeddings=(cos, sin))
                hidden = _last_layer_at_rows(esm.encoder.layer[-1], hidden, additive, cos, sin, query_rows)
                hidden = esm.encoder.emb_layer_norm_after(hidden)
                return self.inner.lm_head(hidden)

        return Wrapper(model).eval()


def _rotated(x, cos, sin):
    """Rotary position embedding as ESM applies it (transformers' own ``rotate_half``), with ``cos``/``sin``
    broadcast over the heads."""
    from transformers.models.esm.modeling_esm import rotate_half

    return x * cos.unsqueeze(1) + rotate_half(x) * sin.unsqueeze(1)


def _rows(x, rows):
    """x[b, rows[b, r]] for (B, T, ...) x and (B, R) rows."""
    import torch

    index = rows.reshape(*rows.shape, *([1] * (x.dim() - 2))).expand(*rows.shape, *x.shape[2:])
    return torch.gather(x, 1, index)


def _last_layer_at_rows(layer, hidden, additive, cos, sin, rows):
    """ESM's pre-LayerNorm layer (attention, residual, MLP, residual) with queries only at ``rows``;
    keys and values still come from every row. Same operations as transformers' EsmLayer."""
    import torch

    attention = layer.attention.self
    heads, size = attention.num_attention_heads, attention.attention_head_size
    batch, tokens, width = hidden.shape
    normed = layer.attention.LayerNorm(hidden)
    picked = _rows(normed, rows)
    query = attention.query(picked).view(batch, -1, heads, size).transpose(1, 2) * size ** -0.5
    key = attention.key(normed).view(batch, tokens, heads, size).transpose(1, 2)
    value = attention.value(normed).view(batch, tokens, heads, size).transpose(1, 2)
    cos_q, sin_q = _rows(cos.expand(batch, -1, -1), rows), _rows(sin.expand(batch, -1, -1), rows)
    query, key = _rotated(query, cos_q, sin_q), _rotated(key, cos, sin)
    weights = torch.softmax(torch.matmul(query, key.transpose(2, 3)) + additive, dim=-1)
    context = torch.matmul(weights, value).transpose(1, 2).reshape(batch, -1, width)
    attended = layer.attention.output.dense(context) + _rows(hidden, rows)
    return layer.output.dense(layer.intermediate(layer.LayerNorm(attended))) + attended


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


def torch_logits(model, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reference logits from PyTorch (fp32)."""
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits
    return out.float().numpy()


def export_onnx(hf_dir: str | os.PathLike, out_path: str | os.PathLike, fp16: bool = False,
                verify: bool = True, opset: int = 18) -> dict:
    """Export ``hf_dir`` to ``out_path``; return a report of its agreement with PyTorch.

    The export must agree with PyTorch on a padded batch, judged on scale (``models.checks``: the logit
    difference relative to the logit scale, and log-probability differences), or nothing is written. A
    vocab.txt in ``hf_dir`` must be SaProt's.
    """
    import torch

    from saprot_scan.outputs.files import check_writable
    from saprot_scan.models.hashing import sha256_file

    hf_dir, out_path = Path(hf_dir), Path(out_path)
    check_writable(out_path)
    from saprot_scan.models.checks import check_vocab

    check_vocab(hf_dir, required=False)  # our own training runs write no tokenizer files; fetch/import require it
    model = _load_checkpoint(hf_dir)
    wrapper = _QueryRowsModel.build(model)
    ids, mask = sample_batch()
    rows = sample_rows(mask)
    n_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    external = n_bytes > EXTERNAL_DATA_THRESHOLD
    tmp_dir = out_path.parent / f".{out_path.name}.export"
    tmp_dir.mkdir(exist_ok=True)
    tmp = tmp_dir / out_path.name
    try:
        batch, seq = torch.export.Dim("batch", min=1), torch.export.Dim("sequence", min=3, max=MAX_POSITIONS)
        picked = torch.export.Dim("rows", min=1, max=MAX_POSITIONS)
        program = torch.onnx.export(
            wrapper, (torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(rows)), dynamo=True,
            opset_version=opset, input_names=[INPUT_IDS, ATTENTION_MASK, QUERY_ROWS], output_names=[LOGITS],
            dynamic_shapes={INPUT_IDS: {0: batch, 1: seq}, ATTENTION_MASK: {0: batch, 1: seq},
                            QUERY_ROWS: {0: batch, 1: picked}},
            optimize=True, verbose=False,
        )
        program.save(str(tmp), external_data=external)
        _finish_model(tmp, fp16=fp16, external=external, source=hf_dir)
        report = {"max_abs_logit_diff": None}
        if verify:
            from saprot_scan.models.checks import check_agreement

            report.update(_compare(model, tmp, ids, mask))
            check_agreement(report, "fp16" if fp16 else "fp32")
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


def _compare(model, onnx_path: Path, ids: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Agreement with PyTorch (``models.checks.agreement``) over every real token and a few picked rows."""
    import onnxruntime as ort

    from saprot_scan.models.checks import agreement

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    want = torch_logits(model, ids, mask)
    full = run_logits(session, ids, mask)
    rows = sample_rows(mask, count=3, seed=2)
    picked = run_logits(session, ids, mask, rows)
    real = mask.astype(bool)
    width = want.shape[-1]
    return agreement(np.concatenate([want[real], pick_rows(want, rows).reshape(-1, width)]),
                     np.concatenate([full[real], picked.reshape(-1, width)]))

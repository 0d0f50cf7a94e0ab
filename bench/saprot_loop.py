"""The baseline: SaProt's own way of scoring, in PyTorch, written from its published method.

One forward pass per position with that position's amino acid hidden ("#" + its 3Di letter), batch 1,
fp32, the Hugging Face EsmForMaskedLM as SaProt loads it; P(aa) sums the softmax over the 21 tokens
that carry aa. This is what saprot-scan is measured against.
"""
from __future__ import annotations

import numpy as np


def aa_log_probs_torch(logits):
    """log P(aa) for the 20 amino acids from (..., 446) logits, summing each amino acid's 21 tokens."""
    import torch

    probs = torch.softmax(logits.double(), dim=-1)
    grouped = probs[..., 5:5 + 21 * 20].reshape(*probs.shape[:-1], 20, 21).sum(dim=-1)
    return torch.log(grouped)


def load_torch_model(hf_dir, device: str = "cpu"):
    """fp32 EsmForMaskedLM with the library's default attention, as SaProt's loader gets it."""
    import torch
    from transformers import EsmForMaskedLM

    model = EsmForMaskedLM.from_pretrained(hf_dir, dtype=torch.float32).to(device).eval()
    with torch.no_grad():  # own the weights in memory: file-backed (mmap) pages get evicted under pressure
        for param in model.parameters():
            param.data = param.data.clone()
    return model


def masked_positions_loop(model, ids: np.ndarray, struct: str, positions, device: str = "cpu") -> np.ndarray:
    """(len(positions), 20) log P(aa) with one masked position per forward pass (SaProt's loop)."""
    import torch

    from saprot_scan import token_id

    out = np.zeros((len(positions), 20))
    base = torch.from_numpy(np.asarray(ids, dtype=np.int64))[None, :].to(device)
    mask = torch.ones_like(base)
    with torch.no_grad():
        for row, pos in enumerate(positions):
            batch = base.clone()
            batch[0, pos + 1] = token_id("#", struct[pos])
            logits = model(input_ids=batch, attention_mask=mask).logits[0, pos + 1]
            out[row] = aa_log_probs_torch(logits).cpu().numpy()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return out


def wt_pass(model, ids: np.ndarray, device: str = "cpu") -> np.ndarray:
    """(L, 20) log P(aa) from one unmasked pass (wild-type marginal)."""
    import torch

    base = torch.from_numpy(np.asarray(ids, dtype=np.int64))[None, :].to(device)
    with torch.no_grad():
        logits = model(input_ids=base, attention_mask=torch.ones_like(base)).logits[0, 1:-1]
        out = aa_log_probs_torch(logits).cpu().numpy()
    return out

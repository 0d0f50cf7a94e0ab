"""ESM's forward pass in float64 numpy, straight from the checkpoint: what the exporter checks its graph against.

Why a second implementation: the ONNX graph is written by hand (esm_graph.py), and a user's export must be
checked where torch is not installed. This one shares nothing with the graph but the weight reader: plain
array arithmetic in transformers' order (tests hold both to transformers' EsmForMaskedLM itself). It reads
one layer's weights at a time, so checking a 650M model needs little memory beyond its activations.
"""
from __future__ import annotations

import math

import numpy as np

from saprot_scan.encoding.tokens import MASK_ID, VOCAB_SIZE
from saprot_scan.models.esm_graph import Weights

_erf = np.frompyfunc(math.erf, 1, 1)


def _gelu(x: np.ndarray) -> np.ndarray:
    return x * 0.5 * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def _layer_norm(x: np.ndarray, weights: Weights, prefix: str) -> np.ndarray:
    width = weights.shape.hidden
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + weights.shape.eps) * weights.get(prefix + ".weight", (width,))
            + weights.get(prefix + ".bias", (width,)))


def _linear(x: np.ndarray, weights: Weights, prefix: str, n_in: int, n_out: int) -> np.ndarray:
    return x @ weights.get(prefix + ".weight", (n_out, n_in)).astype(np.float64).T + weights.get(prefix + ".bias", (n_out,))


def _rotary(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    half = x.shape[-1] // 2
    return x * cos + np.concatenate([-x[..., half:], x[..., :half]], axis=-1) * sin


def reference_logits(weights: Weights, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(B, T, 446) float64 logits of ``ids`` with ``mask`` (1 = real token)."""
    shape = weights.shape
    batch, tokens = ids.shape
    heads, size = shape.heads, shape.head_size
    hidden = weights.get("embeddings.word_embeddings.weight", (VOCAB_SIZE, shape.hidden)).astype(np.float64)[ids]
    if shape.token_dropout:
        is_mask = ids == MASK_ID
        hidden[is_mask] = 0.0
        observed = is_mask.sum(-1) / mask.sum(-1)
        hidden = hidden * (1 - 0.15 * 0.8) / (1 - observed)[:, None, None]
    if shape.layer_norm_before:
        hidden = _layer_norm(hidden, weights, "embeddings.layer_norm")
    hidden = hidden * mask[:, :, None]
    inv_freq = 1.0 / (shape.rope_theta ** (np.arange(0, size, 2, dtype=np.float64) / size))
    angles = np.arange(tokens)[:, None] * inv_freq[None, :]
    angles = np.concatenate([angles, angles], axis=-1)
    cos, sin = np.cos(angles), np.sin(angles)
    additive = np.where(mask[:, None, None, :] > 0, 0.0, -1e300)

    def split(x):
        return x.reshape(batch, tokens, heads, size).transpose(0, 2, 1, 3)

    for index in range(shape.layers):
        prefix = f"encoder.layer.{index}"
        normed = _layer_norm(hidden, weights, f"{prefix}.attention.LayerNorm")
        w = shape.hidden
        q = split(_linear(normed, weights, f"{prefix}.attention.self.query", w, w)) * size ** -0.5
        k = split(_linear(normed, weights, f"{prefix}.attention.self.key", w, w))
        v = split(_linear(normed, weights, f"{prefix}.attention.self.value", w, w))
        scores = _rotary(q, cos, sin) @ _rotary(k, cos, sin).transpose(0, 1, 3, 2) + additive
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        context = (scores / scores.sum(-1, keepdims=True)) @ v
        context = context.transpose(0, 2, 1, 3).reshape(batch, tokens, w)
        hidden = _linear(context, weights, f"{prefix}.attention.output.dense", w, w) + hidden
        up = _gelu(_linear(_layer_norm(hidden, weights, f"{prefix}.LayerNorm"), weights,
                           f"{prefix}.intermediate.dense", w, shape.intermediate))
        hidden = _linear(up, weights, f"{prefix}.output.dense", shape.intermediate, w) + hidden
    hidden = _layer_norm(hidden, weights, "encoder.emb_layer_norm_after")
    x = _layer_norm(_gelu(_linear(hidden, weights, "lm_head.dense", shape.hidden, shape.hidden)), weights,
                    "lm_head.layer_norm")
    decoder = weights.get("lm_head.decoder.weight", (VOCAB_SIZE, shape.hidden)).astype(np.float64)
    return x @ decoder.T + weights.get("lm_head.bias", (VOCAB_SIZE,))

"""SaProt's network (ESM-2 with a 446-token vocabulary) written out as an ONNX graph, weights streamed to disk.

Why by hand: the exporter needs no torch or transformers (``saprot-scan[fetch]``), builds fp16 natively (the
fp32->fp16 converter runs onnx shape inference over the whole proto, which cannot exceed protobuf's 2 GB),
and keeps one weight tensor in memory at a time. Every operation mirrors transformers' EsmForMaskedLM in
evaluation mode: token-dropout embedding scale, rotary positions (non-interleaved halves, queries scaled
before rotation), pre-LayerNorm layers with erf GELU, the final LayerNorm, and the LM head (dense, GELU,
LayerNorm, decoder tied to the embeddings, bias).

The I/O contract is backends/feeding.py's: (input_ids, attention_mask, query_rows) -> logits at the query
rows, always float32. Every layer but the last runs on all rows; the last one computes queries, MLP and head
only at ``query_rows`` (keys and values still from every row), which is exact. The attention is written in
the shape models/fuse.py recognises, so the int8 path still fuses it onto onnxruntime's kernels.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import numpy as np

from saprot_scan.backends.feeding import ATTENTION_MASK, INPUT_IDS, LOGITS, QUERY_ROWS
from saprot_scan.encoding.tokens import MASK_ID, VOCAB_SIZE
from saprot_scan.errors import ModelError
from saprot_scan.models.checkpoint import LazyTensor, read_checkpoint
from saprot_scan.models.esm_config import EsmShape, read_config  # noqa: F401  (read_config: part of this module's API)

OPSET = 18
#: Bytes of weights above which they go to a ``.data`` file beside the model, written one tensor at a time.
#: Far below protobuf's 2 GB limit on purpose: weights kept inline are copied several times while the proto is
#: assembled and serialised (measured: 6.6 GB peak for 650M's 1.3 GB of fp16 weights inline, issue 18).
EXTERNAL_DATA_THRESHOLD = 500_000_000
_ALIGN = 65536  # external tensors start at multiples of this, so onnxruntime can memory-map them anywhere
_TOKEN_DROPOUT_TRAIN_KEPT = 1 - 0.15 * 0.8  # ESM's training mask ratio, as transformers hard-codes it
INV_FREQ = "rotary_embeddings.inv_freq"  # the name models/fuse.py looks for


class Weights:
    """The checkpoint's tensors under ESM's names, with or without the ``esm.`` prefix; the decoder falls
    back to the word embeddings it is tied to."""

    def __init__(self, tensors: dict[str, LazyTensor], shape: EsmShape, source: str):
        self.tensors, self.shape, self.source = tensors, shape, source
        anchor = "embeddings.word_embeddings.weight"
        found = [k[:-len(anchor)] for k in tensors if k.endswith(anchor)]
        if len(found) != 1:
            raise ModelError(f"{source}: no ESM word embeddings in the weights")
        self.prefix = found[0]

    def get(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        key = name if name.startswith("lm_head.") else self.prefix + name
        if key == "lm_head.decoder.weight" and (self.shape.tied or key not in self.tensors):
            key = self.prefix + "embeddings.word_embeddings.weight"  # tied, as transformers loads it
        tensor = self.tensors.get(key)
        if tensor is None and ".LayerNorm." in key:  # older names, which transformers still writes
            tensor = self.tensors.get(key.replace(".weight", ".gamma").replace(".bias", ".beta"))
        if tensor is None:
            raise ModelError(f"{self.source}: weight {key} is missing")
        if tuple(tensor.shape) != shape:
            raise ModelError(f"{self.source}: weight {key} has shape {tuple(tensor.shape)}, the config says {shape}")
        array = tensor.numpy()
        if not np.all(np.isfinite(array)):
            raise ModelError(f"{self.source}: weight {key} holds NaN or infinite values")
        return array


class Initializers:
    """Graph constants: small ones inline, weights inline or appended to one external data file."""

    def __init__(self, dtype: np.dtype, data_path: Path | None, on_bytes: Callable[[int], None] | None):
        self.dtype, self.data_path, self.on_bytes = dtype, data_path, on_bytes
        self.protos: list = []
        self._file = open(data_path, "wb") if data_path else None

    def weight(self, name: str, array: np.ndarray, transpose: bool = False) -> str:
        """Add a weight (cast to the graph's float type; a Linear's (out, in) matrix transposed for MatMul)."""
        return self.put(name, (array.T if transpose else array).astype(self.dtype, copy=False))

    def put(self, name: str, array: np.ndarray, inline: bool = False) -> str:
        """Add a tensor as it is (any dtype): inline (always with ``inline``), or appended to the external data file."""
        from onnx import TensorProto, helper, numpy_helper

        out = np.ascontiguousarray(array)
        if self._file is None or inline:
            self.protos.append(numpy_helper.from_array(out, name))
        else:
            offset = self._file.seek(0, os.SEEK_END)
            pad = -offset % _ALIGN
            self._file.write(b"\0" * pad)
            self._file.write(out.tobytes())
            tensor = TensorProto(name=name, dims=out.shape,
                                 data_type=helper.np_dtype_to_tensor_dtype(out.dtype),
                                 data_location=TensorProto.EXTERNAL)
            for key, value in (("location", self.data_path.name), ("offset", str(offset + pad)),
                               ("length", str(out.nbytes))):
                tensor.external_data.add(key=key, value=value)
            self.protos.append(tensor)
        if self.on_bytes:
            self.on_bytes(out.nbytes)
        return name

    def const(self, name: str, value, dtype=None) -> str:
        from onnx import numpy_helper

        self.protos.append(numpy_helper.from_array(np.asarray(value, dtype=dtype or self.dtype), name))
        return name

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class _Builder:
    """Appends nodes with generated output names."""

    def __init__(self, inits: Initializers):
        self.inits = inits
        self.nodes: list = []
        self._count = 0

    def op(self, op_type: str, inputs: list[str], name: str | None = None, **attrs) -> str:
        from onnx import helper

        self._count += 1
        out = name or f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"n{self._count}_{op_type}", **attrs))
        return out

    def linear(self, x: str, weights: Weights, prefix: str, n_in: int, n_out: int) -> str:
        w = self.inits.weight(f"{prefix}.weight", weights.get(f"{prefix}.weight", (n_out, n_in)), transpose=True)
        b = self.inits.weight(f"{prefix}.bias", weights.get(f"{prefix}.bias", (n_out,)))
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def layer_norm(self, x: str, weights: Weights, prefix: str, eps: float) -> str:
        width = weights.shape.hidden
        scale = self.inits.weight(f"{prefix}.weight", weights.get(f"{prefix}.weight", (width,)))
        bias = self.inits.weight(f"{prefix}.bias", weights.get(f"{prefix}.bias", (width,)))
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=eps)

    def gelu(self, x: str) -> str:
        """x * 0.5 * (1 + erf(x / sqrt(2))), ESM's exact GELU in transformers' order of operations."""
        half = self.op("Mul", [x, "c_half"])
        return self.op("Mul", [half, self.op("Add", [self.op("Erf", [self.op("Div", [x, "c_sqrt2"])]), "c_one"])])


def _heads(b: _Builder, bsd: str) -> str:
    """(B, S, hidden) -> (B, heads, S, head_size)."""
    return b.op("Transpose", [b.op("Reshape", [bsd, "c_heads_shape"])], perm=[0, 2, 1, 3])


def _rotate(b: _Builder, x: str, cos: str, sin: str) -> str:
    """x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x2, x1) over the head's two halves."""
    first = b.op("Slice", [x, "c_zero_1", "c_half_head", "c_axis_last"])
    second = b.op("Slice", [x, "c_half_head", "c_head", "c_axis_last"])
    rotated = b.op("Concat", [b.op("Neg", [second]), first], axis=-1)
    return b.op("Add", [b.op("Mul", [x, cos]), b.op("Mul", [rotated, sin])])


def _attention(b: _Builder, weights: Weights, prefix: str, normed: str, query_source: str, cos_q: str,
               sin_q: str, cos_k: str, sin_k: str) -> str:
    """Self-attention output (before its dense layer) for queries from ``query_source``, keys/values from
    ``normed``; laid out as models/fuse.py matches it."""
    width = weights.shape.hidden
    q = _heads(b, b.linear(query_source, weights, f"{prefix}.self.query", width, width))
    k = _heads(b, b.linear(normed, weights, f"{prefix}.self.key", width, width))
    v = _heads(b, b.linear(normed, weights, f"{prefix}.self.value", width, width))
    # Rotary positions, scores and softmax in float32 in every precision: query-key products of real
    # checkpoints (outlier channels) overflow float16's 65504; they are a small share of the work.
    q = _rotate(b, b.op("Mul", [_to_float32(b, q), "c_query_scale"]), cos_q, sin_q)
    k = _rotate(b, _to_float32(b, k), cos_k, sin_k)
    scores = b.op("Add", [b.op("MatMul", [q, b.op("Transpose", [k], perm=[0, 1, 3, 2])]), "additive_mask"])
    context = b.op("MatMul", [_cast(b, b.op("Softmax", [scores], axis=-1)), v])
    return b.op("Reshape", [b.op("Transpose", [context], perm=[0, 2, 1, 3]), "c_hidden_shape"])


def _layer(b: _Builder, weights: Weights, index: int, hidden: str, rows: str | None, tables: dict[str, str]) -> str:
    """One pre-LayerNorm ESM layer; with ``rows`` (B, R, 1), only those rows come out."""
    shape = weights.shape
    prefix = f"encoder.layer.{index}"
    normed = b.layer_norm(hidden, weights, f"{prefix}.attention.LayerNorm", shape.eps)
    if rows is None:
        query_source, residual = normed, hidden
        cos_q, sin_q = tables["cos"], tables["sin"]
    else:
        query_source = b.op("GatherND", [normed, rows], batch_dims=1)
        residual = b.op("GatherND", [hidden, rows], batch_dims=1)
        cos_q, sin_q = tables["cos_rows"], tables["sin_rows"]
    context = _attention(b, weights, f"{prefix}.attention", normed, query_source, cos_q, sin_q,
                         tables["cos"], tables["sin"])
    attended = b.op("Add", [b.linear(context, weights, f"{prefix}.attention.output.dense", shape.hidden, shape.hidden),
                            residual])
    inner = b.layer_norm(attended, weights, f"{prefix}.LayerNorm", shape.eps)
    up = b.gelu(b.linear(inner, weights, f"{prefix}.intermediate.dense", shape.hidden, shape.intermediate))
    return b.op("Add", [b.linear(up, weights, f"{prefix}.output.dense", shape.intermediate, shape.hidden), attended])


def _constants(b: _Builder, shape: EsmShape) -> None:
    inits, dtype = b.inits, b.inits.dtype
    inits.const("c_half", 0.5)
    inits.const("c_one", 1.0)
    inits.const("c_sqrt2", math.sqrt(2.0))
    inits.const("c_query_scale", shape.head_size ** -0.5, np.float32)
    inits.const("c_mask_min", np.finfo(np.float32).min, np.float32)
    inits.const("c_heads_shape", [0, 0, shape.heads, shape.head_size], np.int64)
    inits.const("c_hidden_shape", [0, 0, shape.hidden], np.int64)
    inits.const("c_zero_1", [0], np.int64)
    inits.const("c_half_head", [shape.head_size // 2], np.int64)
    inits.const("c_head", [shape.head_size], np.int64)
    inits.const("c_axes_01", [0, 1], np.int64)
    inits.const("c_axis_1", [1], np.int64)
    inits.const("c_axis_last", [-1], np.int64)
    inits.const("c_axes_12", [1, 2], np.int64)
    inits.const("c_one_f32", 1.0, np.float32)
    inits.const("c_kept_f32", _TOKEN_DROPOUT_TRAIN_KEPT, np.float32)
    inits.const("c_zero", 0.0)
    inits.const("c_mask_id", MASK_ID, np.int64)
    inits.const("c_int_zero", 0, np.int64)
    inits.const("c_int_one", 1, np.int64)
    inits.const("c_batch_scale_shape", [-1, 1, 1], np.int64)


def _embeddings(b: _Builder, weights: Weights) -> tuple[str, str]:
    """(hidden states, float mask): word embeddings with ESM's token-dropout scale, padding zeroed."""
    from onnx import TensorProto

    shape, f32 = weights.shape, TensorProto.FLOAT
    table = b.inits.weight("embeddings.word_embeddings.weight",
                           weights.get("embeddings.word_embeddings.weight", (VOCAB_SIZE, shape.hidden)))
    hidden = b.op("Gather", [table, INPUT_IDS])
    mask_f32 = b.op("Cast", [ATTENTION_MASK], to=f32)
    if shape.token_dropout:
        # masked tokens embed to 0; the rest scale by (1 - 0.12) / (1 - share of masked tokens)
        is_mask = b.op("Equal", [INPUT_IDS, "c_mask_id"])
        hidden = b.op("Where", [b.op("Unsqueeze", [is_mask, "c_axis_last"]), "c_zero", hidden])
        masked = b.op("ReduceSum", [b.op("Cast", [is_mask], to=f32), "c_axis_last"], keepdims=0)
        observed = b.op("Div", [masked, b.op("ReduceSum", [mask_f32, "c_axis_last"], keepdims=0)])
        factor = b.op("Reshape", [b.op("Sub", ["c_one_f32", observed]), "c_batch_scale_shape"])
        hidden = b.op("Mul", [hidden, _cast(b, "c_kept_f32")])
        hidden = b.op("Div", [hidden, _cast(b, factor)])
    if shape.layer_norm_before:
        hidden = b.layer_norm(hidden, weights, "embeddings.layer_norm", shape.eps)
    hidden = b.op("Mul", [hidden, b.op("Unsqueeze", [_cast(b, mask_f32), "c_axis_last"])])
    return hidden, mask_f32


def _cast(b: _Builder, name: str) -> str:
    """A float32 tensor in the graph's float type."""
    from onnx import helper

    if b.inits.dtype == np.float32:
        return name
    return b.op("Cast", [name], to=helper.np_dtype_to_tensor_dtype(b.inits.dtype))


def _to_float32(b: _Builder, name: str) -> str:
    from onnx import TensorProto

    return name if b.inits.dtype == np.float32 else b.op("Cast", [name], to=TensorProto.FLOAT)


def _rotary_tables(b: _Builder, shape: EsmShape) -> dict[str, str]:
    """cos/sin of position x inv_freq (float32, as transformers computes them), for all rows and query rows."""
    from onnx import TensorProto

    inv_freq = 1.0 / (shape.rope_theta ** (np.arange(0, shape.head_size, 2, dtype=np.float32) / shape.head_size))
    b.inits.const(INV_FREQ, inv_freq.astype(np.float32), np.float32)
    length = b.op("Gather", [b.op("Shape", [INPUT_IDS]), "c_int_one"], axis=0)
    positions = b.op("Cast", [b.op("Range", ["c_int_zero", length, "c_int_one"])], to=TensorProto.FLOAT)
    freqs = b.op("Mul", [b.op("Unsqueeze", [positions, "c_axis_last"]), INV_FREQ])
    angles = b.op("Concat", [freqs, freqs], axis=-1)
    tables = {}
    for part in ("cos", "sin"):
        table = b.op(part.capitalize(), [angles])  # (T, head_size), float32 like the attention scores
        tables[part] = b.op("Unsqueeze", [table, "c_axes_01"])  # (1, 1, T, head_size)
        tables[f"{part}_rows"] = b.op("Unsqueeze", [b.op("Gather", [table, QUERY_ROWS], axis=0), "c_axis_1"])
    return tables


def _head(b: _Builder, weights: Weights, hidden: str) -> str:
    """Final LayerNorm and the LM head: dense, GELU, LayerNorm, decoder (tied to the embeddings), bias."""
    shape = weights.shape
    hidden = b.layer_norm(hidden, weights, "encoder.emb_layer_norm_after", shape.eps)
    x = b.gelu(b.linear(hidden, weights, "lm_head.dense", shape.hidden, shape.hidden))
    x = b.layer_norm(x, weights, "lm_head.layer_norm", shape.eps)
    decoder = b.inits.weight("lm_head.decoder.weight", weights.get("lm_head.decoder.weight",
                                                                   (VOCAB_SIZE, shape.hidden)), transpose=True)
    bias = b.inits.weight("lm_head.bias", weights.get("lm_head.bias", (VOCAB_SIZE,)))
    return b.op("Add", [b.op("MatMul", [x, decoder]), bias])


def build_model(folder: str | Path, out_path: str | Path, precision: str = "fp32", metadata: dict | None = None,
                on_bytes: Callable[[int], None] | None = None) -> dict:
    """Write the ONNX graph of the checkpoint in ``folder`` to ``out_path`` (weights beside it in
    ``<name>.data`` when they exceed protobuf's limit); return {"external_data", "weight_bytes", "shape"}."""
    import onnx
    from onnx import TensorProto, helper

    if precision not in ("fp32", "fp16"):
        raise ValueError(f"precision {precision!r}")
    folder, out_path = Path(folder), Path(out_path)
    shape = read_config(folder)
    weights = Weights(read_checkpoint(folder), shape, folder.name)
    dtype = np.dtype(np.float16 if precision == "fp16" else np.float32)
    weight_bytes = float_parameter_count(shape) * dtype.itemsize
    external = weight_bytes > EXTERNAL_DATA_THRESHOLD
    inits = Initializers(dtype, out_path.with_name(out_path.name + ".data") if external else None, on_bytes)
    try:
        b = _Builder(inits)
        _constants(b, shape)
        tables = _rotary_tables(b, shape)
        hidden, mask = _embeddings(b, weights)
        b.op("Unsqueeze", [b.op("Mul", [b.op("Sub", ["c_one_f32", mask]), "c_mask_min"]), "c_axes_12"],
             name="additive_mask")
        rows = b.op("Unsqueeze", [QUERY_ROWS, "c_axis_last"])
        for index in range(shape.layers):
            last = index == shape.layers - 1
            hidden = _layer(b, weights, index, hidden, rows if last else None, tables)
        logits = _head(b, weights, hidden)
        if dtype != np.float32:
            logits = b.op("Cast", [logits], to=TensorProto.FLOAT)
        b.op("Identity", [logits], name=LOGITS)
    finally:
        inits.close()
    graph = helper.make_graph(
        b.nodes, "saprot", [helper.make_tensor_value_info(INPUT_IDS, TensorProto.INT64, ["batch", "sequence"]),
                            helper.make_tensor_value_info(ATTENTION_MASK, TensorProto.INT64, ["batch", "sequence"]),
                            helper.make_tensor_value_info(QUERY_ROWS, TensorProto.INT64, ["batch", "rows"])],
        [helper.make_tensor_value_info(LOGITS, TensorProto.FLOAT, ["batch", "rows", VOCAB_SIZE])],
        initializer=inits.protos)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="saprot-scan")
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(out_path))
    return {"external_data": external, "weight_bytes": weight_bytes, "shape": shape}


def float_parameter_count(shape: EsmShape) -> int:
    """Parameters the graph stores (the decoder counted again: it is a second, transposed copy)."""
    h, f = shape.hidden, shape.intermediate
    per_layer = 4 * (h * h + h) + 2 * h * f + f + h + 4 * h
    head = 2 * h + h * h + h + 2 * h + VOCAB_SIZE * h + VOCAB_SIZE
    return VOCAB_SIZE * h + shape.layers * per_layer + head + (2 * h if shape.layer_norm_before else 0)

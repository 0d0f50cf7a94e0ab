"""An fp32 ONNX graph's weight matrix multiplies rewritten to int8, streaming one weight tensor at a time.

Why by hand: onnxruntime's ``quantize_dynamic`` loads the whole fp32 model, and copies of it, into memory
(8.03 GB peak for SaProt-650M's 2.6 GB of weights, issue 25). Here the graph is read without its weights, and
each initializer is read from the fp32 file (inline or external data), quantized if it is a weight MatMul's,
and written to the output (inline, or appended to one external data file) before the next is read: the peak
is the graph plus one tensor.

The arithmetic is quantize_dynamic's as saprot-scan used it (per_channel, reduce_range, QInt8 weights), so the
int8 copy computes the same numbers: each weight column symmetric, scale = max|w| / 64, zero point 0, values
rounded half-to-even into [-64, 64] (7-bit, so the u8 x s8 products of x86 CPUs without VNNI cannot saturate);
activations quantized on the fly to uint8 by DynamicQuantizeLinear (one per distinct input, shared by the
MatMuls that read it, as Q, K and V do); then MatMulInteger, Cast and the product of the two scales. onnxruntime
fuses that pattern into its integer GEMM kernels when it loads the file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from saprot_scan.models.esm_graph import Initializers

#: The 7-bit symmetric range quantize_dynamic uses for int8 weights with reduce_range.
WEIGHT_QMAX = 64
#: Initializers up to this size stay inside the graph even when the weights go to external data.
SMALL_INLINE_BYTES = 1024


def quantize_columns(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(int8 weight, float32 scale per column, int8 zero point per column) of a MatMul's (in, out) matrix."""
    weight = np.asarray(weight, dtype=np.float32)
    absmax = np.max(np.abs(weight), axis=0).astype(np.float64)
    scale = (2 * absmax / (2 * WEIGHT_QMAX)).astype(np.float32)
    tiny = scale < np.finfo(np.float32).tiny
    scale[tiny] = 1.0  # an all-zero column: any scale represents it exactly
    quantized = np.clip(np.rint(weight / scale), -WEIGHT_QMAX, WEIGHT_QMAX).astype(np.int8)
    return quantized, scale, np.zeros(scale.shape, dtype=np.int8)


def read_initializer(tensor, base_dir: Path) -> np.ndarray:
    """One initializer's values, read from its external data file when it has one (the proto is left as it is:
    onnx's own loader would keep the bytes inside it)."""
    from onnx import TensorProto, helper, numpy_helper

    if tensor.data_location != TensorProto.EXTERNAL:
        return numpy_helper.to_array(tensor)
    info = {entry.key: entry.value for entry in tensor.external_data}
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type))
    count = int(np.prod(tensor.dims, dtype=np.int64))
    path = base_dir / info["location"]
    with open(path, "rb") as handle:
        handle.seek(int(info.get("offset", 0)))
        data = handle.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise ValueError(f"{path.name}: external data of {tensor.name} ends early")
    return np.frombuffer(data, dtype=dtype).reshape(tuple(tensor.dims))


def output_bytes(graph, weight_names: set[str]) -> int:
    """Bytes the rewritten initializers will take (int8 weights: one byte a value), from dims alone."""
    from onnx import helper

    total = 0
    for tensor in graph.initializer:
        count = int(np.prod(tensor.dims, dtype=np.int64))
        size = 1 if tensor.name in weight_names else np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
        total += count * size
    return total


def _rewrite_nodes(graph, weight_nodes: set[str], weight_of: dict[str, str]) -> list:
    """The graph's nodes with each named weight MatMul replaced by its integer pattern (same output name)."""
    from onnx import TensorProto, helper

    nodes, quantized_inputs = [], {}
    for node in graph.node:
        if node.name not in weight_nodes:
            nodes.append(node)
            continue
        x, weight = node.input
        if x not in quantized_inputs:
            quantized_inputs[x] = (f"{x}_int8_q", f"{x}_int8_scale", f"{x}_int8_zero")
            nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(quantized_inputs[x]),
                                          name=f"{x}_int8_quantize"))
        x_q, x_scale, x_zero = quantized_inputs[x]
        w_q, w_scale, w_zero = weight_of[weight]
        out = node.output[0]
        nodes += [helper.make_node("MatMulInteger", [x_q, w_q, x_zero, w_zero], [f"{out}_int32"],
                                   name=f"{node.name}_int8"),
                  helper.make_node("Mul", [x_scale, w_scale], [f"{out}_scales"], name=f"{node.name}_int8_scales"),
                  helper.make_node("Cast", [f"{out}_int32"], [f"{out}_float"], to=TensorProto.FLOAT,
                                   name=f"{node.name}_int8_cast"),
                  helper.make_node("Mul", [f"{out}_float", f"{out}_scales"], [out], name=f"{node.name}_int8_rescale")]
    return nodes


def write_int8_initializers(graph, weight_nodes: list[str], base_dir: Path, data_path: Path | None) -> None:
    """Rewrite ``graph`` (an fp32 onnx GraphProto whose external weights live in ``base_dir``) in place: the
    named weight MatMuls to int8, every initializer re-read and re-written one at a time, inline or into
    ``data_path`` (external data) when given."""
    named = {node.name: node for node in graph.node}
    weights = {named[name].input[1] for name in weight_nodes}
    chosen = set(weight_nodes)
    read_elsewhere = {i for node in graph.node if node.name not in chosen for i in node.input}
    sink = Initializers(np.dtype(np.float32), data_path, None)
    weight_of: dict[str, tuple[str, str, str]] = {}
    rewritten = []
    try:
        for tensor in graph.initializer:
            array = read_initializer(tensor, base_dir)
            if tensor.name in weights:
                quantized, scale, zero = quantize_columns(array)
                weight_of[tensor.name] = (sink.put(f"{tensor.name}_int8", quantized),
                                          sink.put(f"{tensor.name}_int8_scale", scale),
                                          sink.put(f"{tensor.name}_int8_zero", zero))
            if tensor.name not in weights or tensor.name in read_elsewhere:
                # small constants (shapes, axes) stay inline: onnxruntime's shape inference reads them there
                sink.put(tensor.name, array, inline=array.nbytes <= SMALL_INLINE_BYTES)
            del array
            rewritten.extend(sink.protos)
            sink.protos.clear()
    finally:
        sink.close()
    nodes = _rewrite_nodes(graph, chosen, weight_of)
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(rewritten)

"""Replace the exported ESM attention (rotary + scaled dot product, ~25 small ops per layer) with
onnxruntime's fused kernels: com.microsoft RotaryEmbedding on queries and keys, MultiHeadAttention.

Why: on the CPU the unfused attention (mask add, softmax, transposes, rotary slices) costs about as
much as all the weight matrix multiplies once those run in int8 (BENCHMARKS.md). The rewrite is exact
up to float rounding; the exporter's check and the int8 score check still apply to its output.
The graph is matched structurally, layer by layer; a layer that does not match (such as the last layer
of a query-rows export, whose queries sit at picked rows) is left as exported, which is still exact,
and a graph with no match at all is left unchanged (``fuse_attention`` then returns 0).
"""
from __future__ import annotations

import numpy as np

from saprot_scan.backends.feeding import ATTENTION_MASK
from saprot_scan.encoding.tokens import MAX_POSITIONS


class _Graph:
    def __init__(self, graph):
        self.graph = graph
        self.producer = {out: node for node in graph.node for out in node.output}
        self.consumers: dict[str, list] = {}
        for node in graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.inits = {i.name: i for i in graph.initializer}

    def make(self, name: str, op: str, index: int = 0):
        """The node of type ``op`` producing tensor ``name``, followed through its input ``index`` chain."""
        node = self.producer.get(name)
        if node is None or node.op_type != op:
            raise _NoMatch(f"{name} is not produced by {op}")
        return node

    def const(self, name: str) -> np.ndarray:
        from onnx import numpy_helper

        if name not in self.inits:
            raise _NoMatch(f"{name} is not a constant")
        return numpy_helper.to_array(self.inits[name])


class _NoMatch(Exception):
    pass


def _linear_input(g: _Graph, bnsh: str) -> str:
    """BSD tensor behind ``Transpose(Reshape(x), perm=[0, 2, 1, 3])``."""
    transpose = g.make(bnsh, "Transpose")
    perm = [a.ints for a in transpose.attribute if a.name == "perm"][0]
    if list(perm) != [0, 2, 1, 3]:
        raise _NoMatch("unexpected transpose")
    return g.make(transpose.input[0], "Reshape").input[0]


def _rotary_input(g: _Graph, rotated: str) -> tuple[str, float, str]:
    """(BNSH input, scalar factor, cos table) behind ESM's ``x * cos + rotate_half(x) * sin``."""
    add = g.make(rotated, "Add")
    muls = [g.make(name, "Mul") for name in add.input]
    plain = [m for m in muls if all(g.producer.get(i) is None or g.producer[i].op_type != "Concat" for i in m.input)]
    if len(plain) != 1:
        raise _NoMatch("rotary pattern")
    source = [i for i in plain[0].input if g.producer.get(i) is None or g.producer[i].op_type != "Unsqueeze"]
    if len(source) != 1:
        raise _NoMatch("rotary input")
    cos = [i for i in plain[0].input if i != source[0]][0]
    node = g.producer.get(source[0])
    if node is not None and node.op_type == "Mul" and any(i in g.inits for i in node.input):
        scale_name = [i for i in node.input if i in g.inits][0]
        other = [i for i in node.input if i != scale_name][0]
        return other, float(g.const(scale_name).reshape(-1)[0]), cos
    return source[0], 1.0, cos


def _inv_freq(g: _Graph) -> np.ndarray:
    for name in g.inits:
        if name.endswith("rotary_embeddings.inv_freq"):
            return g.const(name).astype(np.float64)
    raise _NoMatch("no rotary inv_freq")


def fuse_attention(model) -> int:
    """Rewrite ``model`` (onnx.ModelProto, in place) layer by layer; return how many layers were fused."""
    from onnx import TensorProto, helper, numpy_helper

    g = _Graph(model.graph)
    try:
        inv_freq = _inv_freq(g)
        head_size = 2 * len(inv_freq)
        plans = []
        for softmax in [n for n in model.graph.node if n.op_type == "Softmax"]:
            try:
                plans.append(_plan_layer(g, softmax))
            except (_NoMatch, KeyError, IndexError):
                continue  # e.g. the last layer of a query-rows export: left as exported, still exact
        hidden = _projection_width(g, plans[0]["q"]) if plans else 0
    except (_NoMatch, KeyError, IndexError):
        return 0
    if not plans or hidden % head_size:
        return 0
    heads = hidden // head_size
    positions = np.arange(MAX_POSITIONS, dtype=np.float64)[:, None] * inv_freq[None, :]
    new_inits = [numpy_helper.from_array(np.cos(positions).astype(np.float32), "fused_rotary_cos"),
                 numpy_helper.from_array(np.sin(positions).astype(np.float32), "fused_rotary_sin"),
                 numpy_helper.from_array(np.zeros(1, dtype=np.int64), "fused_rotary_offset"),
                 numpy_helper.from_array(np.ones((), dtype=np.int64), "fused_one")]
    # Without padding (every scan batch) the kernel's no-mask path is ~20% faster: branch on it.
    new_nodes = [helper.make_node("Cast", [ATTENTION_MASK], ["fused_key_padding_mask"], to=TensorProto.INT32),
                 helper.make_node("ReduceMin", [ATTENTION_MASK], ["fused_mask_min"], keepdims=0),
                 helper.make_node("Equal", ["fused_mask_min", "fused_one"], ["fused_no_padding"])]
    replaced_outputs = set()
    for k, plan in enumerate(plans):
        rot = {}
        for part in ("q", "k"):
            rot[part] = f"fused_{part}_rot_{k}"
            new_nodes.append(helper.make_node(
                "RotaryEmbedding", [plan[part], "fused_rotary_offset", "fused_rotary_cos", "fused_rotary_sin"],
                [rot[part]], domain="com.microsoft", interleaved=0, num_heads=heads, name=f"fused_rotary_{part}_{k}"))
        branches = {}
        for branch, mask in (("unpadded", []), ("padded", ["", "fused_key_padding_mask"])):
            out = f"fused_attention_{branch}_{k}"
            node = helper.make_node("MultiHeadAttention", [rot["q"], rot["k"], plan["v"], *mask], [out],
                                    domain="com.microsoft", num_heads=heads, scale=plan["scale"])
            branches[branch] = helper.make_graph([node], f"attention_{branch}_{k}", [],
                                                 [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)])
        new_nodes.append(helper.make_node("If", ["fused_no_padding"], [plan["out"]], name=f"fused_attention_{k}",
                                          then_branch=branches["unpadded"], else_branch=branches["padded"]))
        replaced_outputs.add(plan["out"])
    kept = [n for n in model.graph.node if not (set(n.output) & replaced_outputs)]
    del model.graph.node[:]
    model.graph.node.extend(_topological(kept + new_nodes, model.graph))
    model.graph.initializer.extend(new_inits)
    _drop_dead(model.graph)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return len(plans)


def _plan_layer(g: _Graph, softmax) -> dict:
    """What one standard layer's attention reads and writes, or _NoMatch."""
    scores = g.make(softmax.input[0], "Add")
    qk = [g.producer[i] for i in scores.input if i in g.producer and g.producer[i].op_type == "MatMul"]
    if len(qk) != 1:
        raise _NoMatch("scores")
    qk = qk[0]
    k_t = g.make(qk.input[1], "Transpose")
    q_bnsh, q_scale, q_cos = _rotary_input(g, qk.input[0])
    k_bnsh, k_scale, k_cos = _rotary_input(g, k_t.input[0])
    if q_cos != k_cos:
        # Queries rotated with other positions than keys (queries at picked rows): the fused
        # RotaryEmbedding below assumes positions 0..T-1 for both.
        raise _NoMatch("queries and keys rotated differently")
    users = g.consumers.get(softmax.output[0], [])
    if len(users) != 1 or users[0].op_type != "MatMul":
        raise _NoMatch("context")
    context = users[0]
    v_bsd = _linear_input(g, context.input[1])
    out_t = g.consumers[context.output[0]]
    if len(out_t) != 1 or out_t[0].op_type != "Transpose":
        raise _NoMatch("context transpose")
    out_view = g.consumers[out_t[0].output[0]]
    if len(out_view) != 1 or out_view[0].op_type != "Reshape":
        raise _NoMatch("context reshape")
    return dict(q=_linear_input(g, q_bnsh), k=_linear_input(g, k_bnsh), v=v_bsd,
                scale=q_scale * k_scale, out=out_view[0].output[0], name=softmax.name)


def _projection_width(g: _Graph, bsd: str) -> int:
    """Hidden size: the output width of the projection that produced ``bsd``."""
    node = g.producer[bsd]
    seen = 0
    while node is not None and seen < 4:
        for name in node.input:
            if name in g.inits and len(g.inits[name].dims) == 2:  # dims only: weights may be on disk
                return int(g.inits[name].dims[1])
        node = g.producer.get(node.input[0])
        seen += 1
    raise _NoMatch("projection width")


def _inputs(node) -> set[str]:
    """Everything a node reads, including outer-scope names used inside its subgraphs (If branches)."""
    names = set(node.input)
    for attr in node.attribute:
        for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
            inner = {out for n in sub.node for out in n.output}
            names |= {i for n in sub.node for i in _inputs(n)} - inner
    return names


def _topological(nodes: list, graph) -> list:
    available = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {
        "fused_rotary_cos", "fused_rotary_sin", "fused_rotary_offset", "fused_one", ""}
    ordered, pending = [], list(nodes)
    while pending:
        progress = []
        for node in pending:
            if all(i in available for i in _inputs(node)):
                ordered.append(node)
                available.update(node.output)
            else:
                progress.append(node)
        if len(progress) == len(pending):
            raise ValueError("attention fusion left a cycle or a missing input")
        pending = progress
    return ordered


def _drop_dead(graph) -> None:
    """Remove nodes and initializers no graph output depends on."""
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(list(graph.node)):
        if set(node.output) & needed:
            keep.append(node)
            needed.update(i for i in _inputs(node) if i)
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    inits = [i for i in graph.initializer if i.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)

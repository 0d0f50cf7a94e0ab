"""int8 copy of an fp32 SaProt export for fast CPU scans, kept only if its scores rank like fp32's.

Dynamic quantization of the weight matrix multiplies (per output channel, int8 weights, uint8
activations quantized on the fly): on CPUs with VNNI/AMX onnxruntime runs these as integer GEMMs,
about twice as fast as fp32; the LM head (two small matrix multiplies on the query rows) stays fp32. Attention is first rewritten onto onnxruntime's fused kernels
(fuse_attention.py) and stays fp32; together about 3x less CPU time per pass (BENCHMARKS.md). Before the file is kept, a masked-marginal scan of a fixed check sequence is scored by both
models; the copy is refused unless the mean per-position Spearman rho of the 19 substitution scores
is at least 0.99. The result is recorded in the file's metadata so the runtime can trust it.

``models fetch``/``import`` make it by default where no CUDA GPU answers (models/fast_copy.py);
``saprot-scan models quantize MODEL`` (or ``models export ... --int8``) makes it beside any fp32 model. It is
written one weight tensor at a time (models/int8_graph.py): the step's peak is the check's fp32 session.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from saprot_scan.scoring.agreement import Agreement, compare_scores
from saprot_scan.errors import InputError, ModelError
from saprot_scan.models.fuse import fuse_attention
from saprot_scan.models.stages import QUIET, Stages
from saprot_scan.backends.feeding import SessionModel
from saprot_scan.backends.copies import (CHECK_KEY, CHECK_MIN_KEY, MIN_INT8_SPEARMAN, PARENT_SHA_KEY, PRECISION_KEY,
                                        copy_path)

MIN_SPEARMAN = MIN_INT8_SPEARMAN
#: Bytes of int8 weights above which they go to ``X.int8.onnx.data`` (as the exporter does, esm_graph.py: weights
#: kept inline are copied several times while the proto is serialised).
EXTERNAL_DATA_THRESHOLD = 500_000_000
CHECK_LENGTH = 64


def check_chain(length: int = CHECK_LENGTH, seed: int = 7) -> tuple[np.ndarray, str, str]:
    """A fixed pseudo-protein (token ids, 3Di string, amino acids) for variant checks."""
    from saprot_scan.encoding.tokens import AA_LETTERS, STRUCT_LETTERS, combine, encode

    rng = np.random.default_rng(seed)
    aa = "".join(rng.choice(list(AA_LETTERS[:20]), size=length))
    struct = "".join(rng.choice(list(STRUCT_LETTERS[:20]), size=length))
    return encode(combine(aa, struct)), struct, aa


def compare_models(reference: str | os.PathLike, candidate: str | os.PathLike, length: int = CHECK_LENGTH,
                   threads: int | None = None) -> Agreement:
    """Masked-marginal scores of the check chain from both models, compared position by position."""
    from saprot_scan.backends.onnx import open_session
    from saprot_scan.scoring.marginals import masked_marginal

    ids, struct, aa = check_chain(length)
    ref_session, _ = open_session(reference, "cpu", threads)
    want = masked_marginal(SessionModel(ref_session), ids, struct, aa)
    del ref_session
    cand_session, _ = open_session(candidate, "cpu", threads)
    got = masked_marginal(SessionModel(cand_session), ids, struct, aa)
    return compare_scores(want, got, aa)


#: The LM head's two matrix multiplies (dense, decoder) are the last weight MatMuls of every export; they stay
#: fp32. Their int8 rounding goes straight into the logits, and they run only on the query rows: measured on a
#: random SaProt-35M, mean rho 0.9939 -> 0.9964 and the largest score error 1.43 -> 0.82 (issue 18).
HEAD_MATMULS = 2


def _weight_matmuls(model) -> list[str]:
    """The weight matrix multiplies to quantize, in graph order, the LM head's left out."""
    inits = {i.name for i in model.graph.initializer}
    found = [n.name for n in model.graph.node if n.op_type == "MatMul" and len(n.input) == 2 and n.input[1] in inits]
    return found[:-HEAD_MATMULS] if len(found) > HEAD_MATMULS else found


def quantize_int8(onnx_in: str | os.PathLike, onnx_out: str | os.PathLike | None = None, check: bool = True,
                  min_spearman: float = MIN_SPEARMAN, threads: int | None = None, fuse: bool = True,
                  stages: Stages = QUIET) -> dict:
    """Write an int8 copy of ``onnx_in`` (default ``X.int8.onnx`` beside it); return a report.

    The graph is read without its weights and rewritten one weight tensor at a time (models/int8_graph.py), so
    memory holds the graph plus one tensor; the check then runs the fp32 model, then the copy. Raises
    ModelError, leaving nothing behind, when the copy's scores disagree with fp32 (see module doc).
    """
    import onnx

    from saprot_scan.models.hashing import sha256_file
    from saprot_scan.models.int8_graph import output_bytes, write_int8_initializers
    from saprot_scan.outputs.files import check_writable

    src = Path(onnx_in)
    if not src.is_file():
        raise InputError(f"model file {src} does not exist")
    out = Path(onnx_out) if onnx_out else copy_path(src, "int8")
    if out.resolve() == src.resolve():
        raise InputError("the int8 copy cannot overwrite its fp32 source")
    check_writable(out)
    model = onnx.load(str(src), load_external_data=False)  # the graph; external weights stay on disk
    meta = {p.key: p.value for p in model.metadata_props}
    if meta.get(PRECISION_KEY, "fp32") != "fp32":
        raise InputError(f"{src.name} is {meta[PRECISION_KEY]}; quantize the fp32 export")
    parent_sha = sha256_file(src)
    final_data = out.with_name(out.name + ".data")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.onnx")
    tmp_data = out.with_name(f".{out.name}.{os.getpid()}.tmp.data")
    try:
        stages.say(f"int8 copy of {src.name}: fusing attention")
        fused = fuse_attention(model) if fuse else 0
        weight_nodes = _weight_matmuls(model)
        if not weight_nodes:
            raise ModelError(f"{src.name}: no weight matrix multiplies to quantize")
        weights = {node.input[1] for node in model.graph.node if node.name in set(weight_nodes)}
        external = output_bytes(model.graph, weights) > EXTERNAL_DATA_THRESHOLD
        stages.say(f"int8 copy: quantizing {len(weight_nodes)} weight matrix multiplies, one tensor at a time")
        write_int8_initializers(model.graph, weight_nodes, src.parent, tmp_data if external else None)
        _set_metadata(model, {PRECISION_KEY: "int8", PARENT_SHA_KEY: parent_sha,
                              "saprot_scan.fused_attention_layers": str(fused)})
        onnx.save(model, str(tmp))
        report: dict = {"path": str(out), "parent_sha256": parent_sha, "agreement": None, "fused_layers": fused}
        if check:
            stages.say("int8 copy: checking its scores against fp32 (check chain of "
                       f"{CHECK_LENGTH} residues)")
            agreement = compare_models(src, tmp, threads=threads)
            report["agreement"] = agreement
            if not agreement.passes(min_spearman):
                raise ModelError(f"int8 copy of {src.name} rejected: {agreement.line()} "
                                 f"(needs mean >= {min_spearman})")
            _set_metadata(model, {CHECK_KEY: f"{agreement.mean_spearman:.5f}",
                                  CHECK_MIN_KEY: f"{agreement.min_spearman:.5f}"})
        if external:  # the graph now names the data file by its final name
            for tensor in model.graph.initializer:
                for entry in tensor.external_data:
                    if entry.key == "location":
                        entry.value = final_data.name
        onnx.save(model, str(tmp))
        del model
        if external:
            os.replace(tmp_data, final_data)
        elif final_data.exists():
            final_data.unlink()  # an earlier copy's weights; this one keeps them inline
        os.replace(tmp, out)
    finally:
        for leftover in (tmp, tmp_data):
            if leftover.exists():
                leftover.unlink()
    report["sha256"] = sha256_file(out)
    report["external_data"] = external
    return report


def _set_metadata(model, extra: dict[str, str]) -> None:
    """Replace ``extra``'s keys in the model's metadata (and drop the exporter's shape-inference note)."""
    kept = [(p.key, p.value) for p in model.metadata_props if p.key not in extra and p.key != "onnx.infer"]
    del model.metadata_props[:]
    for key, value in kept + list(extra.items()):
        model.metadata_props.add(key=key, value=value)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2 or args[0].startswith("-"):
        print("usage: python -m saprot_scan.models.quantize MODEL.onnx [OUT.int8.onnx]", file=sys.stderr)
        return 2
    try:
        report = quantize_int8(args[0], args[1] if len(args) > 1 else None)
    except (InputError, ModelError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {report['path']} (sha256 {report['sha256'][:12]}); {report['agreement'].line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

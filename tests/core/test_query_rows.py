"""The query-rows export: logits only at the rows a scan reads, the same numbers as every row's.

Real exports of the real test model, real onnxruntime sessions, PyTorch's EsmForMaskedLM as the
reference; plus a model without the ``query_rows`` input (older exports), which must score the same way.
"""
from __future__ import annotations

import numpy as np
import pytest

from saprot_scan.backends.feeding import QUERY_ROWS, EveryRowModel, SessionModel, all_rows, pick_rows, run_logits, takes_query_rows

pytest.importorskip("torch", reason="the reference logits come from PyTorch (test extra)")


@pytest.fixture(scope="module")
def session(tiny_onnx_model):
    import onnxruntime as ort

    return ort.InferenceSession(str(tiny_onnx_model), providers=["CPUExecutionProvider"])


def test_export_takes_query_rows_and_matches_pytorch_at_them(session, torch_model):
    from saprot_scan.models.export import sample_batch
    from support.core_reference import torch_logits

    assert takes_query_rows(session)
    ids, mask = sample_batch(40, 4, seed=3)
    want = torch_logits(torch_model, ids, mask)
    real = mask.astype(bool)
    full = run_logits(session, ids, mask)
    assert full.shape == ids.shape + (446,)
    assert np.abs(full[real] - want[real]).max() < 1e-4
    lengths = mask.sum(axis=1)
    for width in (1, 3):
        rows = np.stack([np.linspace(0, n - 1, width).astype(np.int64) for n in lengths])
        got = run_logits(session, ids, mask, rows)
        assert got.shape == (4, width, 446)
        assert np.abs(got - pick_rows(want, rows)).max() < 1e-4
    repeated = np.array([[5, 5, 1]] * 4, dtype=np.int64)  # a row asked twice gives the same logits twice
    twice = run_logits(session, ids, mask, repeated)
    assert np.array_equal(twice[:, 0], twice[:, 1])


def test_scans_read_the_same_scores_through_picked_rows(session, example_structure):
    from saprot_scan.scoring.marginals import masked_marginal
    from saprot_scan.scoring.variants import parse_variant, score_variants
    from saprot_scan.encoding.structure import read_structure
    from saprot_scan.encoding.threedi import encode_embedded
    from saprot_scan.encoding.tokens import combine, encode

    chain = read_structure(example_structure)[0]
    aa, struct = chain.sequence[:60], encode_embedded(chain)[:60].lower()
    ids = encode(combine(aa, struct))
    picked = SessionModel(session, batch_size=3)
    every = EveryRowModel(picked)  # the same session asked for every row, the rows picked afterwards
    want = masked_marginal(every, ids, struct, aa)
    got = masked_marginal(picked, ids, struct, aa)
    assert np.abs(got - want).max() < 1e-5
    variants = [parse_variant(v, aa) for v in (f"{aa[0]}1A", f"{aa[3]}4W:{aa[10]}11P:{aa[40]}41G",
                                               f"{aa[7]}8D:{aa[20]}21K")]
    assert np.abs(score_variants(picked, ids, struct, aa, variants)
                  - score_variants(every, ids, struct, aa, variants)).max() < 1e-5


def _model_without_query_rows(path):
    """An ONNX model of the older signature: (input_ids, attention_mask) -> logits of every row."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    table = np.random.default_rng(0).normal(size=(446, 446)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["table", "input_ids"], ["gathered"]),
             helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
             helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask_column"]),
             helper.make_node("Mul", ["gathered", "mask_column"], ["logits"])]
    graph = helper.make_graph(
        nodes, "older_signature",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "t"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "t"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", "t", 446])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    return table


def test_models_without_query_rows_give_the_rows_asked_for(tmp_path):
    from saprot_scan.backends.onnx import load_model_file

    table = _model_without_query_rows(tmp_path / "older.onnx")
    model = load_model_file(tmp_path / "older.onnx", device="cpu", precision="fp32")
    assert not takes_query_rows(model.session)
    ids = np.array([[0, 10, 20, 30, 2], [0, 40, 50, 60, 2]], dtype=np.int64)
    mask = np.ones_like(ids)
    rows = np.array([[2], [3]], dtype=np.int64)
    got = model.logits(ids, mask, rows)
    assert got.shape == (2, 1, 446)
    assert np.allclose(got[:, 0], table[[20, 60]])
    assert model.logits(ids, mask).shape == (2, 5, 446)


def test_feeding_all_rows_is_every_row_of_every_sequence():
    from saprot_scan.backends.feeding import feed

    ids = np.zeros((3, 4), dtype=np.int64)
    assert np.array_equal(all_rows(ids), np.tile(np.arange(4), (3, 1)))
    assert QUERY_ROWS not in feed(ids, ids, None, with_rows=False)
    assert np.array_equal(feed(ids, ids, None, with_rows=True)[QUERY_ROWS], all_rows(ids))

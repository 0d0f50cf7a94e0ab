"""Issue 2, item 5: masked- and wild-type-marginal scans equal a plain PyTorch SaProt within 1e-4.

The model is the session's tiny random SaProt-format checkpoint (real EsmForMaskedLM weights) and its
ONNX export run by onnxruntime; the structures are real PDB entries.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

from support import core_reference as ref
from support import core_testfiles as tf
from saprot_scan.errors import InputError, ScanCancelled
from saprot_scan.encoding.plddt import chain_tokens
from saprot_scan.pipeline import scan_chain, score_mutations
from saprot_scan.backends.onnx import load_model
from saprot_scan.scoring.marginals import MAX_RESIDUES, masked_marginal, plan_windows, wt_marginal
from saprot_scan.scoring.variants import parse_variant, score_variants
from saprot_scan.encoding.structure import chain_from_arrays, read_structure
from saprot_scan.encoding.tokens import AMINO_ACIDS

TOL = 1e-4


@pytest.fixture(scope="module")
def onnx_model(tiny_onnx_model):
    return load_model(str(tiny_onnx_model), device="cpu")


@pytest.fixture(scope="module")
def lysozyme(example_structure):
    (chain,) = read_structure(example_structure)
    return chain


@pytest.fixture(scope="module")
def lysozyme_tokens(lysozyme):
    return chain_tokens(lysozyme, "off", backend="embedded")


def test_masked_marginal_equals_pytorch_reference(onnx_model, torch_model, lysozyme, monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path))
    result = scan_chain(lysozyme, onnx_model, method="masked", plddt_mask="off", backend="embedded")
    expected = ref.masked_marginal(torch_model, lysozyme.sequence, result.struct)
    assert result.scores.shape == (129, 20)
    np.testing.assert_allclose(result.scores, expected, atol=TOL, rtol=0)
    wt_cols = [AMINO_ACIDS.index(a) for a in lysozyme.sequence]
    assert np.all(result.scores[np.arange(129), wt_cols] == 0.0)
    assert np.std(result.scores) > 0.1, "the tiny model's scores vary (a test on a flat model proves little)"


def test_wt_marginal_equals_pytorch_reference(onnx_model, torch_model, lysozyme, monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path))
    result = scan_chain(lysozyme, onnx_model, method="wt", plddt_mask="off", backend="embedded")
    expected = ref.wt_marginal(torch_model, lysozyme.sequence, result.struct)
    np.testing.assert_allclose(result.scores, expected, atol=TOL, rtol=0)


def test_masked_marginal_with_plddt_masked_letters(onnx_model, torch_model, test_data):
    """A chain with '#' 3Di letters (pLDDT-masked) and insertion codes: sites become '##' when masked."""
    (heavy,) = read_structure(test_data / "foldseek_3di" / "1igy.cif", chains=["B"])
    toks = chain_tokens(heavy, "on", plddt_threshold=30, backend="embedded")
    assert 0 < toks.masked_count < len(heavy)
    sub = slice(0, 60)
    aa, struct = toks.aa[sub], toks.struct[sub]
    ids = np.concatenate([[0], toks.ids()[1:61], [2]])
    got = masked_marginal(onnx_model, ids, struct, aa, batch_size=5)
    np.testing.assert_allclose(got, ref.masked_marginal(torch_model, aa, struct), atol=TOL, rtol=0)


def test_batch_size_does_not_change_scores(onnx_model, lysozyme_tokens):
    t = lysozyme_tokens
    one = masked_marginal(onnx_model, t.ids(), t.struct, t.aa, batch_size=1)
    seven = masked_marginal(onnx_model, t.ids(), t.struct, t.aa, batch_size=7)  # last batch is short
    np.testing.assert_allclose(one, seven, atol=1e-5, rtol=0)


def test_progress_and_cancel(onnx_model, lysozyme_tokens):
    t = lysozyme_tokens
    seen = []
    masked_marginal(onnx_model, t.ids(), t.struct, t.aa, batch_size=32, progress=lambda d, n: seen.append((d, n)))
    assert seen == [(32, 129), (64, 129), (96, 129), (128, 129), (129, 129)]
    cancel = threading.Event()

    def stop_after_first(done, total):
        cancel.set()

    with pytest.raises(ScanCancelled):
        masked_marginal(onnx_model, t.ids(), t.struct, t.aa, batch_size=32, progress=stop_after_first, cancel=cancel)


# ---------------------------------------------------------------------------------------------- variants

def test_parse_variant():
    aa = "MKVLA"
    assert parse_variant("K2A", aa)[0].index == 1
    assert [s.index for s in parse_variant("K2A:A5G", aa)] == [1, 4]
    for bad, message in [("K2", "bad mutation"), ("V2A", "residue 2 is K, not V"), ("K9A", "outside the chain"),
                         ("K2A:K2G", "mutated twice"), ("", "empty mutation"), ("K2B", "bad mutation")]:
        with pytest.raises(InputError, match=message):
            parse_variant(bad, aa)


def test_single_and_multi_mutants_equal_reference(onnx_model, torch_model, lysozyme):
    variants = ["K1A", "R5G", "K1A:R5G:W28F", "A122D:R125W", "L129P"]
    got = score_mutations(lysozyme, variants, onnx_model, plddt_mask="off", backend="embedded", batch_size=2)
    struct = chain_tokens(lysozyme, "off", backend="embedded").struct
    expected = [ref.variant_score(torch_model, lysozyme.sequence, struct, v) for v in variants]
    np.testing.assert_allclose(got, expected, atol=TOL, rtol=0)
    # a multi-mutant is not the sum of its singles: its sites are masked together
    singles = score_mutations(lysozyme, ["K1A", "R5G", "W28F"], onnx_model, plddt_mask="off", backend="embedded")
    assert abs(got[2] - singles.sum()) > 1e-6


# ----------------------------------------------------------------------------------------------- windows

@pytest.mark.parametrize("length,size", [(1, 1022), (1022, 1022), (1023, 1022), (2500, 1022), (129, 40),
                                         (129, 50), (3000, 7)])
def test_plan_windows_cover_every_residue_once_most_centrally(length, size):
    windows = plan_windows(length, size)
    owner = np.full(length, -1)
    for k, w in enumerate(windows):
        assert 0 <= w.start < w.stop <= length and w.stop - w.start == min(size, length)
        assert w.start <= w.own_start < w.own_stop <= w.stop
        assert (owner[w.own_start:w.own_stop] == -1).all()
        owner[w.own_start:w.own_stop] = k
    assert (owner >= 0).all()
    for i in range(length):
        distance = [abs(i + 0.5 - (w.start + w.stop) / 2) for w in windows if w.start <= i < w.stop]
        w = windows[owner[i]]
        assert abs(i + 0.5 - (w.start + w.stop) / 2) <= min(distance) + 1.0
    if length > size:
        assert len(windows) > 1 and windows[0].start == 0 and windows[-1].stop == length
        assert len(windows) <= (length - size) // (size // 2) + 2  # half-window stride, no extra windows


def _windowed_reference(torch_model, aa, struct, size, method):
    expected = np.zeros((len(aa), 20))
    for w in plan_windows(len(aa), size):
        part_aa, part_struct = aa[w.start:w.stop], struct[w.start:w.stop]
        scores = (ref.masked_marginal if method == "masked" else ref.wt_marginal)(torch_model, part_aa, part_struct)
        expected[w.own_start:w.own_stop] = scores[w.own_start - w.start:w.own_stop - w.start]
    return expected


@pytest.mark.parametrize("method", ["masked", "wt"])
def test_windowed_scan_equals_per_window_reference(onnx_model, torch_model, lysozyme_tokens, method):
    t = lysozyme_tokens
    size = 50
    assert len(plan_windows(129, size)) == 5  # starts 0, 25, 50, 75 and 79 (the last one ends at the chain end)
    if method == "masked":
        got = masked_marginal(onnx_model, t.ids(), t.struct, t.aa, batch_size=8, window_size=size)
    else:
        got = wt_marginal(onnx_model, t.ids(), t.aa, window_size=size)
    np.testing.assert_allclose(got, _windowed_reference(torch_model, t.aa, t.struct, size, method), atol=TOL, rtol=0)
    # windows really change what the model sees (otherwise this test would not test them)
    assert not np.allclose(got, masked_marginal(onnx_model, t.ids(), t.struct, t.aa, batch_size=32)
                           if method == "masked" else wt_marginal(onnx_model, t.ids(), t.aa), atol=1e-3)


def test_variants_in_windows(onnx_model, torch_model, lysozyme_tokens):
    t = lysozyme_tokens
    sites = parse_variant("K1A:R5G", t.aa)
    (got,) = score_variants(onnx_model, t.ids(), t.struct, t.aa, [sites], window_size=50)
    assert got == pytest.approx(ref.variant_score(torch_model, t.aa[:50], t.struct[:50], "K1A:R5G"), abs=TOL)
    with pytest.raises(InputError, match="are 128 residues apart, more than a 50-residue window holds"):
        score_variants(onnx_model, t.ids(), t.struct, t.aa, [parse_variant("K1A:L129P", t.aa)], window_size=50)


def long_chain(example_structure, copies: int = 9):
    """A real-geometry chain longer than 1022 residues: lysozyme repeated, each copy 60 A further on."""
    atoms = tf.protein_only(tf.load_atoms(example_structure))
    numbers, icodes, names, atom_names, coords, bfac = [], [], [], [], [], []
    for k in range(copies):
        numbers += (atoms.res_id + 129 * k).tolist()
        icodes += atoms.ins_code.tolist()
        names += atoms.res_name.tolist()
        atom_names += atoms.atom_name.tolist()
        coords.append(atoms.coord + np.array([60.0 * k, 0, 0], dtype=np.float32))
        bfac += atoms.b_factor.tolist()
    return chain_from_arrays("A", numbers, icodes, names, atom_names, np.concatenate(coords), bfac, source="tiled")


def test_long_chain_scored_in_windows_and_says_so(onnx_model, torch_model, example_structure, monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path))
    chain = long_chain(example_structure)
    assert len(chain) == 1161 > MAX_RESIDUES
    result = scan_chain(chain, onnx_model, method="wt", plddt_mask="off", backend="embedded")
    assert result.windows == len(plan_windows(1161)) == 2
    assert "scored in 2 overlapping windows of up to 1022 residues" in result.describe()
    expected = _windowed_reference(torch_model, chain.sequence, result.struct, MAX_RESIDUES, "wt")
    np.testing.assert_allclose(result.scores, expected, atol=TOL, rtol=0)


# ------------------------------------------------------------------------------------------------- cache

def _other_model(tiny_onnx_model, tmp_path):
    """Same weights, different file (one metadata entry added): a different SHA-256, so a different model."""
    import onnx

    model = onnx.load(str(tiny_onnx_model))
    model.metadata_props.add(key="test.copy", value="1")
    path = tmp_path / "other.onnx"
    onnx.save(model, str(path))
    return load_model(str(path), device="cpu")


def test_result_cache(onnx_model, tiny_onnx_model, lysozyme, monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))
    first = scan_chain(lysozyme, onnx_model, method="masked", plddt_mask="off", backend="embedded")
    assert first.notes == []
    assert len(list((tmp_path / "cache" / "results").glob("*.npy"))) == 1
    second = scan_chain(lysozyme, onnx_model, method="masked", plddt_mask="off", backend="embedded")
    assert second.notes == ["scores read from the result cache"]
    np.testing.assert_array_equal(first.scores, second.scores)
    assert second.residue_ids == first.residue_ids and second.wt == first.wt
    # another method, another model, other tokens: all miss
    wt = scan_chain(lysozyme, onnx_model, method="wt", plddt_mask="off", backend="embedded")
    assert wt.notes == [] and not np.allclose(wt.scores, first.scores)
    other = scan_chain(lysozyme, _other_model(tiny_onnx_model, tmp_path), method="masked", plddt_mask="off",
                       backend="embedded")
    assert other.notes == []
    np.testing.assert_allclose(other.scores, first.scores, atol=1e-5)  # same weights: same numbers, recomputed
    masked = scan_chain(lysozyme, onnx_model, method="masked", plddt_mask="on", plddt_threshold=15,
                        backend="embedded")
    assert masked.notes == [] and masked.plddt_masked_count > 0
    no_cache = scan_chain(lysozyme, onnx_model, method="masked", plddt_mask="off", backend="embedded",
                          use_cache=False)
    assert no_cache.notes == []
    assert len(list((tmp_path / "cache" / "results").glob("*.npy"))) == 4


def test_damaged_cache_entry_is_recomputed(onnx_model, lysozyme, monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path))
    first = scan_chain(lysozyme, onnx_model, method="wt", plddt_mask="off", backend="embedded")
    (entry,) = (tmp_path / "results").glob("*.npy")
    entry.write_bytes(b"not numpy")
    again = scan_chain(lysozyme, onnx_model, method="wt", plddt_mask="off", backend="embedded")
    assert again.notes == []
    np.testing.assert_array_equal(first.scores, again.scores)


def test_bad_method(onnx_model, lysozyme):
    with pytest.raises(InputError, match="method must be masked or wt"):
        scan_chain(lysozyme, onnx_model, method="pll")

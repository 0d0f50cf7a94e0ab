"""Issues 12 and 20: the structure scorers (burial-blosum, learned-structure, and their blend structure-blend, the
offline default), their biology, and their place among the scorer kinds.

The biology checks use definitions independent of the scorer's own features: burial from biotite's
solvent-accessible surface of the full-atom structure, helices from P-SEA on the full structure, and
disulfides from the SG-SG distance, none of which the scorer sees (it reads N, CA, C, CB only).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from saprot_scan import (AMINO_ACIDS, EnsembleScorer, StructureScorer, blosum62, chain_tokens, load_scorer,
                         read_structure, scan_chain, score_mutations, structure_scores)
from saprot_scan.backends.blend import BLEND_NAME, BLEND_PARTS, StructureBlend
from saprot_scan.backends.ensemble import standardise
from saprot_scan.backends.learned import LEARNED_SCORER_NAME
from saprot_scan.backends.structure import STRUCTURE_SCORER_NAME, disulfide_cysteines


@pytest.fixture(scope="module")
def lysozyme(example_structure):
    return read_structure(example_structure, chains=["A"])[0]


@pytest.fixture(scope="module")
def lysozyme_atoms(example_structure):
    import biotite.structure as struc
    import biotite.structure.io as strucio

    atoms = strucio.load_structure(example_structure, model=1)
    atoms = atoms[(atoms.chain_id == "A") & struc.filter_amino_acids(atoms) & (atoms.element != "H")]
    return atoms


@pytest.fixture(scope="module", params=[STRUCTURE_SCORER_NAME, LEARNED_SCORER_NAME, BLEND_NAME])
def lysozyme_scores(lysozyme, request):
    """Every structure scorer must pass the same biology (issue 20: the learned one and the blend of both)."""
    return scan_chain(lysozyme, request.param, use_cache=False).scores


def _substitution_means(scores: np.ndarray, wt: str) -> np.ndarray:
    others = scores.copy()
    for i, aa in enumerate(wt):
        others[i, AMINO_ACIDS.index(aa)] = np.nan
    return np.nanmean(others, axis=1)


def test_disulfide_cysteines_found_and_intolerant(lysozyme, lysozyme_atoms, lysozyme_scores):
    sg = lysozyme_atoms[lysozyme_atoms.atom_name == "SG"]
    distance = np.linalg.norm(sg.coord[:, None] - sg.coord[None], axis=-1)
    bonded_by_sg = {int(sg.res_id[i]) for i, j in zip(*np.nonzero((distance < 2.5) & (distance > 0)))}
    assert len(bonded_by_sg) == 8  # lysozyme's four disulfides
    found = disulfide_cysteines(lysozyme.sequence, lysozyme.coords)
    assert {lysozyme.residue_ids[i].number for i in np.flatnonzero(found)} == bonded_by_sg
    means = _substitution_means(lysozyme_scores, lysozyme.sequence)
    sasa = _relative_sasa(lysozyme_atoms)
    exposed = sasa > 0.4
    assert exposed.sum() > 20
    assert means[found].mean() < means[exposed].mean() - 0.5
    assert means[found].max() < np.median(means[exposed])


def _relative_sasa(atoms) -> np.ndarray:
    """Per-residue SASA (biotite, Shrake-Rupley) over the residue's SASA in the chain's most exposed residue
    of the same type (a within-structure scale; no table of reference areas needed)."""
    import biotite.structure as struc

    per_atom = struc.sasa(atoms, vdw_radii="ProtOr")
    per_residue = struc.apply_residue_wise(atoms, per_atom, np.nansum)
    names = struc.get_residues(atoms)[1]
    scale = {name: per_residue[names == name].max() for name in set(names)}
    return np.array([per_residue[k] / scale[name] if scale[name] > 0 else 0.0 for k, name in enumerate(names)])


def test_buried_core_less_tolerant_than_surface(lysozyme, lysozyme_atoms, lysozyme_scores):
    import biotite.structure as struc

    per_atom = struc.sasa(lysozyme_atoms, vdw_radii="ProtOr")
    per_residue = struc.apply_residue_wise(lysozyme_atoms, per_atom, np.nansum)
    assert len(per_residue) == len(lysozyme)
    means = _substitution_means(lysozyme_scores, lysozyme.sequence)
    buried = per_residue < np.percentile(per_residue, 25)
    exposed = per_residue > np.percentile(per_residue, 75)
    assert means[buried].mean() < means[exposed].mean() - 1.0
    # and the whole ranking agrees: more exposed surface, more tolerated on average
    from scipy.stats import spearmanr

    assert spearmanr(per_residue, means).correlation > 0.5


def test_proline_into_helix_middle_scores_below_the_position_median(lysozyme, lysozyme_atoms, lysozyme_scores):
    import biotite.structure as struc

    sse = struc.annotate_sse(lysozyme_atoms)
    assert len(sse) == len(lysozyme)
    middles = [i for i in range(2, len(sse) - 2) if all(sse[i + k] == "a" for k in (-2, -1, 0, 1, 2))
               and lysozyme.sequence[i] != "P"]
    assert len(middles) >= 15
    p = AMINO_ACIDS.index("P")
    for i in middles:
        others = [lysozyme_scores[i, k] for k, aa in enumerate(AMINO_ACIDS) if aa != lysozyme.sequence[i]]
        assert lysozyme_scores[i, p] < np.median(others), f"residue {lysozyme.residue_ids[i]}"


def test_tryptophans_and_glycines_in_core_are_not_blue(lysozyme, lysozyme_scores):
    """The old default painted Trp columns blue (tolerated); buried tryptophans must score below 0 on average."""
    means = _substitution_means(lysozyme_scores, lysozyme.sequence)
    trp = [i for i, aa in enumerate(lysozyme.sequence) if aa == "W"]
    assert len(trp) == 6
    assert means[trp].mean() < 0


def test_scores_shape_wild_type_zero_and_unknown_rows_nan(lysozyme):
    sequence = lysozyme.sequence[:40] + "X" + lysozyme.sequence[41:]
    scores = structure_scores(sequence, lysozyme.coords)
    assert scores.shape == (len(lysozyme), 20)
    assert np.isnan(scores[40]).all()
    for i, aa in enumerate(sequence):
        if aa != "X":
            assert scores[i, AMINO_ACIDS.index(aa)] == 0.0
    assert np.isfinite(np.delete(scores, 40, axis=0)).all()


def test_terms_are_what_the_card_says(lysozyme):
    """With only the BLOSUM62 term, scores are BLOSUM62's z-scores: the term is wired as documented."""
    only_blosum = structure_scores(lysozyme.sequence, lysozyme.coords,
                                   weights={"burial": 0.0, "proline": 0.0, "plddt": 0.0})
    matrix = blosum62()
    expected = np.array([matrix[AMINO_ACIDS.index(a)] for a in lysozyme.sequence])
    z = (expected - expected.mean()) / expected.std()
    for i, aa in enumerate(lysozyme.sequence):
        z[i, AMINO_ACIDS.index(aa)] = 0.0
    np.testing.assert_allclose(only_blosum, z, atol=1e-9)
    assert matrix[AMINO_ACIDS.index("W"), AMINO_ACIDS.index("W")] == 11  # BLOSUM62, not another matrix


def test_multi_mutants_are_the_sum_of_their_singles(lysozyme):
    singles = score_mutations(lysozyme, ["C6A", "W28A", "K1A"], STRUCTURE_SCORER_NAME)
    double = score_mutations(lysozyme, ["C6A:W28A"], STRUCTURE_SCORER_NAME)
    assert double[0] == pytest.approx(singles[0] + singles[1])
    assert singles[0] < singles[2]  # a disulfide cysteine vs the exposed N-terminal lysine


def test_plddt_term_only_for_predicted_models(lysozyme):
    tokens = chain_tokens(lysozyme, "off")
    scorer = StructureScorer()
    plain = scorer.scan(lysozyme, tokens)
    direct = structure_scores(lysozyme.sequence, lysozyme.coords, None)
    np.testing.assert_allclose(plain, direct)
    # the same coordinates as a predicted model whose second half is low-confidence (pLDDT 45 vs 92)
    plddt = np.where(np.arange(len(lysozyme)) < len(lysozyme) // 2, 92.0, 45.0)
    predicted = type(lysozyme)(**{**lysozyme.__dict__, "b_factors": plddt, "experimental_method": "",
                                  "b_factor_constant_per_residue": True})
    masked_tokens = chain_tokens(predicted, "auto")
    assert masked_tokens.plddt_masked
    with_plddt = scorer.scan(predicted, masked_tokens)
    low = plddt < 70
    shift = _substitution_means(with_plddt, lysozyme.sequence) - _substitution_means(plain, lysozyme.sequence)
    assert shift[low].mean() > shift[~low].mean() + 0.1  # low confidence: more tolerated


def test_default_scorer_is_the_structure_blend_and_says_so(example_structure, tmp_path):
    from saprot_scan.cli import main

    out = tmp_path / "scan.json"
    heat = tmp_path / "scan.svg"
    assert main(["scan", str(example_structure), "--json", str(out), "--heatmap", str(heat)]) == 0
    data = json.loads(out.read_text())
    chain = data["chains"][0]
    assert chain["model"] == BLEND_NAME
    assert "learned trees + burial-blosum" in chain["score_label"]
    assert chain["score_meaning"]["vs_wild_type"] is False  # z units: 0 is the typical substitution
    assert "learned trees + burial-blosum" in heat.read_text()  # the colour bar names the scorer
    scorer = load_scorer(None)
    assert isinstance(scorer, StructureBlend) and scorer.origin == "offline default"
    assert "saprot-35m" in scorer.describe() and "not SaProt" in scorer.describe()


def test_structure_blend_is_the_equal_weight_mean_of_its_parts(lysozyme):
    """The blend is the ensemble learned-structure+burial-blosum under its own name: the same numbers."""
    blend = scan_chain(lysozyme, BLEND_NAME, use_cache=False)
    parts = [scan_chain(lysozyme, name, use_cache=False).scores for name in BLEND_PARTS]
    expected = sum(standardise(p, lysozyme.sequence) for p in parts) / len(parts)
    np.testing.assert_allclose(blend.scores, expected, atol=1e-9)
    ensemble = scan_chain(lysozyme, "+".join(BLEND_PARTS), use_cache=False)
    np.testing.assert_allclose(blend.scores, ensemble.scores, atol=1e-9)
    assert blend.model_name == BLEND_NAME and ensemble.model_name != BLEND_NAME
    singles = score_mutations(lysozyme, ["C6A", "W28A"], BLEND_NAME)
    double = score_mutations(lysozyme, ["C6A:W28A"], BLEND_NAME)
    assert double[0] == pytest.approx(singles[0] + singles[1])  # additive, like both parts


def test_default_order_keeps_env_and_preference_first(monkeypatch, tiny_onnx_model):
    monkeypatch.setenv("SAPROT_SCAN_MODEL", str(tiny_onnx_model))
    scorer = load_scorer(None)
    assert scorer.kind == "language-model" and scorer.origin == "from SAPROT_SCAN_MODEL"


def test_ensemble_is_the_mean_of_per_chain_z_scores(lysozyme, tiny_onnx_model):
    spec = f"{STRUCTURE_SCORER_NAME}+{tiny_onnx_model}"
    ensemble = load_scorer(spec, device="cpu")
    assert isinstance(ensemble, EnsembleScorer)
    combined = scan_chain(lysozyme, ensemble, use_cache=False)
    parts = [scan_chain(lysozyme, p, use_cache=False).scores for p in ensemble.parts]
    wt = np.array([AMINO_ACIDS.index(a) for a in lysozyme.sequence])
    expected = []
    for s in parts:
        subs = s.copy()
        subs[np.arange(len(wt)), wt] = np.nan
        expected.append((s - np.nanmean(subs)) / np.nanstd(subs))
    expected = (expected[0] + expected[1]) / 2
    expected[np.arange(len(wt)), wt] = 0.0
    np.testing.assert_allclose(combined.scores, expected, atol=1e-6)
    assert combined.model_name == f"{STRUCTURE_SCORER_NAME}+{ensemble.parts[1].name}"
    # variants through the ensemble agree with the table for singles
    variant = score_mutations(lysozyme, ["K1A"], ensemble)[0]
    assert variant == pytest.approx(combined.scores[0, AMINO_ACIDS.index("A")], abs=1e-6)


def test_weighted_ensemble_and_bad_specs(tiny_onnx_model):
    from saprot_scan import ModelError

    ens = load_scorer(f"{STRUCTURE_SCORER_NAME}*0.8+{tiny_onnx_model}*0.2", device="cpu")
    assert ens.weights == [0.8, 0.2]
    for bad in (f"{STRUCTURE_SCORER_NAME}+", f"{STRUCTURE_SCORER_NAME}*x+{tiny_onnx_model}",
                f"{STRUCTURE_SCORER_NAME}*-1+{tiny_onnx_model}"):
        with pytest.raises(ModelError):
            load_scorer(bad)


def test_cache_key_depends_on_coordinates(lysozyme):
    scorer = StructureScorer()
    other = type(lysozyme)(**{**lysozyme.__dict__, "coords": lysozyme.coords + 0.5})
    assert scorer.chain_key(lysozyme) != scorer.chain_key(other)
    assert scorer.chain_key(lysozyme) == scorer.chain_key(type(lysozyme)(**lysozyme.__dict__))

"""Issue 14, item 1: the augmented ridge (labels, features, cross-validation, the saved model) on labels of a
known structure: a multiple of the zero-shot score plus site effects, and bad label text."""
from __future__ import annotations

import json

import numpy as np
import pytest

from saprot_scan.design.fitting import apply_fitted, cross_validate, fit_model, fit_ridge, load_fitted, spearman
from saprot_scan.design.labels import Labels, author_to_index, normalise_variant, parse_labels
from saprot_scan.encoding.structure import ResidueId
from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.errors import InputError
from saprot_scan.results import ScanResult

pytest.importorskip("sklearn", reason="fitting needs the fit extra (scikit-learn)")

SEQ = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWERVMGDGERQFSTLKSTVEAIWAGIKATEAAVSEEFGLAPFLPDQIHFVHSQELLSRYPDLDAKGRERAIAKDLGAVFLVGIGGKLSDGHRHDVRAPDYDDWSTPSELGHAGLNGDILVWNPVLEDAFELSSMGIRVDADTLKHQLALTGDEDRLELEWHQALLRGEMPQTIGGGIGQSRLTMLLLQLPHIGQVQAGVWPAAVRESVPALL"[:80]


def _result(scores: np.ndarray, seq: str = SEQ) -> ScanResult:
    ids = tuple(ResidueId("A", i + 1) for i in range(len(seq)))
    return ScanResult(chain_id="A", residue_ids=ids, wt=seq, scores=scores, method="masked", model_name="m",
                      model_sha256="ab" * 32)


def _zero_shot(seed: int = 0, seq: str = SEQ) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scores = rng.normal(-2.0, 1.5, (len(seq), 20))
    for i, aa in enumerate(seq):
        scores[i, AMINO_ACIDS.index(aa)] = 0.0
    return scores


def _singles(n: int, seed: int, seq: str = SEQ) -> list[str]:
    rng = np.random.default_rng(seed)
    every = [f"{wt}{i + 1}{mt}" for i, wt in enumerate(seq) for mt in AMINO_ACIDS if mt != wt]
    return [every[k] for k in rng.choice(len(every), n, replace=False)]


def _labels(mutants, scores, seq=SEQ) -> Labels:
    parsed = [normalise_variant(m, seq) for m in mutants]
    return Labels([k for k, _ in parsed], [s for _, s in parsed], np.asarray(scores, dtype=float))


def _zs_of(zs: np.ndarray, mutant: str) -> float:
    return float(zs[int(mutant[1:-1]) - 1, AMINO_ACIDS.index(mutant[-1])])


# ---------------------------------------------------------------------------------------------- the model

def test_zero_shot_only_labels_are_recovered():
    """Labels = 3 x zero-shot + 1: the augmented model puts its weight on the zero-shot feature."""
    zs = _zero_shot()
    mutants = _singles(60, seed=1)
    y = [3.0 * _zs_of(zs, m) + 1.0 for m in mutants]
    fitted = fit_model(_result(zs), _labels(mutants, y))
    assert fitted.zs_coef == pytest.approx(3.0, rel=0.05)
    assert fitted.cv["fitted"]["spearman_mean"] > 0.99
    held_out = [m for m in _singles(400, seed=2) if m not in mutants][:100]
    matrix = fitted.predict_matrix(zs)
    predicted = [_zs_of(matrix, m) for m in held_out]
    assert spearman(predicted, [_zs_of(zs, m) for m in held_out]) == pytest.approx(1.0)
    for i, aa in enumerate(SEQ):  # scores are relative to the wild type
        assert matrix[i, AMINO_ACIDS.index(aa)] == 0.0


def test_site_effects_beat_zero_shot_and_one_hot_alone():
    """Labels with per-site effects the zero-shot score cannot know (some sites much more tolerant): on
    the same folds the augmented model ranks held-out variants better than the zero-shot score, and
    better than one-hot features alone (which know nothing of the zero-shot score)."""
    rng = np.random.default_rng(5)
    zs = _zero_shot(3)
    site_effect = rng.normal(0, 1.5, len(SEQ))
    mutants = _singles(200, seed=4)
    y = [_zs_of(zs, m) + site_effect[int(m[1:-1]) - 1] + rng.normal(0, 0.3) for m in mutants]
    # replicate measurements are averaged
    text = "mutant,score\n" + "".join(f"{m},{v:.6f}\n" for m, v in zip(mutants, y))
    text += "".join(f"{m},{v + 0.1:.6f}\n" for m, v in zip(mutants[:30], y[:30]))
    labels = parse_labels(text, SEQ)
    assert labels.duplicates == 30 and len(labels) == 200
    cv = cross_validate(labels.sites, labels.scores, [_zs_of(zs, m) for m in labels.mutants], folds=5, seed=0)
    assert cv["fitted"]["spearman_mean"] > cv["zero_shot"]["spearman_mean"] + 0.05
    assert cv["fitted"]["spearman_mean"] > cv["onehot"]["spearman_mean"] + 0.05
    assert len(cv["fitted"]["per_fold"]) == 5


def test_one_hot_weights_learn_a_substitution_effect():
    zs = np.zeros((len(SEQ), 20))
    mutants = _singles(40, seed=7)
    y = [5.0 if m == mutants[0] else 0.0 for m in mutants]
    fit = fit_ridge([normalise_variant(m, SEQ)[1] for m in mutants], y)
    pred = fit.predict([normalise_variant(m, SEQ)[1] for m in mutants])
    assert int(np.argmax(pred)) == 0
    assert fit.alpha > 0


def test_multi_mutant_prediction_and_json_round_trip(tmp_path):
    zs = _zero_shot(9)
    singles = _singles(40, seed=10)
    doubles = [f"{a}:{b}" for a, b in zip(singles[:10], singles[10:20]) if a[1:-1] != b[1:-1]]
    multi_zs = {normalise_variant(d, SEQ)[0]: -1.0 - k for k, d in enumerate(doubles)}
    mutants = singles + doubles
    y = [2.0 * _zs_of(zs, m) for m in singles] + [2.0 * v for v in multi_zs.values()]
    fitted = fit_model(_result(zs), _labels(mutants, y), multi_zs)
    path = tmp_path / "model.json"
    fitted.save(path)
    data = json.loads(path.read_text())  # plain JSON
    assert data["kind"] == "saprot-scan fitted model" and data["labels"]["count"] == len(mutants)
    again = load_fitted(path)
    assert np.array_equal(again.weights, np.round(fitted.weights, 10))
    assert again.zs_coef == fitted.zs_coef and again.sequence == SEQ
    parsed = [normalise_variant(d, SEQ)[1] for d in doubles]
    want = [fitted.zs_coef * v + sum(fitted.weights[s.index, AMINO_ACIDS.index(s.mt)] for s in sites) + fitted.offset
            for v, sites in zip(multi_zs.values(), parsed)]  # offset: relative to the mean label (no wild type)
    assert again.reference == fitted.reference and fitted.reference["kind"] == "mean of the labels"
    assert again.predict_variants(parsed, list(multi_zs.values())) == pytest.approx(want, abs=1e-8)
    applied = apply_fitted(_result(zs), again)
    off_wt = np.array([[aa != w for aa in AMINO_ACIDS] for w in SEQ])  # the wild type's own cell stays 0
    assert np.allclose(applied.scores[off_wt], (again.zs_coef * zs + again.weights + again.offset)[off_wt])
    assert np.all(applied.scores[~off_wt] == 0.0)
    with pytest.raises(InputError, match="another sequence"):
        apply_fitted(_result(_zero_shot(1, SEQ[:-1] + "W"), SEQ[:-1] + "W"), again)


def test_author_numbering():
    labels = ["1", "2", "52", "52A", "53"]
    assert author_to_index("K52AG:L53P", labels) == "K4G:L5P"
    with pytest.raises(InputError, match="no residue numbered 54"):
        author_to_index("K54G", labels)


@pytest.mark.parametrize("text,message", [
    ("mutant,score\nA1G,1\n", "residue 1 is M, not A"),
    ("mutant,score\nM1G,abc\n", "line 2: score 'abc' is not a number"),
    ("mutant,score\nM1G,nan\n", "line 2: score 'nan' is not a number"),
    ("mutant,score\nM999G,1\n", "outside the chain"),
    ("mutant,score\nhello,1\n", "bad mutation"),
    ("variant,score\nM1G,1\n", "no 'mutant' column"),
    ("mutant,value\nM1G,1\n", "no 'score' column"),
    ("", "the file is empty"),
])
def test_bad_label_text(text, message):
    with pytest.raises(InputError, match=message):
        parse_labels(text, SEQ)


def test_too_few_and_constant_labels():
    mutants = _singles(25, seed=11)
    with pytest.raises(InputError, match="19 labelled variants; fitting needs at least 20"):
        parse_labels("mutant,score\n" + "".join(f"{m},{k}\n" for k, m in enumerate(mutants[:19])), SEQ)
    with pytest.raises(InputError, match="every score is 0.5"):
        parse_labels("mutant,score\n" + "".join(f"{m},0.5\n" for m in mutants), SEQ)
    tsv = parse_labels("mutant\tDMS_score\n" + "".join(f"{m}\t{k}\n" for k, m in enumerate(mutants)), SEQ)
    assert len(tsv) == 25



def test_fitted_model_file_is_checked(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"kind": "something else"}))
    with pytest.raises(InputError, match="not a saprot-scan fitted model"):
        load_fitted(path)
    path.write_text(json.dumps({"kind": "saprot-scan fitted model", "format": 1, "sequence": "MK"}))
    with pytest.raises(InputError, match="damaged fitted-model file"):
        load_fitted(path)


# ---------------------------------------------------------------------------------------------- issue 19, item 3

@pytest.mark.parametrize("doubles", [0, 25], ids=["singles (low-rank spectrum)", "with doubles (full eigh)"])
def test_the_closed_form_leave_one_out_ridge_equals_scikit_learns_ridgecv(doubles):
    """The reference is scikit-learn's RidgeCV (efficient LOO) on the dense one-hot matrix, for every zero-shot
    scale the fit tries; the closed form must pick the same penalty and the same weights, on the fast path
    (single mutants, each labelled once) and on the general one."""
    from sklearn.linear_model import RidgeCV

    from saprot_scan.design.fitting import ALPHAS, ZS_BOOSTS, RidgeKernel

    zs = _zero_shot(4)
    mutants = _singles(300, seed=5)
    site_effect = {i: v for i, v in enumerate(np.random.default_rng(6).normal(0, 1.0, len(SEQ)))}
    y = [0.8 * _zs_of(zs, m) + site_effect[int(m[1:-1]) - 1] for m in mutants]
    for a, b in zip(mutants[:doubles], mutants[-doubles:] if doubles else []):
        if a[1:-1] != b[1:-1]:
            mutants.append(f"{a}:{b}")
            y.append(y[mutants.index(a)] + y[mutants.index(b)])
    y = np.array(y) + np.random.default_rng(7).normal(0, 0.3, len(y))
    labels = _labels(mutants, y)
    z = np.array([sum(_zs_of(zs, p) for p in m.split(":")) for m in mutants])
    kernel = RidgeKernel(labels.sites, y)
    assert (kernel.q.shape[1] < 150) == (doubles == 0)  # which path was taken
    mine = kernel.fit(z)
    dense = kernel.x.toarray()
    best = None
    for boost in ZS_BOOSTS:
        scale = boost / np.std(z)
        model = RidgeCV(alphas=list(ALPHAS)).fit(np.hstack([dense, (z * scale)[:, None]]), y)
        if best is None or model.best_score_ > best[0].best_score_:
            best = (model, scale, boost)
    model, scale, boost = best
    assert (mine.alpha, mine.zs_boost) == (model.alpha_, boost) and mine.alpha < max(ALPHAS)
    np.testing.assert_allclose([mine.weights[c] for c in kernel.used], model.coef_[:-1], atol=1e-8)
    assert mine.zs_coef == pytest.approx(model.coef_[-1] * scale, abs=1e-8)
    assert mine.intercept == pytest.approx(model.intercept_, abs=1e-8)
    onehot, reference = kernel.fit(), RidgeCV(alphas=list(ALPHAS)).fit(dense, y)
    assert onehot.alpha == reference.alpha_
    np.testing.assert_allclose([onehot.weights[c] for c in kernel.used], reference.coef_, atol=1e-8)


def test_fitted_scores_know_which_sites_were_measured(tmp_path):
    from saprot_scan.design.suggest import suggest_singles, unmeasured_note
    from saprot_scan.outputs.tables import csv_text

    zs = _zero_shot(8)
    every = [f"{wt}{i + 1}{mt}" for i, wt in enumerate(SEQ[:30]) for mt in AMINO_ACIDS if mt != wt]
    mutants = [every[k] for k in np.random.default_rng(9).choice(len(every), 120, replace=False)]
    y = [_zs_of(zs, m) - 2.0 for m in mutants]  # measured substitutions are mostly worse than the wild type
    steps = []
    fitted = fit_model(_result(zs), _labels(mutants, y), progress=steps.append)
    assert steps[-1].startswith("fitting on all 120 labels") and "fold 1/5" in steps[0]
    measured = {int(m[1:-1]) - 1 for m in mutants}
    assert set(fitted.measured) == measured and max(measured) < 30
    fitted.save(tmp_path / "m.json")
    again = load_fitted(tmp_path / "m.json")
    assert again.measured == fitted.measured
    result = apply_fitted(_result(zs), again)
    assert result.measured == tuple(i in measured for i in range(len(SEQ)))
    assert any("had no assay label" in n for n in result.notes)
    rows = [line.split(",") for line in csv_text([result]).splitlines()]
    assert rows[0][-1] == "measured"
    assert {r[-1] for r in rows[1:] if int(r[1]) <= 30 and int(r[1]) - 1 in measured} == {"yes"}
    assert {r[-1] for r in rows[1:] if int(r[1]) > 30} == {"no"}
    # the heatmap crosses each unmeasured column, and says what the cross means
    from saprot_scan.outputs.heatmap import heatmap_figure

    fig = heatmap_figure([result])
    crosses = sum(len(c.get_offsets()) for ax in fig.axes for c in ax.collections
                  if (c.get_gid() or "").startswith("saprot-unmeasured:"))
    assert crosses == len(SEQ) - len(measured)
    assert "no assay label at this site" in " ".join(t.get_text() for t in fig.texts)
    # suggestions: every measured site ranks before any unmeasured one, and the count is said
    singles = suggest_singles([result], top=40, min_score=-1e9)
    flags = [s.measured for s in singles]
    assert True in flags and False in flags and flags == sorted(flags, reverse=True)
    assert f"{flags.count(False)} of {len(flags)} suggestions sit at residues without assay labels" in \
        unmeasured_note(singles)


def test_a_fitted_file_without_measured_sites_still_loads(tmp_path):
    zs = _zero_shot(10)
    mutants = _singles(60, seed=11)
    fitted = fit_model(_result(zs), _labels(mutants, [_zs_of(zs, m) for m in mutants]))
    data = fitted.to_dict()
    del data["labels"]["measured_positions"]  # a model saved before sites were recorded
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = load_fitted(tmp_path / "old.json")
    assert old.measured is None and apply_fitted(_result(zs), old).measured == ()

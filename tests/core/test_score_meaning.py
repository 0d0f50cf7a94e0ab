"""Issue 19, items 1 and 2: each scorer declares what its numbers mean (unit, 0, comparison with the wild type)
and every output takes it from there; percentiles within the chain and the three classes mean the same for
every scorer; the class precision comes from the one JSON the benchmark writes."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from saprot_scan.backends.base import load_scorer
from saprot_scan.encoding.structure import read_structure
from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.outputs.heatmap import heatmap_figure
from saprot_scan.outputs.tables import csv_text
from saprot_scan.pipeline import scan_chain
from saprot_scan.results import ScanResult
from saprot_scan.scoring import meaning, percentiles
from saprot_scan.scoring.percentiles import DAMAGING, TOLERATED, UNCERTAIN, chain_percentiles, class_of

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lysozyme(example_structure):
    return read_structure(example_structure)[0]


def test_each_scorer_kind_declares_its_meaning(lysozyme, tiny_onnx_model):
    saprot = load_scorer(str(tiny_onnx_model))
    structure = load_scorer("burial-blosum")
    both = load_scorer(f"burial-blosum+{tiny_onnx_model}")
    assert meaning.meaning_of(saprot) == meaning.LOG_RATIO and saprot.score_meaning.vs_wild_type
    assert not structure.score_meaning.vs_wild_type and "typical substitution" in structure.score_meaning.zero
    assert not both.score_meaning.vs_wild_type and "z units" in both.score_meaning.unit
    result = scan_chain(lysozyme, structure, use_cache=False)
    assert result.meaning == structure.score_meaning
    assert result.to_dict()["score_meaning"]["vs_wild_type"] is False


def test_a_result_keeps_its_meaning_through_its_dict_form_and_older_files_get_the_right_one(lysozyme):
    result = scan_chain(lysozyme, "burial-blosum", use_cache=False)
    again = ScanResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.meaning == result.meaning
    older = result.to_dict()
    del older["score_meaning"]  # written before meanings were stored: the label alone
    assert not ScanResult.from_dict(older).meaning.vs_wild_type
    older["score_label"] = meaning.LOG_RATIO.label
    assert ScanResult.from_dict(older).meaning == meaning.LOG_RATIO


def test_no_front_end_or_output_hard_codes_saprots_unit():
    """Only the meaning module names SaProt's log-ratio; everything else asks the result or the scorer."""
    pattern = re.compile(r"log P\((mt|mutant)\) ?/ ?P\((wt|wild type)\)")
    offenders = []
    for folder in ("core/saprot_scan", "plugin_pymol", "bundle_chimerax/src"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "meaning.py":
                continue
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def _legend(fig) -> str:
    return " ".join(t.get_text() for t in fig.texts)


def test_the_heatmap_legend_says_what_0_is_for_the_scorer_that_made_it(lysozyme):
    z = scan_chain(lysozyme, "burial-blosum", use_cache=False)
    legend = _legend(heatmap_figure([z]))
    assert "not the wild type" in legend and "score < 0" not in legend and "deleterious" not in legend
    assert "Classes by percentile" in legend
    ratio = ScanResult(z.chain_id, z.residue_ids, z.wt, z.scores, "masked", "m", meaning=meaning.LOG_RATIO)
    assert "worse than the wild type" in _legend(heatmap_figure([ratio]))


def test_percentiles_rank_within_the_chain_whatever_the_units():
    wt = "AC"
    scores = np.array([[0.0] + [float(v) for v in range(19)], [float(v) for v in range(19)] + [np.nan]])
    scores[1, AMINO_ACIDS.index("C")] = 0.0  # the wild type's cell
    p = chain_percentiles(scores, wt)
    assert np.isnan(p[0, 0]) and np.isnan(p[1, AMINO_ACIDS.index("C")]) and np.isnan(p[1, -1])
    finite = p[np.isfinite(p)]
    assert finite.size == 19 + 18 and finite.min() > 0 and finite.max() < 100
    # ties share a percentile; an affine change of units (a z-score, another scale) leaves them alone
    assert p[0, 1] == p[1, 0]
    np.testing.assert_allclose(chain_percentiles(3.0 * scores - 7.0, wt), p)
    order = np.argsort(scores[0, 1:])
    assert np.all(np.diff(p[0, 1:][order]) >= 0)


def test_classes_sit_at_fixed_percentiles():
    assert class_of(percentiles.DAMAGING_AT) == DAMAGING and class_of(percentiles.TOLERATED_AT) == TOLERATED
    assert class_of(50.0) == UNCERTAIN and class_of(float("nan")) == ""


def test_csv_and_json_carry_the_same_percentile(lysozyme):
    result = scan_chain(lysozyme, "burial-blosum", use_cache=False)
    lines = csv_text([result]).splitlines()
    assert lines[0] == "chain,position,residue,wt,mt,mutant,score,percentile,class"
    first = lines[1].split(",")
    i, k = int(first[1]) - 1, AMINO_ACIDS.index(first[4])
    stored = result.to_dict()["residues"][i]["percentiles"][k]
    assert float(first[7]) == pytest.approx(stored, abs=0.01) and first[8] == class_of(stored)
    classes = [line.split(",")[8] for line in lines[1:]]
    share = classes.count(DAMAGING) / len(classes)
    assert 0.2 < share < 0.3  # a quarter of the chain's substitutions, give or take ties


def test_the_class_precision_is_read_from_the_one_file_the_benchmark_writes():
    data = percentiles.class_precision()
    assert data, "models/class_precision.json is written by make bench-dms"
    assert data["measured_by"].startswith("bench/dms.py") and data["scorers"]
    for row in data["scorers"].values():
        assert 0 <= row["damaging_precision"] <= 1 and 0 <= row["tolerated_precision"] <= 1
    scores_page = (REPO / "docs" / "scores.md").read_text(encoding="utf-8")
    assert percentiles.precision_text() in scores_page  # the scores page's block is generated from the same file
    assert "not measured yet" not in percentiles.precision_text()

"""Issue 24, item 2: a fitted model is anchored to the measured wild type when the labels hold it (a synonymous
row, a ``WT``/``_wt`` row, or ``--wild-type-score``); without one its scores are relative to the average
measured variant and nothing claims "better than the wild type". Through the real CLI (structure scorer:
no model download)."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from saprot_scan.encoding.structure import read_structure
from saprot_scan.pipeline import scan_chain
from test_core_bad_input import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def assay(example_structure, tmp_path_factory):
    """60 measured singles of lysozyme, every one worse than the wild type (max below -0.27)."""
    out = tmp_path_factory.mktemp("fit-ref")
    chain = read_structure(example_structure)[0]
    zs = scan_chain(chain, "burial-blosum", use_cache=False)
    rng = np.random.default_rng(7)
    rows, seen = [], set()
    while len(rows) < 60:
        i, k = int(rng.integers(0, len(chain))), int(rng.integers(0, 20))
        wt, mt = chain.sequence[i], "ACDEFGHIKLMNPQRSTVWY"[k]
        if mt == wt or (i, mt) in seen:
            continue
        seen.add((i, mt))
        rows.append((f"{wt}{i + 1}{mt}", min(-0.27, -1.2 + 0.3 * zs.scores[i, k] + 0.2 * rng.normal())))
    synonymous = f"{chain.sequence[43]}44{chain.sequence[43]}"
    return out, chain, rows, synonymous


def _write(path, rows, extra=()):
    path.write_text("mutant,score\n" + "".join(f"{m},{v:.4f}\n" for m, v in [*rows, *extra]))
    return path


def _fit(structure, out, labels, predict, *extra):
    predictions = out / f"{labels.stem}.pred.csv"
    proc = run_cli("fit", structure, "--model", "burial-blosum", "--labels", labels, "--save", out / f"{labels.stem}.json",
                   "--predict", " ".join(predict), "--predictions", predictions, *extra, cwd=out)
    assert proc.returncode == 0, proc.stderr
    with open(predictions, newline="") as handle:
        fitted = {r["mutant"]: r["fitted"] for r in csv.DictReader(handle)}
    return proc, fitted


def _suggest(structure, out, model):
    proc = run_cli("suggest", structure, "--model", "burial-blosum", "--fitted", model, "--top", "5",
                   "--combinations", "0", cwd=out)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("wild_type", ["synonymous", "WT", "_wt", "option"])
def test_the_fit_is_anchored_to_the_measured_wild_type(assay, example_structure, wild_type):
    out, chain, rows, synonymous = assay
    extra = {"synonymous": [(synonymous, 0.0)], "WT": [("WT", 0.0)], "_wt": [("_wt", 0.0)], "option": []}[wild_type]
    labels = _write(out / f"labels-{wild_type}.csv", rows, extra)
    proc, fitted = _fit(example_structure, out, labels, [m for m, _ in rows] + [synonymous],
                        *(["--wild-type-score", "0"] if wild_type == "option" else []))
    assert "relative to the measured wild type" in proc.stderr
    values = np.array([float(fitted[m]) for m, _ in rows])
    # every measured variant is worse than the wild type; the fit must say so for (nearly) all of them
    assert np.mean(values < 0) > 0.9, values
    saved = json.loads((out / f"labels-{wild_type}.json").read_text())
    assert saved["model"]["reference"]["kind"] == "wild type" and saved["model"]["reference"]["value"] == 0.0
    assert float(fitted[synonymous]) == 0.0  # the wild type itself, once anchored to it
    text = _suggest(example_structure, out, out / f"labels-{wild_type}.json")
    assert "0 is the wild type" in text or "better than the wild type" in text


def test_without_a_wild_type_the_fit_claims_nothing_about_it(assay, example_structure):
    out, chain, rows, synonymous = assay
    labels = _write(out / "labels-none.csv", rows)
    proc, fitted = _fit(example_structure, out, labels, [m for m, _ in rows] + [synonymous])
    assert "relative to the average measured variant" in proc.stderr
    assert fitted[synonymous] == ""  # no wild type measured: the wild type gets no score
    values = np.array([float(fitted[m]) for m, _ in rows])
    assert abs(values.mean()) < 0.1  # 0 is the average measured variant, not the wild type
    text = _suggest(example_structure, out, out / "labels-none.json")
    assert "average measured variant" in text
    assert "predicted better than the wild type" not in text
    scan = run_cli("scan", example_structure, "--model", "burial-blosum", "--fitted", out / "labels-none.json",
                   "--json", out / "none.json", cwd=out)
    assert scan.returncode == 0, scan.stderr
    meaning = json.loads((out / "none.json").read_text())["chains"][0]["score_meaning"]
    assert meaning["vs_wild_type"] is False and meaning["zero"] == "the average measured variant"


def test_a_bad_wild_type_score_is_one_line(assay, example_structure):
    out, _, rows, _ = assay
    labels = _write(out / "labels-bad.csv", rows)
    proc = run_cli("fit", example_structure, "--model", "burial-blosum", "--labels", labels,
                   "--wild-type-score", "nan", cwd=out)
    assert_one_line_error(proc, "--wild-type-score")

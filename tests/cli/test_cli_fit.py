"""Issue 14, item 1: `saprot-scan fit` end to end with the tiny real ONNX model on lysozyme, `scan --fitted`,
and bad label files through the real command line in a subprocess (exit 2, one line, no file left behind)."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from saprot_scan import cli
from saprot_scan.design.fitting import load_fitted
from saprot_scan.encoding.tokens import AMINO_ACIDS
from test_core_bad_input import assert_one_line_error, run_cli

pytest.importorskip("sklearn", reason="fitting needs the fit extra (scikit-learn)")


# ---------------------------------------------------------------------------------------------- command line

@pytest.fixture(scope="module")
def lysozyme_fit(example_structure, tiny_onnx_model, tmp_path_factory):
    """Fit the tiny model's lysozyme scores to labels with a hidden site effect, through the CLI."""
    import contextlib
    import io
    import os

    out = tmp_path_factory.mktemp("fit")
    saved = os.environ.get("SAPROT_SCAN_CACHE")
    os.environ["SAPROT_SCAN_CACHE"] = str(out / "cache")
    try:
        assert cli.main(["scan", str(example_structure), "--model", str(tiny_onnx_model), "--quiet",
                         "--csv", str(out / "zs.csv")]) == 0
        with open(out / "zs.csv", newline="") as handle:
            zs = {r["mutant"]: float(r["score"]) for r in csv.DictReader(handle)}
        rng = np.random.default_rng(0)
        mutants = list(rng.choice(sorted(zs), 150, replace=False))
        hot = {int(m[1:-1]) for m in mutants[:40]}  # positions where every substitution is much better
        lines = [f"{m},{zs[m] + (3.0 if int(m[1:-1]) in hot else 0.0) + rng.normal(0, 0.1):.5f}" for m in mutants]
        lines += ["K1A:R5G,-4.0", "V2G:W28F,-1.5"]
        (out / "labels.csv").write_text("mutant,score\n" + "\n".join(lines) + "\n")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = cli.main(["fit", str(example_structure), "--model", str(tiny_onnx_model),
                           "--labels", str(out / "labels.csv"), "--save", str(out / "model.json"),
                           "--csv", str(out / "fit.csv"), "--json", str(out / "fit.json"),
                           "--summary-csv", str(out / "per-residue.csv"),
                           "--predict", "K1A:R5G:W28F K1A", "--predictions", str(out / "pred.csv")])
    finally:
        if saved is None:
            os.environ.pop("SAPROT_SCAN_CACHE", None)
        else:
            os.environ["SAPROT_SCAN_CACHE"] = saved
    return rc, out, err.getvalue(), zs


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_fit_outputs(lysozyme_fit):
    rc, out, err, zs = lysozyme_fit
    assert rc == 0, err
    assert "cross-validated Spearman (5 folds, 152 labels): fitted" in err
    assert "zero-shot" in err and "on the same folds" in err
    rows = _rows(out / "fit.csv")
    assert list(rows[0]) == ["chain", "position", "residue", "wt", "mt", "mutant", "score", "percentile", "class",
                             "measured"]
    assert len(rows) == 129 * 19 and [r["mutant"] for r in rows] == list(zs)
    model = load_fitted(out / "model.json")
    cv = model.cv
    assert cv["fitted"]["spearman_mean"] > cv["zero_shot"]["spearman_mean"] + 0.1
    data = json.loads((out / "fit.json").read_text())
    assert "fitted model.json" in data["chains"][0]["model"]
    assert (out / "per-residue.csv").is_file()


def test_fit_predictions_use_the_multi_site_rule(lysozyme_fit, example_structure, tiny_onnx_model, capsys):
    _, out, _, zs = lysozyme_fit
    pred = {r["mutant"]: r for r in _rows(out / "pred.csv")}
    assert list(pred) == ["K1A:R5G:W28F", "K1A"]
    assert cli.main(["score", str(example_structure), "--model", str(tiny_onnx_model), "--quiet",
                     "--mutations", "K1A:R5G:W28F"]) == 0
    multi_zs = float(capsys.readouterr().out.strip().split("\n")[1].split(",")[1])
    assert float(pred["K1A:R5G:W28F"]["zero_shot"]) == pytest.approx(multi_zs, abs=1e-5)
    model = load_fitted(out / "model.json")
    w = model.weights
    want = model.zs_coef * multi_zs + w[0, AMINO_ACIDS.index("A")] + w[4, AMINO_ACIDS.index("G")] \
        + w[27, AMINO_ACIDS.index("F")] + model.offset
    assert float(pred["K1A:R5G:W28F"]["fitted"]) == pytest.approx(want, abs=1e-5)
    fit_rows = {r["mutant"]: r["score"] for r in _rows(out / "fit.csv")}
    assert float(pred["K1A"]["fitted"]) == pytest.approx(float(fit_rows["K1A"]), abs=1e-5)


def test_scan_fitted_gives_the_fit_scores(lysozyme_fit, example_structure, tiny_onnx_model, tmp_path):
    _, out, _, _ = lysozyme_fit
    assert cli.main(["scan", str(example_structure), "--model", str(tiny_onnx_model), "--quiet",
                     "--fitted", str(out / "model.json"), "--csv", str(tmp_path / "again.csv")]) == 0
    assert (tmp_path / "again.csv").read_text() == (out / "fit.csv").read_text()


@pytest.fixture()
def workdir(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def _label_file(folder, body: str):
    path = folder.parent / "labels.csv"
    path.write_text("mutant,score\n" + body)
    return path


GOOD = "".join(f"{m},{k % 7}\n" for k, m in enumerate(
    ["K1A", "K1G", "V2G", "V2A", "F3A", "G4A", "R5G", "R5A", "C6A", "E7A", "L8A", "A9G", "A10G", "A11G",
     "M12A", "K13A", "R14A", "H15A", "G16A", "L17A", "D18A", "N19A"]))


@pytest.mark.parametrize("body,message", [
    (GOOD + "Q1A,2\n", "line 24: mutation Q1A: residue 1 is K, not Q"),
    (GOOD + "K1Z,2\n", "line 24: bad mutation 'K1Z'"),
    (GOOD + "K1A,high\n", "line 24: score 'high' is not a number"),
    ("K1A,1\nV2G,2\n", "2 labelled variants; fitting needs at least 20"),
    ("".join(line.split(",")[0] + ",1\n" for line in GOOD.splitlines()), "every score is 1"),
])
def test_bad_label_files_through_the_cli(body, message, example_structure, tiny_onnx_model, workdir):
    labels = _label_file(workdir, body)
    proc = run_cli("fit", example_structure, "--model", tiny_onnx_model, "--labels", labels,
                   "--save", "m.json", "--csv", "f.csv", cwd=workdir)
    assert_one_line_error(proc, message)
    assert list(workdir.iterdir()) == []


def test_scan_fitted_refuses_another_model_or_structure(lysozyme_fit, test_data, example_structure, workdir):
    _, out, _, _ = lysozyme_fit
    proc = run_cli("scan", example_structure, "--fitted", out / "model.json", "--csv", "x.csv", cwd=workdir)
    assert_one_line_error(proc, "was fitted on scores of model")
    other = test_data / "foldseek_3di" / "1igy.cif"
    proc = run_cli("scan", other, "--chain", "A", "--fitted", out / "model.json", "--csv", "x.csv", cwd=workdir)
    assert_one_line_error(proc, "another sequence")
    proc = run_cli("scan", example_structure, "--fitted", out / "labels.csv", "--csv", "x.csv", cwd=workdir)
    assert_one_line_error(proc, "not a fitted-model JSON file")
    for command in ("scan", "suggest"):  # several chains: the message names them, to pick one with --chain
        proc = run_cli(command, other, "--fitted", out / "model.json", "--csv", "x.csv", cwd=workdir)
        assert_one_line_error(proc, "--fitted applies to one chain; the structure has 4 protein chains "
                                    "(A, B, C, D); choose one with --chain")
    assert list(workdir.iterdir()) == []


def test_fit_on_the_structure_scorer(example_structure, tmp_path, capsys):
    """A structure scorer (burial-blosum, a part of the offline default; no language model) works as the zero-shot
    feature too."""
    from saprot_scan.pipeline import scan_chain

    from saprot_scan.encoding.structure import read_structure

    (chain,) = read_structure(example_structure)
    zs = scan_chain(chain, "burial-blosum", use_cache=False)
    rng = np.random.default_rng(3)
    rows = []
    for i, k in zip(rng.integers(0, len(chain), 60), rng.integers(0, 20, 60)):
        if AMINO_ACIDS[k] != chain.sequence[i]:
            rows.append(f"{chain.sequence[i]}{i + 1}{AMINO_ACIDS[k]},{2 * zs.scores[i, k] + rng.normal(0, 0.1):.5f}")
    (tmp_path / "labels.csv").write_text("mutant,score\n" + "\n".join(rows) + "\n")
    assert cli.main(["fit", str(example_structure), "--model", "burial-blosum", "--quiet", "--labels",
                     str(tmp_path / "labels.csv"), "--save", str(tmp_path / "m.json"),
                     "--csv", str(tmp_path / "f.csv")]) == 0
    model = load_fitted(tmp_path / "m.json")
    assert model.zero_shot["model"] == zs.model_name and model.zs_coef > 0
    assert model.cv["fitted"]["spearman_mean"] > 0.8
    assert cli.main(["scan", str(example_structure), "--model", "burial-blosum", "--quiet",
                     "--fitted", str(tmp_path / "m.json"), "--csv", str(tmp_path / "again.csv")]) == 0
    assert (tmp_path / "again.csv").read_text() == (tmp_path / "f.csv").read_text()
    capsys.readouterr()


# ---------------------------------------------------------------------------------------------- issue 19, item 3

def test_fit_save_alone_shows_progress_and_prints_no_table_and_suggest_names_unmeasured_sites(
        example_structure, tmp_path, capsys, monkeypatch):
    """Labels at residues 1-40 only: `fit --save` alone writes the model, shows its steps on stderr and no rows
    on stdout; `suggest --fitted` ranks measured residues first and says how many suggestions have no data."""
    from saprot_scan.encoding.structure import read_structure
    from saprot_scan.pipeline import scan_chain

    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))
    (chain,) = read_structure(example_structure)
    zs = scan_chain(chain, "burial-blosum", use_cache=False)
    rng = np.random.default_rng(12)
    rows = [f"{chain.sequence[i]}{i + 1}{mt},{zs.scores[i, k] - 1.5 + rng.normal(0, 0.2):.5f}"
            for i in range(40) for k, mt in enumerate(AMINO_ACIDS) if mt != chain.sequence[i] and rng.random() < 0.4]
    (tmp_path / "labels.csv").write_text("mutant,score\n" + "\n".join(rows) + "\n")
    capsys.readouterr()
    assert cli.main(["fit", str(example_structure), "--model", "burial-blosum", "--labels",
                     str(tmp_path / "labels.csv"), "--save", str(tmp_path / "m.json")]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "fit: cross-validation fold 5/5 done" in err and f"fit: fitting on all {len(rows)} labels" in err
    assert cli.main(["suggest", str(example_structure), "--model", "burial-blosum", "--fitted",
                     str(tmp_path / "m.json"), "--top", "60", "--min-score", "-100", "--quiet",
                     "--csv", str(tmp_path / "s.csv")]) == 0
    out = capsys.readouterr().out
    singles = [r for r in _rows(tmp_path / "s.csv") if r["kind"] == "single"]
    flags = [r["measured"] for r in singles]
    assert flags == sorted(flags, reverse=True) and "yes" in flags and "no" in flags  # measured first
    assert all(int(r["mutant"][1:-1]) <= 40 for r in singles if r["measured"] == "yes")
    assert f"{flags.count('no')} of {len(flags)} suggestions sit at residues without assay labels" in out
    # these labels hold no wild type: fitted scores are relative to the average measured variant (issue 24)
    assert "minus the average measured variant's" in out and "predicted better than the wild type" not in out

"""The `saprot-scan scan` and `score` commands: CSV/JSON/summary outputs, notes on stderr, and scores
that equal a plain PyTorch SaProt (tests/support/core_reference.py) on the tiny random checkpoint."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from support import core_reference as ref
from support import core_testfiles as tf
from saprot_scan import cli
from saprot_scan.encoding.structure import read_structure
from saprot_scan.encoding.tokens import AMINO_ACIDS

LYSOZYME = ("KVFGRCELAAAMKRHGLDNYRGYSLGNWVCAAKFESNFNTQATNRNTDGSTDYGILQINSRWWCNDGRTPGSRNLCNIPCSALLSSDITASVNCAKKIVSD"
            "GNGMNAWVAWRNRCKGTDVQAWIRGCRL")


@pytest.fixture(scope="module")
def lysozyme_3di(example_structure):
    from saprot_scan.encoding.plddt import chain_tokens

    (chain,) = read_structure(example_structure)
    return chain_tokens(chain, "off", backend="embedded").struct


@pytest.fixture(autouse=True)
def fresh_result_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def scanned(example_structure, tiny_onnx_model, tmp_path_factory):
    """One masked scan of lysozyme written as CSV, JSON and per-residue summary."""
    import contextlib
    import io
    import os

    out = tmp_path_factory.mktemp("scan-outputs")
    saved = os.environ.get("SAPROT_SCAN_CACHE")
    os.environ["SAPROT_SCAN_CACHE"] = str(out / "cache")
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            rc = cli.main(["scan", str(example_structure), "--model", str(tiny_onnx_model),
                           "--csv", str(out / "s.csv"), "--json", str(out / "s.json"),
                           "--summary-csv", str(out / "per-residue.csv")])
    finally:
        if saved is None:
            os.environ.pop("SAPROT_SCAN_CACHE", None)
        else:
            os.environ["SAPROT_SCAN_CACHE"] = saved
    return rc, out, err.getvalue()


def _read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_scan_csv_columns_and_values(scanned, torch_model, lysozyme_3di):
    rc, out, _ = scanned
    assert rc == 0
    rows = _read_csv(out / "s.csv")
    assert list(rows[0].keys()) == ["chain", "position", "residue", "wt", "mt", "mutant", "score", "percentile",
                                    "class"]
    assert len(rows) == 129 * 19
    expected = ref.masked_marginal(torch_model, LYSOZYME, lysozyme_3di)
    for row in rows:
        i = int(row["position"]) - 1
        assert row["chain"] == "A" and row["residue"] == str(i + 1)  # lysozyme is numbered 1..129
        assert row["wt"] == LYSOZYME[i] and row["mt"] != row["wt"]
        assert row["mutant"] == f"{row['wt']}{i + 1}{row['mt']}"
        assert float(row["score"]) == pytest.approx(expected[i, AMINO_ACIDS.index(row["mt"])], abs=1e-4)
    assert {r["mt"] for r in rows if r["position"] == "1"} == set(AMINO_ACIDS) - {"K"}


def test_scan_json(scanned):
    _, out, _ = scanned
    data = json.loads((out / "s.json").read_text())
    (chain,) = data["chains"]
    assert chain["chain"] == "A" and chain["method"] == "masked" and chain["model"] == "tiny"
    assert chain["sequence"] == LYSOZYME and chain["amino_acids"] == AMINO_ACIDS
    assert chain["plddt_mask_applied"] is False and chain["plddt_masked_residues"] == 0 and chain["windows"] == 1
    assert len(chain["structure_3di"]) == 129 and len(chain["model_sha256"]) == 64
    rows = {(int(r["position"]), r["mt"]): float(r["score"]) for r in _read_csv(out / "s.csv")}
    for res in chain["residues"]:
        p = res["position"]
        assert res["residue"] == str(p) and res["wt"] == LYSOZYME[p - 1]
        assert res["scores"][AMINO_ACIDS.index(res["wt"])] == 0.0
        others = [res["scores"][k] for k, aa in enumerate(AMINO_ACIDS) if aa != res["wt"]]
        assert [rows[(p, aa)] for aa in AMINO_ACIDS if aa != res["wt"]] == pytest.approx(others, abs=2e-6)
        assert res["mean"] == pytest.approx(np.mean(others), abs=2e-6)
        assert res["min"] == pytest.approx(min(others), abs=2e-6)
        assert res["max"] == pytest.approx(max(others), abs=2e-6)


def test_summary_csv(scanned):
    _, out, _ = scanned
    summary = _read_csv(out / "per-residue.csv")
    assert list(summary[0].keys()) == ["chain", "position", "residue", "wt", "mean", "min", "max"]
    assert len(summary) == 129
    by_position: dict[int, list[float]] = {}
    for row in _read_csv(out / "s.csv"):
        by_position.setdefault(int(row["position"]), []).append(float(row["score"]))
    for row in summary:
        scores = by_position[int(row["position"])]
        assert len(scores) == 19
        assert float(row["mean"]) == pytest.approx(np.mean(scores), abs=2e-6)
        assert float(row["min"]) == pytest.approx(min(scores), abs=2e-6)
        assert float(row["max"]) == pytest.approx(max(scores), abs=2e-6)


def test_scan_notes_on_stderr(scanned, tiny_onnx_model):
    _, out, err = scanned
    lines = err.strip().split("\n")
    assert lines[0].startswith("scoring with model tiny (file), fp32 on CPU, sha256 ")
    assert "chain A: 129 residues, masked-marginal, model tiny; no pLDDT masking" in err
    for name in ("s.csv", "s.json", "per-residue.csv"):
        assert f"wrote {out / name}" in err
    assert "Traceback" not in err


def test_scan_to_stdout_and_cache(example_structure, tiny_onnx_model, capsys):
    argv = ["scan", str(example_structure), "--model", str(tiny_onnx_model), "--method", "wt"]
    assert cli.main(argv) == 0
    first = capsys.readouterr()
    assert first.out.startswith("chain,position,residue,wt,mt,mutant,score,percentile,class\n")
    assert len(first.out.strip().split("\n")) == 1 + 129 * 19
    assert "wt-marginal" in first.err and "result cache" not in first.err
    assert cli.main(argv) == 0
    second = capsys.readouterr()
    assert second.out == first.out
    assert "scores read from the result cache" in second.err
    assert cli.main(argv + ["--no-cache"]) == 0
    third = capsys.readouterr()
    assert third.out == first.out and "result cache" not in third.err
    assert cli.main(argv + ["--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_scan_every_chain_with_insertion_codes(test_data, tiny_onnx_model, tmp_path, capsys):
    path = test_data / tf.FOLDSEEK_DIR_NAME / "1igy.cif"
    assert cli.main(["scan", str(path), "--model", str(tiny_onnx_model), "--method", "wt",
                     "--csv", str(tmp_path / "s.csv"), "--summary-csv", str(tmp_path / "r.csv")]) == 0
    err = capsys.readouterr().err
    chains = read_structure(path)
    for chain in chains:
        assert f"chain {chain.chain_id}: {len(chain)} residues, wt-marginal" in err
    rows = _read_csv(tmp_path / "s.csv")
    assert [c for c in dict.fromkeys(r["chain"] for r in rows)] == ["A", "B", "C", "D"]
    heavy = [r for r in rows if r["chain"] == "B"]
    labels = list(dict.fromkeys(r["residue"] for r in heavy))
    assert labels == [r.label for r in chains[1].residue_ids]
    assert ["52", "52A", "53"] == labels[labels.index("52"):labels.index("52") + 3]
    row = next(r for r in heavy if r["residue"] == "52A")
    position = labels.index("52A") + 1
    assert row["position"] == str(position) and row["mutant"].startswith(f"{row['wt']}{position}")
    summary = _read_csv(tmp_path / "r.csv")
    assert [r["residue"] for r in summary if r["chain"] == "B"] == labels


def test_scan_predicted_model_reports_masking(example_structure, tiny_onnx_model, tmp_path, capsys):
    atoms = tf.protein_only(tf.load_atoms(example_structure))
    plddt = tf.plddt_ramp(129)
    path = tf.write_pdb(tf.with_plddt(atoms, plddt), tmp_path / "ranked_0.pdb")
    assert cli.main(["scan", str(path), "--model", str(tiny_onnx_model), "--method", "wt",
                     "--json", str(tmp_path / "s.json")]) == 0
    low = int((plddt < 70).sum())
    assert f"pLDDT masking applied to {low} residues" in capsys.readouterr().err
    chain = json.loads((tmp_path / "s.json").read_text())["chains"][0]
    assert chain["plddt_mask_applied"] is True and chain["plddt_masked_residues"] == low
    assert chain["structure_3di"].count("#") == low
    assert cli.main(["scan", str(path), "--model", str(tiny_onnx_model), "--method", "wt", "--plddt-mask", "off",
                     "--json", str(tmp_path / "off.json")]) == 0
    assert "no pLDDT masking" in capsys.readouterr().err
    assert "#" not in json.loads((tmp_path / "off.json").read_text())["chains"][0]["structure_3di"]
    assert cli.main(["score", str(path), "--model", str(tiny_onnx_model), "--mutations", "K1A"]) == 0
    assert f"pLDDT masking applied to {low} residues" in capsys.readouterr().err


def _tiled_lysozyme(example_structure, tmp_path):
    """A real-geometry chain of 1161 residues (lysozyme nine times, each copy 60 A further on), as a PDB file."""
    import biotite.structure as struc

    atoms = tf.protein_only(tf.load_atoms(example_structure))
    copies = []
    for k in range(9):
        copy = atoms.copy()
        copy.res_id = copy.res_id + 129 * k
        copy.coord = copy.coord + np.array([60.0 * k, 0, 0], dtype=np.float32)
        copies.append(copy)
    return tf.write_pdb(struc.concatenate(copies), tmp_path / "long.pdb")


def test_long_chain_cli_says_windows(example_structure, tiny_onnx_model, tmp_path, capsys):
    path = _tiled_lysozyme(example_structure, tmp_path)
    assert cli.main(["scan", str(path), "--model", str(tiny_onnx_model), "--method", "wt",
                     "--json", str(tmp_path / "long.json")]) == 0
    err = capsys.readouterr().err
    assert "chain A: 1161 residues" in err and "scored in 2 overlapping windows of up to 1022 residues" in err
    assert json.loads((tmp_path / "long.json").read_text())["chains"][0]["windows"] == 2
    assert cli.main(["score", str(path), "--model", str(tiny_onnx_model), "--mutations", "K1A R1100A:S1104G"]) == 0
    captured = capsys.readouterr()
    assert "each variant scored in a 1022-residue window: the scan's window for its sites" in captured.err
    assert len(captured.out.strip().split("\n")) == 3


def test_long_chain_score_and_scan_share_one_window_rule(example_structure, tiny_onnx_model, torch_model,
                                                          tmp_path, capsys):
    """Issue 24, item 6: a residue midway between the windows' centres gets the same score from ``score`` as
    from ``scan`` (the window that owns it), and two sites 1,000 residues apart, which no planned window holds
    together, are scored in one 1022-residue window built around them (checked against plain PyTorch)."""
    path = _tiled_lysozyme(example_structure, tmp_path)
    model = str(tiny_onnx_model)
    # windows [0, 1022) and [139, 1161); residue 581 (index 580) is the first the second window owns
    assert cli.main(["scan", str(path), "--model", model, "--residues", "578-584", "--csv", str(tmp_path / "s.csv"),
                     "--quiet"]) == 0
    scanned = {r["mutant"]: float(r["score"]) for r in csv.DictReader(open(tmp_path / "s.csv"))}
    assert cli.main(["scan", str(path), "--model", model, "--method", "wt", "--json", str(tmp_path / "all.json"),
                     "--quiet"]) == 0
    chain = json.loads((tmp_path / "all.json").read_text())["chains"][0]
    aa, struct = chain["sequence"], chain["structure_3di"]
    assert len(aa) == len(struct) == 1161
    picks = [f"{aa[i]}{i + 1}{'A' if aa[i] != 'A' else 'G'}" for i in (577, 579, 580, 583)]
    assert cli.main(["score", str(path), "--model", model, "--quiet", "--mutations", " ".join(picks)]) == 0
    lines = capsys.readouterr().out.strip().split("\n")[1:]
    for mutant, line in zip(picks, lines):
        assert float(line.split(",")[1]) == pytest.approx(scanned[mutant], abs=1e-5), mutant
    far = f"{aa[100]}101A:{aa[1100]}1101A"
    assert cli.main(["score", str(path), "--model", model, "--quiet", "--mutations", far]) == 0
    got = float(capsys.readouterr().out.strip().split("\n")[1].split(",")[1])
    start = 100 - (1021 - 1000) // 2  # the spare 21 residues shared around the two sites
    local = f"{aa[100]}{101 - start}A:{aa[1100]}{1101 - start}A"
    want = ref.variant_score(torch_model, aa[start:start + 1022], struct[start:start + 1022], local)
    assert got == pytest.approx(want, abs=1e-4)
    assert cli.main(["score", str(path), "--model", model, "--quiet", "--mutations", f"{aa[0]}1A:{aa[1100]}1101A"]) == 2
    assert "sites 1 and 1101 are 1100 residues apart" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------- score

def test_score_single_and_multi_mutants(example_structure, tiny_onnx_model, torch_model, lysozyme_3di, capsys):
    variants = ["K1A", "V2G", "R5G:W28F", "K1A:R5G:W28F:L129P"]
    assert cli.main(["score", str(example_structure), "--model", str(tiny_onnx_model), "--plddt-mask", "off",
                     "--mutations", " ".join(variants)]) == 0
    captured = capsys.readouterr()
    assert "chain A: 129 residues, masked marginal, all sites of a variant in one pass; no pLDDT masking" \
        in captured.err
    lines = captured.out.strip().split("\n")
    assert lines[0] == "mutant,score"
    got = dict(line.split(",") for line in lines[1:])
    assert list(got) == variants
    for variant in variants:
        want = ref.variant_score(torch_model, LYSOZYME, lysozyme_3di, variant)
        assert float(got[variant]) == pytest.approx(want, abs=1e-4)


def test_score_commas_separate_variants_never_sites(example_structure, capsys):
    """'K1A,V2G' is two single mutants (as a list on most command lines), never the double mutant K1A:V2G;
    inside brackets the HGVS form keeps its sites together."""
    def scored(text: str) -> dict[str, str]:
        assert cli.main(["score", str(example_structure), "--mutations", text]) == 0
        return dict(line.split(",") for line in capsys.readouterr().out.strip().split("\n")[1:])

    singles = scored("K1A,V2G")
    assert list(singles) == ["K1A", "V2G"]
    assert scored("K1A, V2G") == singles == {**scored("K1A"), **scored("V2G")}
    assert list(scored("K1A:V2G")) == ["K1A:V2G"]
    assert list(scored("p.[Lys1Ala;Val2Gly],R5G")) == ["K1A:V2G", "R5G"]


def test_score_mutations_file_and_out(example_structure, tiny_onnx_model, tmp_path, capsys):
    listing = tmp_path / "variants.csv"
    listing.write_text("mutant,DMS_score\nK1A,0.3\nR5G:W28F,-1.2\n")
    out = tmp_path / "scores.csv"
    assert cli.main(["score", str(example_structure), "--model", str(tiny_onnx_model),
                     "--mutations-file", str(listing), "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    rows = _read_csv(out)
    assert [r["mutant"] for r in rows] == ["K1A", "R5G:W28F"]
    plain = tmp_path / "plain.txt"
    plain.write_text("# my variants\nK1A\n\nR5G:W28F\n")
    assert cli.main(["score", str(example_structure), "--model", str(tiny_onnx_model),
                     "--mutations-file", str(plain)]) == 0
    again = capsys.readouterr().out.strip().split("\n")[1:]
    assert [line.split(",")[1] for line in again] == [r["score"] for r in rows]


def test_version_and_help(capsys):
    from saprot_scan import __version__

    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"saprot-scan {__version__}"
    assert cli.main([]) == 2
    assert "required" in capsys.readouterr().err


def test_unknown_residue_is_kept_but_not_scored(example_structure, tiny_onnx_model, tmp_path, capsys):
    """An unknown residue (UNK -> X) keeps its place in the chain; it has no wild type to compare with."""
    atoms = tf.protein_only(tf.load_atoms(example_structure))
    atoms.res_name[atoms.res_id == 10] = "UNK"
    path = tf.write_pdb(atoms, tmp_path / "unk.pdb")
    assert cli.main(["scan", str(path), "--model", str(tiny_onnx_model), "--csv", str(tmp_path / "s.csv"),
                     "--json", str(tmp_path / "s.json"), "--summary-csv", str(tmp_path / "r.csv"), "--quiet"]) == 0
    rows = _read_csv(tmp_path / "s.csv")
    assert len(rows) == 128 * 19 and not any(r["position"] == "10" for r in rows)
    residue = json.loads((tmp_path / "s.json").read_text())["chains"][0]["residues"][9]
    assert residue["wt"] == "X" and residue["scores"] == [None] * 20 and residue["mean"] is None
    summary = _read_csv(tmp_path / "r.csv")
    assert summary[9]["wt"] == "X" and summary[9]["mean"] == ""
    assert cli.main(["score", str(path), "--model", str(tiny_onnx_model), "--mutations", "A10G", "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == ("saprot-scan: error: mutation A10G: residue 10 is X, not A "
                                               "(chain A, author numbering; index 10)")


def test_models_list(capsys):
    """Needs no torch: lists the registry, the cache and the default."""
    from saprot_scan.models.registry import registry

    assert cli.main(["models", "list"]) == 0
    out = capsys.readouterr().out.strip().split("\n")
    assert out[0] == "name\tstatus\tsource"
    names = [line.split("\t")[0] for line in out[1:] if not line.startswith("#")]
    for name in registry():
        assert name in names
    assert "saprot-35m" in names and "saprot-650m" in names
    assert {"structure-blend", "burial-blosum", "learned-structure"} <= set(names)  # the offline default and its parts
    assert any(line.startswith("# default: ") for line in out)
    assert any(line.startswith("# cache: ") for line in out)


@pytest.mark.parametrize("spec, kind", [("burial-blosum", "built-in scorer"), ("structure-blend", "built-in scorer"),
                                        ("burial-blosum+learned-structure", "ensemble")])
def test_models_info_describes_scorers_without_a_model_file(capsys, spec, kind):
    """models info on a built-in scorer says what it is and what its numbers mean (it said 'unknown model')."""
    assert cli.main(["models", "info", spec]) == 0
    rows = dict(line.split("\t", 1) for line in capsys.readouterr().out.strip().split("\n"))
    assert rows["name"] == spec and rows["kind"].startswith(kind)
    assert rows["zero"] == "the chain's typical substitution" and "not a comparison with the wild type" in rows["sign"]

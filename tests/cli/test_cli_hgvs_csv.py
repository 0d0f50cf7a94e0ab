"""Issue 13, item 2 (the writer): ``scan --csv-hgvs F`` writes the mutation-scores CSV that ChimeraX's
``mutationscores`` opens. Checked against the format's documented rules, read here the way the format is
specified: the first line holds comma-separated column names, the first one ``hgvs``; each later line has as
many plain comma-separated fields; the hgvs field is ``p.(`` + wild type + residue number + mutant + ``)``;
no substitution twice; the other columns are numbers."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from saprot_scan import cli
from saprot_scan.encoding.structure import read_structure
from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.outputs.hgvs import hgvs_table, score_column_name
from saprot_scan.pipeline import scan_chain
from support.data import structure

ANTIBODY = structure("1igy")
LYSOZYME = structure("1aki")
HGVS = re.compile(r"^p\.\(([ACDEFGHIKLMNPQRSTVWY])(-?\d+)([ACDEFGHIKLMNPQRSTVWY])\)$")


@pytest.fixture(autouse=True)
def fresh_result_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))


def read_mutation_scores(path: Path) -> tuple[list[str], dict[tuple[int, str, str], list[float]]]:
    """The documented rules, strictly: any breach fails the test."""
    lines = [line for line in path.read_text().split("\n") if line.strip()]
    headings = [h.strip() for h in lines[0].split(",")]
    assert headings[0] == "hgvs"
    assert len(set(headings)) == len(headings), "duplicate column names"
    table = {}
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        assert len(fields) == len(headings), f"line {number}: {len(fields)} fields for {len(headings)} headings"
        match = HGVS.match(fields[0])
        assert match, f"line {number}: {fields[0]!r} is not p.(X123Y)"
        key = (int(match.group(2)), match.group(1), match.group(3))
        assert key not in table, f"line {number}: duplicated {fields[0]}"
        assert key[1] != key[2], "a substitution changes the residue"
        table[key] = [float(v) for v in fields[1:]]  # every score column numeric
    return headings, table


def test_scan_writes_a_mutation_scores_csv(tiny_onnx_model, tmp_path, capsys):
    out, plain = tmp_path / "lysozyme_scores.csv", tmp_path / "plain.csv"
    assert cli.main(["scan", str(LYSOZYME), "--model", str(tiny_onnx_model), "--csv-hgvs", str(out),
                     "--csv", str(plain)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"wrote {out} (2451 substitutions of chain A)" in captured.err
    headings, table = read_mutation_scores(out)
    assert headings == ["hgvs", "tiny_masked"]
    assert len(table) == 129 * 19
    with open(plain, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:  # author numbers (ChimeraX matches residues by number) and the same scores as the CSV
        assert table[(int(row["residue"]), row["wt"], row["mt"])] == [pytest.approx(float(row["score"]), abs=1e-6)]
    assert out.read_text().startswith("hgvs,tiny_masked\np.(K1A),")


def test_author_numbers_insertion_codes_and_one_file_per_chain(tiny_onnx_model, tmp_path, capsys):
    out = tmp_path / "igg.csv"
    assert cli.main(["scan", str(ANTIBODY), "--model", str(tiny_onnx_model), "--method", "wt", "--chain", "B",
                     "--chain", "A", "--csv-hgvs", str(out)]) == 0
    err = capsys.readouterr().err
    assert not out.exists()
    heavy, light = tmp_path / "igg_B.csv", tmp_path / "igg_A.csv"
    assert (f"wrote {heavy} (8170 substitutions of chain B; left out 4 residues with insertion codes, which the "
            "hgvs form cannot name)") in err
    assert f"wrote {light} (4047 substitutions of chain A)" in err
    headings, table = read_mutation_scores(heavy)
    assert headings == ["hgvs", "tiny_wt"]
    (chain,) = read_structure(ANTIBODY, chains=["B"])
    plain = {r.number: aa for r, aa in zip(chain.residue_ids, chain.sequence) if not r.icode}
    assert {k[0] for k in table} == set(plain)  # 52 is there, 52A is not
    assert all(plain[number] == wt for number, wt, _ in table)
    assert read_mutation_scores(light)[1]


def test_one_numeric_column_per_model_and_method(example_chain_results):
    masked, wt = example_chain_results
    table = hgvs_table([masked, wt])
    lines = table.text.splitlines()
    assert lines[0] == "hgvs,tiny_masked,tiny_wt"
    assert score_column_name(masked) == "tiny_masked" and len(lines) == 1 + 129 * 19
    first = lines[1].split(",")
    k = AMINO_ACIDS.index("A")
    assert first[0] == "p.(K1A)"
    assert float(first[1]) == pytest.approx(masked.scores[0, k], abs=1e-6)
    assert float(first[2]) == pytest.approx(wt.scores[0, k], abs=1e-6)
    # the same model and method twice still gives distinct column names
    assert hgvs_table([masked, masked]).text.splitlines()[0] == "hgvs,tiny_masked,tiny_masked_2"
    assert hgvs_table([masked, wt], names=["SaProt 35M, masked", "wt"]).text.splitlines()[0] == \
        "hgvs,SaProt_35M_masked,wt"


@pytest.fixture(scope="module")
def example_chain_results(tiny_onnx_model, tmp_path_factory):
    import os

    saved = os.environ.get("SAPROT_SCAN_CACHE")
    os.environ["SAPROT_SCAN_CACHE"] = str(tmp_path_factory.mktemp("hgvs-cache"))
    try:
        (chain,) = read_structure(LYSOZYME)
        return (scan_chain(chain, str(tiny_onnx_model), method="masked", device="cpu"),
                scan_chain(chain, str(tiny_onnx_model), method="wt", device="cpu"))
    finally:
        if saved is None:
            os.environ.pop("SAPROT_SCAN_CACHE", None)
        else:
            os.environ["SAPROT_SCAN_CACHE"] = saved


def test_hgvs_suffix_rule_of_write_results(example_chain_results, tmp_path):
    """``outputs.write_results`` writes a name ending in ``.hgvs.csv`` in this format; several chains give one
    file per chain that keeps the ending."""
    from dataclasses import replace

    from saprot_scan import write_results

    masked, _ = example_chain_results
    single = write_results([masked], tmp_path / "lysozyme.hgvs.csv")
    headings, table = read_mutation_scores(single)
    assert headings == ["hgvs", "tiny_masked"] and len(table) == 129 * 19
    other = replace(masked, chain_id="B")
    write_results([masked, other], tmp_path / "two.hgvs.csv")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("two")) == \
        ["two_A.hgvs.csv", "two_B.hgvs.csv"]
    assert read_mutation_scores(tmp_path / "two_B.hgvs.csv")[1] == table
    plain = write_results([masked], tmp_path / "plain.csv")  # a plain .csv stays the substitution table
    assert plain.read_text().startswith("chain,position,residue,wt,mt,mutant,score,percentile,class\n")

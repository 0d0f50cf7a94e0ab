"""Issue 13, item 1 through the command line: residue numbers as users type them (author numbers with insertion
codes by default, 1-based index, or a reference sequence's numbering), HGVS variants, scan --residues and the
reference_position column. Real structures from tests/data: 1IGY (antibody, Kabat numbering with insertion
codes, author numbers start at 2) and 1AKI (lysozyme) with its UniProt precursor P00698 (18-residue signal
peptide, so reference = author + 18)."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest

from saprot_scan import cli
from saprot_scan.encoding.structure import read_structure
from support.data import reference_sequence, structure

ANTIBODY = structure("1igy")
LYSOZYME = structure("1aki")
P00698 = reference_sequence("P00698")


@pytest.fixture(autouse=True)
def fresh_result_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))


def _score(capsys, *args) -> tuple[dict[str, float], str]:
    assert cli.main(["score", *map(str, args)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().split("\n")
    assert lines[0] == "mutant,score"
    pairs = [line.split(",") for line in lines[1:]]
    return {k: float(v) for k, v in pairs}, captured.err


def _error(capsys, *args) -> str:
    assert cli.main([*map(str, args)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().split("\n")
    assert len(lines) == 1 and captured.out == ""
    assert lines[0].startswith("saprot-scan: error: ") and lines[0].count("saprot-scan") == 1
    return lines[0]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_heavy_chain_numbering_is_what_the_test_relies_on():
    (chain,) = read_structure(ANTIBODY, chains=["B"])
    labels = [r.label for r in chain.residue_ids]
    assert labels[0] == "2" and labels[50:53] == ["52", "52A", "53"]
    assert chain.sequence[50:53] == "NPS"  # author 52 = N, 52A = P, 53 = S; index 51 = N, 52 = P, 53 = S


def test_author_numbers_are_the_default_and_index_is_asked_for(tiny_onnx_model, capsys):
    model = ["--model", tiny_onnx_model, "--chain", "B"]
    author, err = _score(capsys, ANTIBODY, *model, "--mutations", "N52A P52AA N52A:P52AA")
    assert "residues in author numbering" in err
    index, err = _score(capsys, ANTIBODY, *model, "--numbering", "index", "--mutations", "N51A P52A N51A:P52A")
    assert "residues in index numbering" in err
    assert list(author) == ["N52A", "P52AA", "N52A:P52AA"] and list(index) == ["N51A", "P52A", "N51A:P52A"]
    assert list(author.values()) == list(index.values())  # the same residues, named two ways
    assert len(set(author.values())) == 3


def test_hgvs_and_lower_case_forms_score_the_same(tiny_onnx_model, capsys):
    forms = ["N52A", "n52a", "p.Asn52Ala", "p.N52A", "p.(N52A)", "p.(Asn52Ala)"]
    got, _ = _score(capsys, ANTIBODY, "--model", tiny_onnx_model, "--chain", "B", "--mutations", " ".join(forms))
    assert list(got) == ["N52A"]  # every form is reported in one canonical form (a dict keeps one key)
    multi, _ = _score(capsys, ANTIBODY, "--model", tiny_onnx_model, "--chain", "B", "--mutations",
                      "N52A:S53A")
    for form in ("p.[N52A;S53A]", "p.[Asn52Ala;Ser53Ala]", "n52a:s53a", "p.[N52A; S53A]"):  # "N52A,S53A": two singles
        again, _ = _score(capsys, ANTIBODY, "--model", tiny_onnx_model, "--chain", "B", "--mutations", form)
        assert again == multi


def test_synonymous_sites_add_zero_and_are_not_masked(tiny_onnx_model, capsys):
    got, err = _score(capsys, ANTIBODY, "--model", tiny_onnx_model, "--chain", "B", "--mutations",
                      "S53S p.Ser53= N52A N52A:S53S S53A")
    assert got["S53S"] == 0.0
    assert got["N52A:S53S"] == got["N52A"]  # masking S53 would change N52A's context, and so its score
    assert got["S53A"] != 0.0
    assert "3 synonymous sites left unmasked (they add 0)" in err
    _, err = _score(capsys, ANTIBODY, "--model", tiny_onnx_model, "--chain", "B", "--mutations", "S53S N52A")
    assert "1 synonymous site left unmasked (it adds 0)" in err


def test_wrong_wild_type_names_both_letters_and_both_numberings(tiny_onnx_model, capsys):
    line = _error(capsys, "score", ANTIBODY, "--model", tiny_onnx_model, "--chain", "B", "--mutations", "P52A")
    assert line == ("saprot-scan: error: mutation P52A: residue 52 is N, not P (chain B, author numbering; "
                    "index 51); index 52 is P: use --numbering index for 1-based positions")
    line = _error(capsys, "score", ANTIBODY, "--model", tiny_onnx_model, "--chain", "B", "--numbering", "index",
                  "--mutations", "S52A")
    assert line == ("saprot-scan: error: mutation S52A: residue 52 is P, not S (chain B, index numbering; "
                    "author residue 52A)")
    line = _error(capsys, "score", ANTIBODY, "--model", tiny_onnx_model, "--chain", "B", "--mutations", "K999A")
    assert line == "saprot-scan: error: mutation K999A: chain B has no author residue 999 (author numbers 2..474)"
    line = _error(capsys, "score", ANTIBODY, "--model", tiny_onnx_model, "--chain", "A", "--mutations", "K1A")
    assert "chain A has no author residue 1 (author numbers 2..214); index 1 is K: use --numbering index" in line


def test_reference_numbering(tiny_onnx_model, capsys):
    author, _ = _score(capsys, LYSOZYME, "--model", tiny_onnx_model, "--mutations", "K1A R5G:W28F")
    reference, err = _score(capsys, LYSOZYME, "--model", tiny_onnx_model, "--reference", P00698,
                            "--mutations", "K19A p.[Arg23Gly;Trp46Phe]")
    assert list(reference) == ["K19A", "R23G:W46F"]
    assert list(reference.values()) == list(author.values())
    assert ("chain A on reference sp|P00698|LYSC_CHICK (147 residues): identity 100.0% over 129 aligned residues "
            "(100.0% over the whole chain); coverage 129 of 129 chain residues (100.0%), reference positions "
            "19..147") in err
    assert "residues in reference numbering" in err
    # author numbers still work beside a reference when asked for
    again, _ = _score(capsys, LYSOZYME, "--model", tiny_onnx_model, "--reference", P00698, "--numbering", "author",
                      "--mutations", "K1A R5G:W28F")
    assert again == author


def test_reference_errors(tiny_onnx_model, capsys, tmp_path):
    line = _error(capsys, "score", LYSOZYME, "--model", tiny_onnx_model, "--reference", P00698, "--mutations", "M1A")
    assert line == ("saprot-scan: error: mutation M1A: reference position 1 is not in the structure (chain A covers "
                    "reference 19..147, with gaps where residues are unresolved)")
    line = _error(capsys, "score", LYSOZYME, "--model", tiny_onnx_model, "--reference", P00698, "--mutations", "K1A")
    assert line.endswith("; author 1 is K: use --numbering author")
    line = _error(capsys, "score", LYSOZYME, "--model", tiny_onnx_model, "--reference", P00698, "--mutations",
                  "A19G")
    assert line == ("saprot-scan: error: mutation A19G: reference residue 19 is K, not A (chain A, reference "
                    "numbering; author residue 1, index 1)")
    line = _error(capsys, "score", LYSOZYME, "--model", tiny_onnx_model, "--numbering", "reference",
                  "--mutations", "K19A")
    assert line == "saprot-scan: error: --numbering reference needs --reference SEQ.fasta"
    missing = tmp_path / "none.fasta"
    line = _error(capsys, "score", LYSOZYME, "--model", tiny_onnx_model, "--reference", missing, "--mutations", "K1A")
    assert line == f"saprot-scan: error: {missing}: no such reference sequence file"


def test_unrelated_reference_is_refused_in_one_line(tiny_onnx_model, tmp_path):
    env = dict(os.environ, SAPROT_SCAN_THREADS="1", SAPROT_SCAN_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-m", "saprot_scan", "score", str(ANTIBODY), "--chain", "B",
                           "--model", str(tiny_onnx_model), "--reference", str(P00698), "--mutations", "N52A",
                           "--out", str(tmp_path / "out.csv")], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().split("\n")
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("saprot-scan: error: chain B does not match reference sp|P00698|LYSC_CHICK: ")
    assert lines[0].endswith("(at least 50% needed); is it the right sequence and chain?")
    assert not (tmp_path / "out.csv").exists()


def test_scan_residues_masked_equals_the_whole_scan(tiny_onnx_model, capsys):
    assert cli.main(["scan", str(LYSOZYME), "--model", str(tiny_onnx_model), "--no-cache"]) == 0
    whole = {(r["position"], r["mt"]): r for r in _rows(capsys.readouterr().out)}
    assert cli.main(["scan", str(LYSOZYME), "--model", str(tiny_onnx_model), "--residues", "40-42,100",
                     "--no-cache"]) == 0
    captured = capsys.readouterr()
    part = _rows(captured.out)
    assert "4 of 129 residues selected by --residues" in captured.err
    assert sorted({int(r["position"]) for r in part}) == [40, 41, 42, 100] and len(part) == 4 * 19
    contract = ("chain", "position", "residue", "wt", "mt", "mutant", "score")
    for row in part:  # same rows, same scores: the chain is the context
        assert {k: row[k] for k in contract} == {k: whole[(row["position"], row["mt"])][k] for k in contract}
    # the rest of the chain was not scored: the percentiles rank the selection only, and the output says so
    assert "percentiles rank among the selected residues' substitutions only" in captured.err


def test_scan_residues_with_insertion_codes(tiny_onnx_model, capsys):
    assert cli.main(["scan", str(ANTIBODY), "--chain", "B", "--model", str(tiny_onnx_model), "--method", "wt",
                     "--residues", "52A-53,82A-82C,98", "--quiet"]) == 0
    rows = _rows(capsys.readouterr().out)
    picked = list(dict.fromkeys((r["position"], r["residue"]) for r in rows))
    assert picked == [("52", "52A"), ("53", "53"), ("83", "82A"), ("84", "82B"), ("85", "82C"), ("101", "98")]
    assert cli.main(["scan", str(ANTIBODY), "--chain", "B", "--model", str(tiny_onnx_model), "--method", "wt",
                     "--residues", "52-53", "--quiet"]) == 0
    assert [r for r in dict.fromkeys(r["residue"] for r in _rows(capsys.readouterr().out))] == ["52", "52A", "53"]
    line = _error(capsys, "scan", ANTIBODY, "--chain", "B", "--model", tiny_onnx_model, "--residues", "99")
    assert line == "saprot-scan: error: --residues 99: chain B has no author residue 99 (author numbers 2..474)"
    line = _error(capsys, "scan", ANTIBODY, "--chain", "B", "--model", tiny_onnx_model, "--residues", "600-700")
    assert line == ("saprot-scan: error: --residues 600-700: no residue of chain B in that range (author numbering; "
                    "author numbers 2..474)")


def test_scan_reference_column_and_reference_selection(tiny_onnx_model, tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert cli.main(["scan", str(LYSOZYME), "--model", str(tiny_onnx_model), "--method", "wt",
                     "--reference", str(P00698), "--residues", "19-21,147", "--csv", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "identity 100.0% over 129 aligned residues" in captured.err
    header = out.read_text().splitlines()[0]
    assert header == "chain,position,residue,wt,mt,mutant,score,percentile,class,reference_position"
    rows = _rows(out.read_text())
    assert sorted({(int(r["residue"]), int(r["reference_position"])) for r in rows}) == \
        [(1, 19), (2, 20), (3, 21), (129, 147)]
    for row in rows:
        assert int(row["reference_position"]) == int(row["position"]) + 18
    # without --reference the CSV keeps DESIGN.md's columns exactly
    assert cli.main(["scan", str(LYSOZYME), "--model", str(tiny_onnx_model), "--method", "wt", "--csv", str(out),
                     "--quiet"]) == 0
    assert out.read_text().splitlines()[0] == "chain,position,residue,wt,mt,mutant,score,percentile,class"


def test_structure_scorer_reads_the_same_notation_and_selection(capsys):
    """The built-in structure scorer (no model file) goes through the same numbering; its scan of selected
    residues is the whole scan cut down (it standardises over the whole chain)."""
    from saprot_scan.backends.structure import STRUCTURE_SCORER_NAME

    forms, _ = _score(capsys, ANTIBODY, "--model", STRUCTURE_SCORER_NAME, "--chain", "B", "--mutations",
                      "N52A p.(Asn52Ala) P52AA")
    index, _ = _score(capsys, ANTIBODY, "--model", STRUCTURE_SCORER_NAME, "--chain", "B", "--numbering", "index",
                      "--mutations", "N51A P52A")
    assert list(forms) == ["N52A", "P52AA"] and list(forms.values()) == list(index.values())
    assert cli.main(["scan", str(LYSOZYME), "--model", STRUCTURE_SCORER_NAME, "--quiet"]) == 0
    whole = {(r["position"], r["mt"]): r for r in _rows(capsys.readouterr().out)}
    assert cli.main(["scan", str(LYSOZYME), "--model", STRUCTURE_SCORER_NAME, "--residues", "40-42", "--quiet"]) == 0
    part = _rows(capsys.readouterr().out)
    assert len(part) == 3 * 19 and all(row == whole[(row["position"], row["mt"])] for row in part)

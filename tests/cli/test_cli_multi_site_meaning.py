"""Issue 24, items 3 and 7, through the real CLI: a synonymous site and a multi-site score say what they are on
each scale (no 0.000000 for the wild type on a z-scale, no sum of z-scores presented as a gain), and the numbering
of every suggest output is named (the CSV's mutant_author is the terminal's mutant), and a wrongly numbered
label file gets the hint score gives."""
from __future__ import annotations

import csv
import io

import pytest

from saprot_scan.encoding.structure import read_structure
from test_core_bad_input import assert_one_line_error, run_cli


def _score(structure, model, mutations, cwd):
    proc = run_cli("score", structure, "--model", model, "--mutations", mutations, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return dict(line.split(",") for line in proc.stdout.splitlines()[1:]), proc.stderr


def test_a_synonymous_site_on_a_z_scale_has_no_score_and_sums_are_no_gain(example_structure, tmp_path):
    scores, err = _score(example_structure, "burial-blosum", "K1K K1R:V2I K1R", tmp_path)
    assert scores["K1K"] == ""  # the wild type is not on a per-chain z-scale: no number, not 0.000000
    assert "no score: the wild type is not on this scale" in err
    assert "the sum of the sites' z-scores" in err and "no predicted gain" in err
    assert "compare variants with the same number of sites only" in err


def test_a_synonymous_site_on_saprots_scale_is_exactly_0(example_structure, tiny_onnx_model, tmp_path):
    scores, err = _score(example_structure, tiny_onnx_model, "K1K K1R", tmp_path)
    assert scores["K1K"] == "0.000000" and "0: it is the wild type" in err
    assert "compare variants with the same number" not in err  # a sum of log-ratios is a log-ratio


def test_suggest_names_its_numberings_and_ranks_z_combinations_per_site(test_data, tmp_path):
    structure = test_data / "foldseek_3di" / "3o5r.cif"  # author numbers 13-140: index and author differ
    proc = run_cli("suggest", structure, "--model", "burial-blosum", "--top", "8", "--csv", tmp_path / "s.csv",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "s.csv").read_text())))
    chain = read_structure(structure)[0]
    singles = [r for r in rows if r["kind"] == "single"]
    table = proc.stdout.splitlines()
    shown = [line.split()[3] for line in table if line[:4].strip().isdigit()][:len(singles)]
    assert [r["mutant_author"] for r in singles] == shown  # the terminal's numbering
    for r in singles:
        index = int(r["mutant"][1:-1]) - 1
        assert r["mutant_author"] == f"{r['mutant'][0]}{chain.residue_ids[index].label}{r['mutant'][-1]}"
    assert "mutant_author" in table[0] and "chain-index numbering" in table[0]
    combos = [r for r in rows if r["kind"] == "combination"]
    assert combos
    per_site = [float(r["per_site"]) for r in combos]
    assert per_site == sorted(per_site, reverse=True)  # z sums grow with the sites: ranked per site
    for r in combos:
        assert float(r["per_site"]) == pytest.approx(float(r["score"]) / len(r["mutant"].split(":")), abs=2e-6)
    assert "per site" in proc.stdout and "not a predicted gain over the wild type" in proc.stdout


def test_fit_says_when_labels_read_in_the_other_numbering(test_data, tmp_path):
    structure = test_data / "foldseek_3di" / "3o5r.cif"
    chain = read_structure(structure)[0]
    rows = [f"{aa}{rid.label}A,{-0.1 * k:.2f}" for k, (aa, rid) in enumerate(zip(chain.sequence, chain.residue_ids))
            if aa != "A"][:30]
    labels = tmp_path / "author.csv"
    labels.write_text("mutant,score\n" + "\n".join(rows) + "\n")
    proc = run_cli("fit", structure, "--model", "burial-blosum", "--labels", labels, cwd=tmp_path)
    assert_one_line_error(proc, "it reads correctly in author numbering: --numbering author")
    proc = run_cli("fit", structure, "--model", "burial-blosum", "--labels", labels, "--numbering", "author",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    index_form = f"{chain.sequence[-1]}{len(chain)}A"  # the last residue: index 128, author 140
    proc = run_cli("fit", structure, "--model", "burial-blosum", "--labels", labels, "--numbering", "author",
                   "--predict", index_form, "--predictions", tmp_path / "p.csv", cwd=tmp_path)
    assert_one_line_error(proc, "it reads correctly in index numbering: --numbering index")

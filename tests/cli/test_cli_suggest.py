"""Issue 14, item 3: `saprot-scan suggest`: the best single substitutions under the filters (score > 0,
no P/G/C unless asked, at most K per residue, away from an avoided set and its surroundings) and
combinations of spatially separated suggestions scored together as multi-mutants.

Everything is checked against numbers computed here independently: the `scan` CSV of the same tiny
real model, the structure's own coordinates, and the `score` command for the joint scores.
"""
from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest

from saprot_scan import cli
from saprot_scan.errors import InputError
from saprot_scan.design.suggest import near_residues, parse_residue_set
from saprot_scan.encoding.structure import ResidueId, read_structure
from test_core_bad_input import assert_one_line_error, run_cli


@pytest.fixture(autouse=True)
def fresh_result_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _min_atom_distance(chain_a, i, chains_b, picked):
    mine = chain_a.coords[i][np.all(np.isfinite(chain_a.coords[i]), axis=1)]
    best = np.inf
    for chain in chains_b:
        for j, rid in enumerate(chain.residue_ids):
            if rid in picked:
                theirs = chain.coords[j][np.all(np.isfinite(chain.coords[j]), axis=1)]
                for a in mine:
                    for b in theirs:
                        best = min(best, float(np.sqrt(((a - b) ** 2).sum())))
    return best


def test_residue_sets(test_data):
    chains = read_structure(test_data / "foldseek_3di" / "1igy.cif")
    a = next(c for c in chains if c.chain_id == "A")
    picked = parse_residue_set("A:10-12, B:5", chains)
    assert {r for r in picked if r.chain == "A"} == {ResidueId("A", 10), ResidueId("A", 11), ResidueId("A", 12)}
    assert {r for r in picked if r.chain == "B"} == {next(r for r in chains[1].residue_ids if r.number == 5)}
    with pytest.raises(InputError, match="write e.g. A:10"):
        parse_residue_set("10", chains)
    with pytest.raises(InputError, match="no protein chain Z"):
        parse_residue_set("Z:10", chains)
    with pytest.raises(InputError, match="chain A has no residue 9999"):
        parse_residue_set("A:9999", chains)
    with pytest.raises(InputError, match="expected a residue number"):
        parse_residue_set("A:ten", chains)
    assert parse_residue_set("10", [a]) == {ResidueId("A", 10)}


def test_near_residues_match_the_coordinates(test_data):
    chains = read_structure(test_data / "foldseek_3di" / "1igy.cif")
    a = chains[0]
    picked = parse_residue_set("B:20-22", chains)
    mask = near_residues(a, picked, chains, 6.0)
    for i in range(len(a)):
        assert bool(mask[i]) == (_min_atom_distance(a, i, chains, picked) <= 6.0), a.residue_ids[i]
    assert not near_residues(a, picked, chains, 0.0).any()  # the set itself is in chain B


def test_suggest_matches_the_scan(example_structure, tiny_onnx_model, tmp_path, capsys):
    """Top singles = the best-scoring substitutions of `scan`, filtered as documented; combinations are
    separated by more than 8 Å CA-CA and carry the `score` command's multi-mutant score."""
    model = str(tiny_onnx_model)
    assert cli.main(["scan", str(example_structure), "--model", model, "--quiet", "--csv", str(tmp_path / "s.csv")]) == 0
    assert cli.main(["suggest", str(example_structure), "--model", model, "--quiet", "--top", "12",
                     "--avoid", "35,52", "--avoid-radius", "6", "--csv", str(tmp_path / "sg.csv")]) == 0
    table = capsys.readouterr().out
    assert "scored together as multi-mutants (all sites masked in one pass: SaProt's multi-site rule)" in table
    (chain,) = read_structure(example_structure)
    picked = {ResidueId("A", 35), ResidueId("A", 52)}
    blocked = {i for i in range(len(chain)) if _min_atom_distance(chain, i, [chain], picked) <= 6.0}
    assert {34, 51} <= blocked
    best_per_position = {}
    for row in _rows(tmp_path / "s.csv"):
        i, score = int(row["position"]) - 1, float(row["score"])
        if row["mt"] in "PGC" or score <= 0 or i in blocked:
            continue
        if i not in best_per_position or score > best_per_position[i][1]:
            best_per_position[i] = (row["mutant"], score)
    want = sorted(best_per_position.values(), key=lambda p: -p[1])[:12]
    rows = _rows(tmp_path / "sg.csv")
    singles = [r for r in rows if r["kind"] == "single"]
    assert [r["mutant"] for r in singles] == [m for m, _ in want]
    assert [float(r["score"]) for r in singles] == pytest.approx([s for _, s in want], abs=1e-6)
    combos = [r for r in rows if r["kind"] == "combination"]
    assert 1 <= len(combos) <= 5
    single_score = {r["mutant"]: float(r["score"]) for r in singles}
    for combo in combos:
        parts = combo["mutant"].split(":")
        assert 2 <= len(parts) <= 3 and all(p in single_score for p in parts)
        for p, q in itertools.combinations(parts, 2):
            i, j = int(p[1:-1]) - 1, int(q[1:-1]) - 1
            assert np.linalg.norm(chain.coords[i, 1] - chain.coords[j, 1]) > 8.0
        assert float(combo["sum_of_singles"]) == pytest.approx(sum(single_score[p] for p in parts), abs=1e-5)
    assert [float(c["score"]) for c in combos] == sorted((float(c["score"]) for c in combos), reverse=True)
    first = combos[0]["mutant"]
    assert cli.main(["score", str(example_structure), "--model", model, "--quiet", "--mutations", first]) == 0
    joint = float(capsys.readouterr().out.strip().split("\n")[1].split(",")[1])
    assert float(combos[0]["score"]) == pytest.approx(joint, abs=1e-5)


def test_allow_and_per_position(example_structure, tiny_onnx_model, tmp_path, capsys):
    model = str(tiny_onnx_model)
    assert cli.main(["suggest", str(example_structure), "--model", model, "--quiet", "--top", "300",
                     "--per-position", "3", "--allow", "PG", "--combinations", "0",
                     "--csv", str(tmp_path / "sg.csv")]) == 0
    rows = _rows(tmp_path / "sg.csv")
    assert rows and all(r["kind"] == "single" for r in rows)
    assert all(float(r["score"]) > 0 and r["mutant"][-1] != "C" for r in rows)
    counts = {}
    for r in rows:
        counts[r["residues"]] = counts.get(r["residues"], 0) + 1
    assert max(counts.values()) <= 3 and 3 in counts.values()
    assert any(r["mutant"][-1] in "PG" for r in rows)  # allowed, and the random model likes some
    assert "combinations" not in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    (["--avoid", "Z:5"], "no protein chain Z"),
    (["--avoid", "A:999"], "chain A has no residue 999"),
    (["--allow", "W"], "--allow takes letters among PGC"),
    (["--top", "0"], "--top and --per-position must be at least 1"),
])
def test_bad_suggest_options(args, message, example_structure, tiny_onnx_model, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    proc = run_cli("suggest", example_structure, "--model", tiny_onnx_model, *args, "--csv", "x.csv", cwd=work)
    assert_one_line_error(proc, message)
    assert list(work.iterdir()) == []


# ---------------------------------------------------------------------------------------------- issue 19, item 1

def test_suggest_with_a_scorer_whose_0_is_not_the_wild_type_claims_no_gain(example_structure, capsys):
    """burial-blosum's 0 is the chain's typical substitution: the list is 'most tolerated', the joint scores
    are said to be sums of z units, and nothing is called better than the wild type."""
    assert cli.main(["suggest", str(example_structure), "--model", "burial-blosum", "--top", "5", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# top 5 most tolerated single substitutions")
    assert "not the wild type" in out and "not a predicted gain over the wild type" in out
    assert "better than the wild type" not in out.replace("none is claimed better than the wild type", "")


def test_suggest_with_saprot_says_better_than_the_wild_type(example_structure, tiny_onnx_model, capsys):
    assert cli.main(["suggest", str(example_structure), "--model", str(tiny_onnx_model), "--top", "3",
                     "--combinations", "0", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "predicted better than the wild type" in out and "most tolerated" not in out


def test_method_wt_is_refused_for_a_scorer_without_a_language_model(example_structure, tmp_path):
    for command in (["scan", "--csv-hgvs", str(tmp_path / "h.csv")], ["suggest"]):
        proc = run_cli(command[0], example_structure, "--model", "burial-blosum", "--method", "wt", *command[1:],
                       cwd=tmp_path)
        assert_one_line_error(proc, "--method wt needs a language model; burial-blosum")
    assert not (tmp_path / "h.csv").exists()

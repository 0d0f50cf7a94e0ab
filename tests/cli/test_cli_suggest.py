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


def _heavy_atoms(path) -> dict[ResidueId, np.ndarray]:
    """Every heavy atom of every amino-acid residue, read with gemmi (independently of the core's reader)."""
    import gemmi

    st = gemmi.read_structure(str(path))
    st.remove_hydrogens()
    out = {}
    for ch in st[0]:
        for res in ch:
            if gemmi.find_tabulated_residue(res.name) is not None and res.find_atom("CA", "*") is not None:
                key = ResidueId(ch.name, res.seqid.num, res.seqid.icode.strip())
                out[key] = np.array([a.pos.tolist() for a in res], dtype=float)
    return out


def _min_atom_distance(atoms, me: ResidueId, picked) -> float:
    """Smallest distance between any atom of ``me`` and any atom of the residues in ``picked``."""
    theirs = np.concatenate([atoms[r] for r in picked if r in atoms])
    return float(np.min(np.linalg.norm(atoms[me][:, None, :] - theirs[None, :, :], axis=-1)))


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
    atoms = _heavy_atoms(test_data / "foldseek_3di" / "1igy.cif")
    for i, rid in enumerate(a.residue_ids):
        assert bool(mask[i]) == (_min_atom_distance(atoms, rid, picked) <= 6.0), rid
    assert not near_residues(a, picked, chains, 0.0).any()  # the set itself is in chain B


def test_avoid_measures_side_chains_across_chains(test_data, tmp_path, capsys):
    """Issue 24, item 4: ``--avoid`` a partner chain with a radius keeps away every residue with ANY atom (side
    chains included, as the README says) within the radius of it, measured here with gemmi."""
    path = test_data / "foldseek_3di" / "1igy.cif"
    atoms = _heavy_atoms(path)
    partner = {r for r in atoms if r.chain == "B"}
    light = [r for r in atoms if r.chain == "A"]
    near = {r for r in light if _min_atom_distance(atoms, r, partner) <= 6.0}
    backbone_only = read_structure(path, chains=["A", "B"])
    (a, b) = backbone_only
    by_backbone = sum(_min_backbone(a, i, b) <= 6.0 for i in range(len(a)))
    assert len(near) > by_backbone  # side chains reach further: the old rule missed some
    assert cli.main(["suggest", str(path), "--chain", "A", "--avoid", "B:2-474", "--avoid-radius", "6",
                     "--top", "300", "--per-position", "1", "--combinations", "0",
                     "--csv", str(tmp_path / "sg.csv")]) == 0
    err = capsys.readouterr().err
    assert f"avoiding {len(near)} residues" in err
    suggested = {r["residues"] for r in _rows(tmp_path / "sg.csv")}
    assert suggested and not any(f"A:{r.label}" in suggested for r in near)


def _min_backbone(a, i, b) -> float:
    mine = a.coords[i][np.isfinite(a.coords[i]).all(axis=1)]
    theirs = b.coords.reshape(-1, 3)
    theirs = theirs[np.isfinite(theirs).all(axis=1)]
    return float(np.min(np.linalg.norm(mine[:, None] - theirs[None], axis=-1)))


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
    atoms = _heavy_atoms(example_structure)
    blocked = {i for i, rid in enumerate(chain.residue_ids) if _min_atom_distance(atoms, rid, picked) <= 6.0}
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

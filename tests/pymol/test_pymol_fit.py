"""Issue 14, items 1, 3 and 4 in real headless PyMOL: colouring by a fitted model (`saprot_scan ..., fitted=F`)
gives the core's fitted numbers; `saprot_suggest` gives the core's suggestions, labelled and selected."""
from __future__ import annotations

import numpy as np
import pytest

from test_pymol_plugin import atom_state, ca_values, cmd, core_result, pm, structure  # noqa: F401

from saprot_scan import apply_fitted, cli, load_fitted


@pytest.fixture(scope="module")
def fitted_file(test_data, tiny_onnx_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("pymol-fit")
    path = structure(test_data, "1aki")
    zs = core_result(path, tiny_onnx_model)
    rng = np.random.default_rng(1)
    rows = []
    for i, j in zip(rng.integers(0, len(zs), 80), rng.integers(0, 20, 80)):
        wt = zs.wt[i]
        mt = "ACDEFGHIKLMNPQRSTVWY"[j]
        if mt != wt:
            rows.append(f"{wt}{i + 1}{mt},{zs.scores[i, j] + (2.0 if i % 3 == 0 else 0.0):.5f}")
    rows.append("WT,0.0")  # the measured wild type: fitted scores are relative to it (issue 24)
    (out / "labels.csv").write_text("mutant,score\n" + "\n".join(rows) + "\n")
    assert cli.main(["fit", path, "--model", str(tiny_onnx_model), "--quiet", "--labels", str(out / "labels.csv"),
                     "--save", str(out / "fit.json"), "--csv", str(out / "fit.csv")]) == 0
    return out / "fit.json"


def test_pymol_colours_by_the_fitted_model(pm, test_data, tiny_onnx_model, fitted_file):
    path = structure(test_data, "1aki")
    cmd.load(path)
    cmd.do(f"saprot_scan 1aki, fitted={fitted_file}")
    expected = apply_fitted(core_result(path, tiny_onnx_model), load_fitted(fitted_file))
    values = ca_values("1aki")
    labels = [rid.label for rid in expected.residue_ids]
    got = np.array([values[label] for label in labels])
    np.testing.assert_allclose(got, expected.summary("mean"), rtol=0, atol=1e-6)
    zero_shot = core_result(path, tiny_onnx_model).summary("mean")
    assert np.max(np.abs(got - zero_shot)) > 1e-3  # the fitted numbers, not the zero-shot ones


def test_pymol_refuses_a_fitted_model_of_another_sequence(pm, test_data, fitted_file, capfd):
    cmd.load(structure(test_data, "1igy"))
    cmd.do("select one, 1igy and chain A")
    before = atom_state()
    capfd.readouterr()
    cmd.do(f"saprot_scan one, fitted={fitted_file}")
    out = capfd.readouterr().out
    assert "another sequence" in out
    assert atom_state() == before


def test_pymol_suggest_lists_labels_and_avoids(pm, test_data, tiny_onnx_model):
    """saprot_suggest gives the core's suggestions for the scored chain, away from the avoided residues."""
    from pymol import stored

    from saprot_scan import ResidueId, near_residues, read_structure, suggest_singles

    path = structure(test_data, "1aki")
    cmd.load(path)
    cmd.do("saprot_scan 1aki")
    from saprot_scan_pymol.commands import saprot_suggest

    got = saprot_suggest("resi 35+52", 6, 8)
    (chain,) = read_structure(path)
    excluded = near_residues(chain, {ResidueId("A", 35), ResidueId("A", 52)}, [chain], 6.0)
    want = suggest_singles([core_result(path, tiny_onnx_model)], {"A": excluded}, top=8)
    assert [(m, round(v, 6)) for _, m, v in got] == [(s.author, round(s.score, 6)) for s in want]
    assert cmd.count_atoms("saprot_suggested and name CA") == len({s.index for s in want})
    stored.labels = {}
    cmd.iterate("saprot_suggested and name CA", "stored.labels[resi] = label")
    assert {s.residue.label: s.author for s in want}.items() <= stored.labels.items()
    assert not any(excluded[s.index] for s in want)


def test_pymol_suggest_in_a_separate_instance(pm, test_data, tiny_onnx_model):
    """saprot_suggest works on the PyMOL instance it is given (_self) and leaves the global one alone."""
    import pymol2

    from saprot_scan_pymol.commands import saprot_scan, saprot_suggest

    path = structure(test_data, "1aki")
    instance = pymol2.PyMOL()
    instance.start()
    try:
        instance.cmd.load(path, "lyso")
        saprot_scan("lyso", background=0, _self=instance.cmd)
        got = saprot_suggest("resi 35", 5, 5, _self=instance.cmd)
        assert got and cmd.get_names("all") == []
        assert "saprot_suggested" in instance.cmd.get_names("selections")
        labelled = []
        instance.cmd.iterate("saprot_suggested and name CA", "labelled.append(label)", space={"labelled": labelled})
        assert all(labelled)
    finally:
        instance.stop()


def test_right_click_suggest_mutations(pm, test_data, tiny_onnx_model):
    """Object menu: "suggest mutations" runs saprot_suggest over the scored chains; selection menus: away
    from that selection. The entries sit after "score mutations"; PyMOL's own entries stay first."""
    from pymol import menu

    import saprot_scan_pymol
    from saprot_scan_pymol.menus import LABEL, SUGGEST_LABEL
    from saprot_scan_pymol.commands import saprot_suggest

    saprot_scan_pymol.__init_plugin__()
    cmd.load(structure(test_data, "1aki"), "lyso")
    cmd.select("site", "lyso and resi 35+52")
    for name, sele, command in (("mol_action", "lyso", "saprot_suggest"),
                                ("sele_action", "site", "saprot_suggest site"),
                                ("sele_action2", "site", "saprot_suggest site")):
        wrapped = getattr(menu, name)
        ours, theirs = wrapped(cmd, sele), wrapped._saprot_scan_original(cmd, sele)
        assert [i[1] for i in ours[:len(theirs)]] == [i[1] for i in theirs], name
        labels = [i[1] for i in ours[len(theirs):]]
        assert labels == ["", LABEL, SUGGEST_LABEL], name
        assert ours[-1] == [1, SUGGEST_LABEL, command], name
    cmd.do("saprot_scan lyso")
    cmd.do("saprot_suggest site")  # what the selection menus' entry runs
    by_menu = {}
    cmd.iterate("saprot_suggested and name CA", "by_menu[resi] = label", space={"by_menu": by_menu})
    got = saprot_suggest("site")  # the same defaults, called directly
    assert got and "35" not in by_menu and "52" not in by_menu
    assert {m[1:-1] for _, m, _ in got} == set(by_menu)
    for _, mutant, _ in got:
        assert mutant in by_menu[mutant[1:-1]].split()


# ---------------------------------------------------------------------------------------------- issue 19

def test_pymol_fitted_scan_names_its_unit_selects_unmeasured_residues_and_stores_percentiles(
        pm, test_data, tiny_onnx_model, fitted_file, capfd):
    import pymol

    path = structure(test_data, "1aki")
    cmd.load(path)
    capfd.readouterr()
    cmd.do(f"saprot_scan 1aki, fitted={fitted_file}")
    out = capfd.readouterr().out
    expected = apply_fitted(core_result(path, tiny_onnx_model), load_fitted(fitted_file))
    unmeasured = [rid.label for rid, flag in zip(expected.residue_ids, expected.measured) if not flag]
    assert unmeasured and "predicted assay value minus the wild type's" in out
    assert f"{len(unmeasured)} residues had no assay label (selection saprot_unmeasured)" in out
    assert cmd.count_atoms("saprot_unmeasured and name CA") == len(unmeasured)
    assert "classes: bottom quarter = the 25% of the chain's substitutions scored least tolerated" in out
    assert "burial-blosum" in out  # the measured figures
    rows = {}
    cmd.iterate("1aki and name CA", "rows[resi] = saprot_percentile(model, chain, resi)",
                space={"rows": rows, "saprot_percentile": pymol.saprot_percentile})
    want = expected.percentile_summary("mean")
    np.testing.assert_allclose([rows[rid.label] for rid in expected.residue_ids], want, atol=1e-9)
    cmd.do(f"saprot_mutations 1aki and resi {unmeasured[0]}")
    out = capfd.readouterr().out
    assert "no assay label at this site" in out and "log P(mt)" not in out
    assert any(kind in out for kind in ("bottom quarter", "middle half", "top quarter"))


def test_pymol_mutations_of_the_structure_scorer_say_its_own_units(pm, test_data, capfd, monkeypatch):
    monkeypatch.setenv("SAPROT_SCAN_MODEL", "burial-blosum")
    cmd.load(structure(test_data, "1aki"))
    cmd.do("saprot_scan 1aki")
    capfd.readouterr()
    cmd.do("saprot_mutations 1aki and resi 48")
    out = capfd.readouterr().out
    assert "structure score (z units" in out and "not a comparison with the wild type" in out
    assert "log P(mt)" not in out and "percentile within the chain" in out
    cmd.do("saprot_suggest")
    out = capfd.readouterr().out
    assert "most tolerated" in out and "predicted better than the wild type" not in out


# ---------------------------------------------------------------------------------------------- issue 24

def test_pymol_suggest_by_a_fit_without_a_measured_wild_type_claims_nothing_about_it(
        pm, test_data, tiny_onnx_model, fitted_file, tmp_path, capfd):
    """Labels without a wild-type row: fitted scores are relative to the average measured variant, and
    saprot_suggest never calls them better than the wild type (item 2)."""
    labels = fitted_file.parent / "labels.csv"
    rows = [line for line in labels.read_text().splitlines() if line != "WT,0.0"]
    (tmp_path / "no-wt.csv").write_text("\n".join(rows) + "\n")
    path = structure(test_data, "1aki")
    assert cli.main(["fit", path, "--model", str(tiny_onnx_model), "--quiet", "--labels", str(tmp_path / "no-wt.csv"),
                     "--save", str(tmp_path / "no-wt.json")]) == 0
    cmd.load(path)
    cmd.do(f"saprot_scan 1aki, fitted={tmp_path / 'no-wt.json'}")
    capfd.readouterr()
    cmd.do("saprot_suggest")
    out = capfd.readouterr().out
    assert "average measured variant" in out
    assert "better than the wild type" not in out.replace("none is claimed better than the wild type", "")

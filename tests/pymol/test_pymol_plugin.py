"""The PyMOL plugin in real headless PyMOL (pymol-open-source): menus, commands, colours, outputs.

PyMOL's cmd is one process-wide object, so every test starts from a reinitialised PyMOL and an
empty plugin store. Scores are checked against the core run on the same structure file.
"""
from __future__ import annotations

import csv
import io
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pymol = pytest.importorskip("pymol", reason="pymol-open-source is not installed")

REPO = Path(__file__).resolve().parents[2]
try:
    import saprot_scan_pymol
except ImportError:  # not pip-installed: use the checkout
    sys.path.insert(0, str(REPO / "plugin_pymol"))
    import saprot_scan_pymol

from pymol import cmd, menu  # noqa: E402
from saprot_scan.viewers import MODEL_POOL  # noqa: E402
from saprot_scan_pymol import painting, scanning  # noqa: E402
from saprot_scan_pymol.commands import saprot_scan  # noqa: E402
from saprot_scan_pymol.jobs import RUNNER  # noqa: E402
from saprot_scan_pymol.menus import LABEL  # noqa: E402
from saprot_scan_pymol.palettes import colour_for, colour_scale, pymol_colour, symmetric_limit  # noqa: E402
from saprot_scan_pymol.store import STORE  # noqa: E402

ARTIFACTS = REPO / "tests" / "artifacts"


def _reset() -> None:
    RUNNER.wait(120)
    cmd.reinitialize()
    STORE.clear()
    MODEL_POOL.clear()
    RUNNER.last_outcome = ""


@pytest.fixture
def pm(monkeypatch, tiny_onnx_model, test_data):
    """A clean PyMOL with the plugin loaded and the tiny test model as the default model."""
    monkeypatch.setenv("SAPROT_SCAN_MODEL", str(tiny_onnx_model))
    saprot_scan_pymol.__init_plugin__()
    _reset()
    yield cmd
    _reset()


def structure(test_data: Path, name: str) -> str:
    return str(test_data / "foldseek_3di" / f"{name}.cif")


def atom_state(selection: str = "all") -> dict:
    rows = {}
    cmd.iterate(selection, "rows[(model, index)] = (color, b)", space={"rows": rows})
    return rows


def ca_values(obj: str) -> dict[str, float | None]:
    rows = {}
    cmd.iterate(f"%{obj} and polymer.protein and name CA",
                "rows[resi] = saprot_score(model, chain, resi)", space={"rows": rows,
                                                                        "saprot_score": pymol.saprot_score})
    return rows


def core_result(path: str, model_path: Path, method: str = "masked", chain: str = "A"):
    """The core's own scan of the file (no result cache), for comparison."""
    from saprot_scan.pipeline import scan_chain
    from saprot_scan.backends.onnx import load_model
    from saprot_scan.encoding.structure import read_structure

    (wanted,) = read_structure(path, chains=[chain])
    return scan_chain(wanted, model=load_model(str(model_path), device="cpu"), method=method,
                      use_cache=False)


def find_entry(items: list, label: str):
    return [item for item in items if len(item) > 1 and item[1] == label]


def submenu(items: list, label: str) -> list:
    (item,) = find_entry(items, label)
    return item[2]


# --- 1. right-click entries -------------------------------------------------------------------

def test_menus_gain_one_entry_and_keep_pymols_own(pm, test_data):
    cmd.load(structure(test_data, "1l2y"))
    cmd.select("mysel", "1l2y and resi 3-5")
    saprot_scan_pymol.__init_plugin__()  # loading twice adds nothing twice
    for name, args in (("mol_action", ("1l2y",)), ("sele_action", ("mysel",)), ("sele_action2", ("mysel",))):
        wrapped = getattr(menu, name)
        original = wrapped._saprot_scan_original
        assert not hasattr(original, "_saprot_scan_original"), f"{name} wrapped twice"
        ours, theirs = wrapped(cmd, *args), original(cmd, *args)
        assert [i[1] for i in ours[:len(theirs)]] == [i[1] for i in theirs], name
        (entry,) = find_entry(ours, LABEL)
        assert entry == [1, LABEL, f"saprot_scan {args[0]}"]

    pick = menu.pick_menu(cmd, "/1l2y//A/TRP`6/CA", "(1l2y and resi 6 and name CA)")
    assert find_entry(submenu(pick, "residue"), LABEL)[0][2] == "saprot_scan (byres ((1l2y and resi 6 and name CA)))"
    assert find_entry(submenu(pick, "chain"), LABEL)[0][2] == "saprot_scan (bychain ((1l2y and resi 6 and name CA)))"
    assert find_entry(submenu(pick, "object"), LABEL)[0][2] == "saprot_scan 1l2y"
    assert not find_entry(submenu(pick, "atom"), LABEL)
    assert len(find_entry(submenu(pick, "residue"), "color")) == 1  # PyMOL's entries are still there
    seq = menu.seq_option(cmd, "/1l2y//A/6", "/1l2y/A/A/TRP`6/")
    assert find_entry(seq, LABEL)[0][2] == "saprot_scan /1l2y//A/6"


def test_object_menu_entry_scores_like_the_core(pm, test_data, tiny_onnx_model):
    path = structure(test_data, "1aki")
    cmd.load(path)
    before = atom_state()
    (entry,) = find_entry(menu.mol_action(cmd, "1aki"), LABEL)
    cmd.do(entry[2])  # exactly what PyMOL runs when the entry is clicked

    expected = core_result(path, tiny_onnx_model)
    values = ca_values("1aki")
    labels = [rid.label for rid in expected.residue_ids]
    assert sorted(values) == sorted(labels)
    got = np.array([values[label] for label in labels])
    np.testing.assert_allclose(got, expected.summary("mean"), rtol=0, atol=1e-6)

    # the chain PyMOL handed over is the chain the core reads from the file
    from saprot_scan_pymol.atoms import ChainKey, read_chain
    from saprot_scan.encoding.structure import read_structure

    viewer_chain, file_chain = read_chain(ChainKey("1aki", "A")), read_structure(path)[0]
    assert viewer_chain.sequence == file_chain.sequence
    assert viewer_chain.residue_ids == file_chain.residue_ids
    np.testing.assert_allclose(viewer_chain.coords, file_chain.coords, atol=1e-3, equal_nan=True)

    after = atom_state()
    assert [b for _, b in after.values()] == [b for _, b in before.values()], "b-factors changed"
    scale = colour_scale(got, "mean")
    assert scale.high == symmetric_limit(got) == -scale.low and scale.centre == 0.0
    colours = {}
    cmd.iterate("1aki and name CA", "colours[resi] = color", space={"colours": colours})
    for label, value in values.items():
        assert colours[label] == pymol_colour(colour_for(value, scale, "red_white_blue"))
    assert painting.KEY_NAME in cmd.get_names("objects")  # the colour key
    assert cmd.get_type(painting.KEY_NAME) == "object:ramp"
    changed = sum(after[k][0] != before[k][0] for k in before)
    assert changed > 0.9 * cmd.count_atoms("1aki and polymer.protein")

    from pymol import stored

    cmd.iterate("1aki and resi 1 and name CA", "stored.v = saprot_score(model, chain, resi)")
    assert stored.v == values["1"]  # readable in plain iterate expressions
    if painting._PROPERTY_SUPPORT:  # Incentive PyMOL: the number is also an atom property
        props = {}
        cmd.iterate("1aki and name CA", "props[resi] = p.saprot_score", space={"props": props})
        assert props == pytest.approx(values)

    cmd.do("saprot_restore")
    assert atom_state() == before


def test_residue_pick_scores_chain_and_lists_its_19_substitutions(pm, test_data, tiny_onnx_model, capfd):
    path = structure(test_data, "1aki")
    cmd.load(path)
    pick = menu.pick_menu(cmd, "pick", "(1aki and resi 35 and name CA)")
    (entry,) = find_entry(submenu(pick, "residue"), LABEL)
    capfd.readouterr()
    cmd.do(entry[2])
    out = capfd.readouterr().out
    expected = core_result(path, tiny_onnx_model)
    i = expected.index_of("35")
    subs = expected.substitutions(i)
    wt = expected.wt[i]
    assert "19 substitutions" in out
    listed = [line.split() for line in out.splitlines() if line.strip().startswith(f"{wt}35")]
    assert [row[0] for row in listed] == [f"{wt}35{mt}" for mt, _ in subs]
    assert [float(row[1]) for row in listed] == pytest.approx([v for _, v in subs], abs=6e-4)
    assert f"best {wt}35{subs[0][0]}" in out and f"worst {wt}35{subs[-1][0]}" in out
    assert len(ca_values("1aki")) == len(expected.wt)  # the whole chain was scored


# --- 2. commands ----------------------------------------------------------------------------

def test_commands_recolour_mutations_csv_heatmap(pm, test_data, tiny_onnx_model, tmp_path):
    path = structure(test_data, "1aki")
    cmd.load(path)
    cmd.do("saprot_scan 1aki, method=wt")
    expected = core_result(path, tiny_onnx_model, method="wt")
    labels = [rid.label for rid in expected.residue_ids]

    cmd.do("saprot_color min, blue_white_red")
    values = ca_values("1aki")
    np.testing.assert_allclose([values[x] for x in labels], expected.summary("min"), atol=1e-6)
    cmd.do("saprot_color W")
    values = ca_values("1aki")
    np.testing.assert_allclose([values[x] for x in labels], expected.summary("W"), atol=1e-6)
    assert STORE.palette == "blue_white_red"

    subs = cmd.keyword["saprot_mutations"][0]("1aki and resi 10")
    want = expected.substitutions(expected.index_of("10"))
    assert [mt for mt, _ in subs] == [mt for mt, _ in want]
    assert [v for _, v in subs] == pytest.approx([v for _, v in want], abs=1e-6)

    cmd.do(f"saprot_csv {tmp_path / 'scores.csv'}")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "scores.csv").read_text())))
    assert len(rows) == 19 * len(labels)
    from saprot_scan.outputs.tables import csv_text

    want = list(csv.DictReader(io.StringIO(csv_text([expected]))))
    assert [r["mutant"] for r in rows] == [r["mutant"] for r in want]
    np.testing.assert_allclose([float(r["score"]) for r in rows], [float(r["score"]) for r in want], atol=2e-6)

    for suffix in ("png", "svg", "pdf"):
        cmd.do(f"saprot_heatmap {tmp_path / ('heat.' + suffix)}")
        assert (tmp_path / f"heat.{suffix}").stat().st_size > 1000
    from PIL import Image

    assert Image.open(tmp_path / "heat.png").size[0] > 100


def test_completion_and_help(pm, capfd):
    assert "masked" in cmd.auto_arg[2]["saprot_scan"][0]()
    assert "red_white_blue" in cmd.auto_arg[4]["saprot_scan"][0]()
    assert "min" in cmd.auto_arg[0]["saprot_color"][0]()
    for name in ("saprot_scan", "saprot_color", "saprot_heatmap", "saprot_csv", "saprot_mutations",
                 "saprot_restore"):
        capfd.readouterr()
        cmd.help(name)
        assert "USAGE" in capfd.readouterr().out, name


def test_bfactor_only_when_asked_and_restore_puts_everything_back(pm, test_data):
    cmd.load(structure(test_data, "1aki"))
    before = atom_state()
    cmd.do("saprot_scan 1aki, method=wt, bfactor=1")
    values = ca_values("1aki")
    bs = {}
    cmd.iterate("1aki and name CA", "bs[resi] = b", space={"bs": bs})
    assert bs == pytest.approx(values, abs=1e-3)
    cmd.do("saprot_color max, orange_white_purple")  # a second colouring does not move the snapshot
    cmd.do("saprot_restore")
    assert atom_state() == before
    assert STORE.scores, "scores stay available after restoring"


def test_ray_traced_png_carries_the_palette(pm, test_data, tmp_path):
    from PIL import Image

    cmd.load(structure(test_data, "1aki"))
    cmd.show_as("cartoon", "1aki")
    cmd.orient("1aki")
    cmd.bg_color("black")
    cmd.set("ray_opaque_background", 1)

    def pixels(name):
        out = tmp_path / name
        cmd.png(str(out), width=320, height=240, ray=1, quiet=1)
        img = np.asarray(Image.open(out).convert("RGB")).astype(int)
        fg = img[img.sum(axis=2) > 30]  # background is black
        return out, fg

    _, fg0 = pixels("before.png")
    cmd.do("saprot_scan 1aki, method=wt")
    out, fg1 = pixels("after.png")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    Image.open(out).save(ARTIFACTS / "pymol_ray_traced_scores.png")

    def green(fg):  # PyMOL's default green carbons
        return np.mean((fg[:, 1] > fg[:, 0] + 20) & (fg[:, 1] > fg[:, 2] + 20))

    def palette_like(fg):  # red_white_blue: green is never the strongest channel
        return np.mean(fg[:, 1] <= np.maximum(fg[:, 0], fg[:, 2]) + 8)

    def saturated(fg):
        return np.mean((fg[:, 0] - fg[:, 1] > 30) | (fg[:, 2] - fg[:, 1] > 30))

    assert green(fg0) > 0.3
    assert green(fg1) < 0.01
    assert palette_like(fg1) > 0.98
    assert saturated(fg1) > 0.05


# --- 4. background scans ----------------------------------------------------------------------

def test_background_scan_refuses_a_second_and_finishes(pm, test_data):
    cmd.load(structure(test_data, "1l2y"))
    with STORE.lock:  # the scan cannot finish while the test holds the store
        assert saprot_scan("1l2y", method="wt", background=1) is None
        assert RUNNER.busy()
        with pytest.raises(pymol.CmdException, match="already running"):
            saprot_scan("1l2y", method="wt")
    assert RUNNER.wait(120)
    assert RUNNER.last_outcome == "done"
    assert all(v is not None for v in ca_values("1l2y").values())


def test_background_scan_can_be_cancelled_and_changes_nothing(pm, test_data, capfd):
    cmd.load(structure(test_data, "1aki"))
    before = atom_state()
    with STORE.lock:
        saprot_scan("1aki", background=1)
        assert cmd.keyword["saprot_cancel"][0]() is True
    assert RUNNER.wait(120)
    assert RUNNER.last_outcome == "cancelled"
    assert atom_state() == before
    assert not STORE.scores
    assert "cancelled" in capfd.readouterr().out


def test_background_scan_with_missing_model_reports_and_changes_nothing(pm, test_data, capfd):
    cmd.load(structure(test_data, "1l2y"))
    before = atom_state()
    saprot_scan("1l2y", model="/nonexistent/model.onnx", background=1)
    assert RUNNER.wait(60)
    out = capfd.readouterr()
    assert "does not exist" in out.out + out.err
    assert "Traceback" not in out.out + out.err
    assert atom_state() == before and not STORE.scores


# --- 7. bad input ---------------------------------------------------------------------------

BAD_INPUT = [
    ("1l2y", "saprot_scan none", "is empty"),
    ("1l2y", "saprot_scan (((", "not a valid selection"),
    ("3o5r", "saprot_scan 3o5r and resn FK5", "a ligand (FK5)"),
    ("5ugo", "saprot_scan 5ugo and chain D", "nucleic acid"),
    ("4p5j", "saprot_scan 4p5j", "not protein"),
    ("1l2y", "saprot_scan 1l2y, model=/nonexistent/model.onnx", "does not exist"),
    ("1l2y", "saprot_scan 1l2y, model=no-such-model", "unknown model"),
    ("1l2y", "saprot_scan 1l2y, method=fast", "unknown method"),
    ("1l2y", "saprot_scan 1l2y, summary=median", "summary must be mean, min, max"),
    ("1l2y", "saprot_scan 1l2y, palette=rainbow", "unknown palette"),
    ("1l2y", "saprot_color", "nothing scored yet"),
    ("1l2y", "saprot_mutations 1l2y", "covers 20 residues"),
    ("1l2y", "saprot_mutations 1l2y and resi 5", "not scored yet"),
    ("1l2y", "saprot_heatmap /tmp/x.txt", "use one of .png"),
    ("1l2y", "saprot_csv /no/such/folder/x.csv", "does not exist"),
]


@pytest.mark.parametrize("name, command, message", BAD_INPUT, ids=[c for _, c, _ in BAD_INPUT])
def test_bad_input_gives_one_clear_line_and_changes_nothing(pm, test_data, capfd, name, command, message):
    cmd.load(structure(test_data, name))
    before = atom_state()
    capfd.readouterr()
    cmd.do(command)
    out = capfd.readouterr()
    text = out.out + out.err
    assert "Error: saprot_scan:" in text and message in text, text
    assert "Traceback" not in text
    assert atom_state() == before
    assert not STORE.scores and not STORE.snapshots


def test_ligand_pick_menu_entry_refuses_cleanly(pm, test_data, capfd):
    cmd.load(structure(test_data, "3o5r"))
    before = atom_state()
    pick = menu.pick_menu(cmd, "pick", "(3o5r and resn FK5 and name C1)")
    (entry,) = find_entry(submenu(pick, "residue"), LABEL)
    capfd.readouterr()
    cmd.do(entry[2])
    assert "not protein" in capfd.readouterr().out
    assert atom_state() == before


def test_protein_and_nucleic_acid_object_scores_only_the_protein(pm, test_data):
    cmd.load(structure(test_data, "5ugo"))
    before = atom_state("5ugo and polymer.nucleic")
    cmd.do("saprot_scan 5ugo, method=wt")
    assert [key.label for key in STORE.scores] == ["5ugo/A"]
    assert atom_state("5ugo and polymer.nucleic") == before, "nucleic acid was recoloured"


def test_scan_in_a_script_thread_free_and_returns_results(pm, test_data):
    cmd.load(structure(test_data, "1l2y"))
    results = saprot_scan("1l2y", method="wt")  # no GUI: returns when done, with the results
    assert list(results) == ["1l2y/A"] and len(results["1l2y/A"].wt) == 20
    assert not any(t.name == "saprot_scan" for t in threading.enumerate())


def test_chain_pick_and_multi_chain_object_with_insertion_codes(pm, test_data, tiny_onnx_model, tmp_path):
    path = structure(test_data, "1ncb")  # neuraminidase + antibody H/L chains, Kabat insertion codes
    cmd.load(path)
    others_before = atom_state("1ncb and not polymer.protein")
    pick = menu.pick_menu(cmd, "pick", "(1ncb and chain H and resi 52A and name CA)")
    (entry,) = find_entry(submenu(pick, "chain"), LABEL)
    cmd.do(entry[2] + ", method=wt")
    assert [key.label for key in STORE.scores] == ["1ncb/H"]

    cmd.do("saprot_scan 1ncb, method=wt")
    assert sorted(key.label for key in STORE.scores) == ["1ncb/H", "1ncb/L", "1ncb/N"]
    values = {}
    cmd.iterate("1ncb and polymer.protein and name CA", "values[(chain, resi)] = saprot_score(model, chain, resi)",
                space={"values": values, "saprot_score": pymol.saprot_score})
    for chain in ("H", "L", "N"):
        expected = core_result(path, tiny_onnx_model, method="wt", chain=chain)
        got = [values[(chain, rid.label)] for rid in expected.residue_ids]
        np.testing.assert_allclose(got, expected.summary("mean"), atol=1e-6)
    assert values[("H", "52A")] is not None and values[("H", "82C")] is not None
    assert atom_state("1ncb and not polymer.protein") == others_before, "sugars/waters recoloured"

    cmd.do(f"saprot_csv {tmp_path / 'all.csv'}")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "all.csv").read_text())))
    assert {r["chain"] for r in rows} == {"H", "L", "N"}
    assert any(r["residue"] == "52A" and r["chain"] == "H" for r in rows)
    cmd.do(f"saprot_heatmap {tmp_path / 'all.svg'}")
    assert (tmp_path / "all.svg").stat().st_size > 1000


def test_restore_after_atoms_were_removed(pm, test_data):
    cmd.load(structure(test_data, "1aki"))
    before = {}
    cmd.iterate("1aki", "before[(chain, resi, name, alt)] = (color, b)", space={"before": before})
    cmd.do("saprot_scan 1aki, method=wt, bfactor=1")
    cmd.remove("1aki and resi 1-5")
    cmd.do("saprot_restore")
    after = {}
    cmd.iterate("1aki", "after[(chain, resi, name, alt)] = (color, b)", space={"after": after})
    assert after and all(after[k] == before[k] for k in after)


def test_object_deleted_during_a_background_scan(pm, test_data, capfd):
    cmd.load(structure(test_data, "1l2y"))
    with STORE.lock:
        saprot_scan("1l2y", method="wt", background=1)
        cmd.delete("1l2y")
    assert RUNNER.wait(120)
    assert RUNNER.last_outcome.startswith("error")
    assert "deleted during the scan" in capfd.readouterr().out
    assert not STORE.scores and not STORE.snapshots
    with pytest.raises(pymol.CmdException, match="nothing scored yet"):
        cmd.keyword["saprot_csv"][0]("/tmp/never-written.csv")


def test_default_structure_scorer_colours_like_the_core_and_is_named(pm, test_data, monkeypatch, capfd):
    """Issues 12 and 20: with nothing named, set or cached the offline default structure-blend scores, unchanged
    plugin code."""
    from saprot_scan import load_scorer, read_structure, scan_chain

    monkeypatch.delenv("SAPROT_SCAN_MODEL", raising=False)
    MODEL_POOL.clear()
    path = structure(test_data, "1aki")
    cmd.load(path)
    saprot_scan("1aki", _self=cmd)
    values = ca_values("1aki")
    expected = scan_chain(read_structure(path, chains=["A"])[0], load_scorer("structure-blend"), use_cache=False)
    labels = [rid.label for rid in expected.residue_ids]
    got = np.array([values[label] for label in labels])
    np.testing.assert_allclose(got, expected.summary("mean"), rtol=0, atol=1e-6)
    assert "structure-blend" in capfd.readouterr().out


def test_two_objects_with_the_same_chain_stay_apart_in_csv_and_heatmap(pm, test_data, tmp_path):
    """Both copies have a chain A: the CSV gains an object column and each heatmap header names its object."""
    from saprot_scan.outputs.heatmap import heatmap_figure

    cmd.load(structure(test_data, "1l2y"), "trp_one")
    cmd.load(structure(test_data, "1l2y"), "trp_two")
    cmd.do("saprot_scan trp_one, method=wt")
    cmd.do("saprot_scan trp_two, method=wt")
    cmd.do(f"saprot_csv {tmp_path / 'both.csv'}")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "both.csv").read_text())))
    assert list(rows[0]) == ["chain", "position", "residue", "wt", "mt", "mutant", "score", "percentile", "class",
                             "object"]
    assert {r["object"] for r in rows} == {"trp_one", "trp_two"} and len(rows) == 2 * 20 * 19
    texts = [t.get_text() for t in heatmap_figure(STORE.results()).texts]
    assert any(t.startswith("PyMOL object trp_one  ·  Chain A") for t in texts), texts
    assert any(t.startswith("PyMOL object trp_two  ·  Chain A") for t in texts), texts

    cmd.delete("trp_two")
    cmd.do(f"saprot_csv {tmp_path / 'one.csv'}")
    header = (tmp_path / "one.csv").read_text().splitlines()[0]
    assert header == "chain,position,residue,wt,mt,mutant,score,percentile,class", "one object: the command line's columns"


# --- imperfect structures (issue 21): the core's one line, the structure untouched --------------------------

IMPERFECT = [
    ("all-UNK", "alter 1l2y, resn='UNK'", "no scorable residue"),
    ("NaN coordinate", "alter_state 1, 1l2y and resi 5 and name CA, x=float('nan')", "has coordinates nan"),
    ("collapsed numbering", "alter 1l2y, resi='1'", "numbering collapsed"),
]


@pytest.mark.parametrize("alter, message", [c[1:] for c in IMPERFECT], ids=[c[0] for c in IMPERFECT])
def test_imperfect_structure_gives_the_cores_line_and_changes_nothing(pm, test_data, capfd, alter, message):
    cmd.load(structure(test_data, "1l2y"))
    cmd.do(alter)
    before = atom_state()
    capfd.readouterr()
    cmd.do("saprot_scan 1l2y")
    RUNNER.wait(60)
    text = "".join(capfd.readouterr())
    assert "Error: saprot_scan:" in text and message in text, text
    assert "Traceback" not in text and "Warning" not in text
    assert atom_state() == before
    assert not STORE.scores and not STORE.snapshots


def test_modified_residues_are_scored_as_their_parent_and_said(pm, test_data, capfd):
    cmd.load(structure(test_data, "1l2y"))
    cmd.alter("1l2y and resi 1", "resn='MSE'")  # 1L2Y starts with Asn; MSE reads as Met
    capfd.readouterr()
    cmd.do("saprot_scan 1l2y")
    assert RUNNER.wait(120)
    text = "".join(capfd.readouterr())
    assert "1 modified residue(s) read as their parent amino acid" in text and "MSE as M" in text, text
    (result,) = STORE.scores.values()
    assert result.result.wt[0] == "M"


# --- files from other tools (issue 27): force-field names, unknown names, NaN B-factors --------------------

def test_force_field_and_unknown_names_are_read_as_the_core_reads_them_and_said(pm, test_data, capfd):
    """An MD export keeps HIE/CYX; a residue named ZZZ is context. Neither vanishes from the chain silently."""
    cmd.load(structure(test_data, "1l2y"))
    cmd.alter("1l2y and resi 6", "resn='HIE'")  # 1L2Y's Trp6 renamed: read as His
    cmd.alter("1l2y and resi 10", "resn='ZZZ'")  # no component table knows ZZZ: context, no rows
    capfd.readouterr()
    cmd.do("saprot_scan 1l2y")
    assert RUNNER.wait(120)
    text = "".join(capfd.readouterr())
    assert "force-field names" in text and "HIE as HIS" in text, text
    assert "ZZZ 10" in text and "kept as structure context" in text, text
    (result,) = STORE.scores.values()
    assert len(result.result.wt) == 20 and result.result.wt[5] == "H" and result.result.wt[9] == "X"


def test_a_nan_b_factor_gives_the_cores_line_and_changes_nothing(pm, test_data, capfd):
    cmd.load(structure(test_data, "1l2y"))
    cmd.alter("1l2y and resi 5 and name CA", "b=float('nan')")
    before = atom_state()
    capfd.readouterr()
    cmd.do("saprot_scan 1l2y")
    RUNNER.wait(60)
    text = "".join(capfd.readouterr())
    assert "Error: saprot_scan:" in text and "has B-factor nan" in text, text
    assert repr(atom_state()) == repr(before)  # nan != nan, its text is equal
    assert not STORE.scores


def test_first_scan_of_a_model_cached_without_int8_makes_it_and_says_so(pm, test_data, tiny_hf_checkpoint,
                                                                         tmp_path, monkeypatch, capfd):
    """Issue 25: a SaProt model cached before int8 copies were made by default gets one on its first CPU scan
    in PyMOL; the line saying so (and how long) reaches PyMOL's log, and the scan runs int8."""
    pytest.importorskip("onnx", reason="making the int8 copy needs the fetch extra")
    from saprot_scan.models.fast_copy import cuda_gpu_here
    from saprot_scan.models.importer import import_checkpoint

    if cuda_gpu_here():
        pytest.skip("a CUDA GPU answers here: scans run the fp16 copy")
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))
    folder = import_checkpoint(tiny_hf_checkpoint, name="saprot-35m", int8=False, any_shape=True)
    assert not (folder / "saprot-35m.int8.onnx").exists()
    cmd.load(structure(test_data, "1l2y"))
    capfd.readouterr()
    cmd.do("saprot_scan 1l2y, model=saprot-35m, method=wt, device=cpu")
    out = capfd.readouterr().out
    making = [line for line in out.splitlines() if "no int8 copy yet" in line]
    assert len(making) == 1 and "making it once now, about" in making[0], out
    assert "int8 copy of saprot-35m made in" in out
    assert (folder / "saprot-35m.int8.onnx").is_file()
    assert MODEL_POOL.get("saprot-35m", "cpu").precision == "int8"


def test_a_ligand_with_backbone_names_is_skipped_in_pymol_as_in_the_file(pm, test_data):
    """5EIL's BP5 (HETATM, a name no component table knows, with N, CA and C) is no residue for Foldseek; the
    file reader skips it, and so does the chain PyMOL hands over (its HETATM flags go with the atoms), so both
    give Foldseek's 3Di letters. An unknown name in ATOM records stays context (the ZZZ test above)."""
    from saprot_scan.encoding.structure import read_structure
    from saprot_scan.encoding.threedi import encode_embedded
    from saprot_scan_pymol.atoms import ChainKey, read_chain

    path = structure(test_data, "5eil")
    cmd.load(path, "eil")
    viewer_chain = read_chain(ChainKey("eil", "A"))
    (file_chain,) = read_structure(path, chains=["A"])
    assert "X" not in file_chain.sequence
    assert viewer_chain.sequence == file_chain.sequence
    assert viewer_chain.residue_ids == file_chain.residue_ids
    assert encode_embedded(viewer_chain) == encode_embedded(file_chain)

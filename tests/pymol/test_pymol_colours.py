"""Issue 13, item 4 through the real (open-source) PyMOL: the core's robust colour rule, so one outlier residue
leaves the others deeply coloured; a colour key object that saprot_restore removes; pLDDT-masked residues in a
selection; the rendered picture carries a colour bar; and the right-click entry keeps the last summary."""
from __future__ import annotations

import json
import math
import sys
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
from saprot_scan import viewers  # noqa: E402
from saprot_scan.viewers import MODEL_POOL  # noqa: E402
from saprot_scan_pymol import commands, painting, palettes  # noqa: E402
from saprot_scan_pymol.jobs import RUNNER  # noqa: E402
from saprot_scan_pymol.menus import LABEL  # noqa: E402
from saprot_scan_pymol.store import STORE  # noqa: E402

LOW, MID, HIGH = palettes.PALETTES[palettes.DEFAULT_PALETTE]


def _reset() -> None:
    RUNNER.wait(120)
    cmd.reinitialize()
    STORE.clear()
    MODEL_POOL.clear()


@pytest.fixture
def pm(monkeypatch, tiny_onnx_model):
    monkeypatch.setenv("SAPROT_SCAN_MODEL", str(tiny_onnx_model))
    saprot_scan_pymol.__init_plugin__()
    _reset()
    yield cmd
    _reset()


def trp_cage(test_data) -> str:
    return str(test_data / "foldseek_3di" / "1l2y.cif")


def rgb_of(index: int) -> tuple[float, float, float]:
    """PyMOL's colour index -> rgb (direct 0x40RRGGBB colours or named ones)."""
    return tuple(cmd.get_color_tuple(index))


def ca_colours(obj: str) -> dict[str, int]:
    colours = {}
    cmd.iterate(f"%{obj} and name CA", "colours[resi] = color", space={"colours": colours})
    return colours


def test_one_outlier_residue_leaves_the_others_deeply_coloured(pm, test_data):
    cmd.load(str(test_data / "foldseek_3di" / "1aki.cif"), "lys")
    labels = []
    cmd.iterate("lys and polymer.protein and name CA", "labels.append(resi)", space={"labels": labels})
    assert len(labels) > 100
    values = {("lys", "A", resi): -2.0 + 0.005 * i for i, resi in enumerate(labels[:-1])}
    outlier = labels[-1]
    values[("lys", "A", outlier)] = -40.0  # one residue far below the rest
    scale = painting.colour_residues(["lys"], values, palettes.DEFAULT_PALETTE, "mean")
    assert scale.stops() == (-2.0, 0.0, 2.0)
    colours = ca_colours("lys")
    full = math.dist(LOW, MID)
    for (_, _, resi), value in values.items():
        if resi == outlier:
            continue
        got = rgb_of(colours[resi])
        assert colours[resi] == palettes.pymol_colour(palettes.colour_for(value, scale, palettes.DEFAULT_PALETTE))
        assert math.dist(got, MID) > 0.6 * full, f"residue {resi} ({value}) is pale: {got}"
        # the former rule (limit = the largest |value| = 40) painted it within a tenth of white
        assert math.dist(palettes.colour_for(value, 40.0, palettes.DEFAULT_PALETTE), MID) < 0.1 * full
    assert math.dist(rgb_of(colours[outlier]), LOW) < 0.01  # the outlier clips to the end colour


def test_key_masked_selection_restore_and_right_click_keeps_the_summary(pm, test_data):
    cmd.load(trp_cage(test_data), "trp")
    commands.saprot_scan("trp", background=0)
    assert cmd.get_type(painting.KEY_NAME) == "object:ramp"
    (entry,) = [i for i in menu.mol_action(cmd, "trp") if len(i) > 1 and i[1] == LABEL]
    assert entry[2] == "saprot_scan trp"  # the default summary is not spelled out

    commands.saprot_color("min")
    (result,) = STORE.results()
    values = result.summary("min")
    scale = viewers.colour_scale(values, "min")
    assert scale.high == 0.0 and scale.one_sided
    colours = ca_colours("trp")
    for rid, value in zip(result.residue_ids, values):
        assert colours[rid.label] == palettes.pymol_colour(palettes.colour_for(value, scale, "red_white_blue"))

    # the right-click entries now scan with summary=min, and clicking one keeps colouring by min
    (entry,) = [i for i in menu.mol_action(cmd, "trp") if len(i) > 1 and i[1] == LABEL]
    assert entry[2] == "saprot_scan trp, summary=min"
    pick = menu.pick_menu(cmd, "/trp//A/TRP`6/CA", "(trp and resi 6 and name CA)")
    residue_menu = [i for i in pick if len(i) > 2 and i[1] == "residue"][0][2]
    assert [i[2] for i in residue_menu if len(i) > 1 and i[1] == LABEL] == [
        "saprot_scan (byres ((trp and resi 6 and name CA))), summary=min"]
    cmd.color("green", "trp")
    cmd.do(entry[2])
    RUNNER.wait(120)
    assert STORE.summary == "min"
    assert ca_colours("trp") == colours

    # pLDDT-masked residues (struct token '#') are gathered in a selection
    result.struct = "".join("#" if i in (2, 7) else "d" for i in range(len(result)))
    assert painting.select_masked() == 1
    got = []
    cmd.iterate(f"{painting.MASKED_SELECTION} and name CA", "got.append(resi)", space={"got": got})
    assert got == [result.residue_ids[2].label, result.residue_ids[7].label]

    commands.saprot_restore()
    names = cmd.get_names("all")
    assert painting.KEY_NAME not in names and painting.MASKED_SELECTION not in names


def test_rendered_picture_has_a_colour_bar(pm, test_data, tmp_path):
    from matplotlib.image import imread
    from saprot_scan_pymol import render

    path = trp_cage(test_data)
    residues = [{"residue": str(i), "mean": -3.0 + 0.15 * i, "min": -3.0 + 0.15 * i} for i in range(1, 21)]
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"chains": [{"chain": "A", "amino_acids": "ACDEFGHIKLMNPQRSTVWY",
                                              "residues": residues}]}))
    out = render.render(path, str(scores), str(tmp_path / "structure.png"), width=320, height=240)
    png = imread(out)
    assert png.shape[1] == 320 and png.shape[0] > 240  # the bar is below the picture
    bar = png[240:, :, :3].reshape(-1, 3)
    # the bar shows both ends of the palette
    assert np.min(np.linalg.norm(bar - np.array(LOW), axis=1)) < 0.05
    assert np.min(np.linalg.norm(bar - np.array(HIGH), axis=1)) < 0.05


def test_rendered_bar_names_the_scorer_and_its_units():
    from saprot_scan_pymol.render import bar_label

    structure = {"chains": [{"chain": "A", "model": "burial-blosum",
                             "score_label": "structure score (z units; burial + BLOSUM62)", "residues": []}]}
    assert bar_label(structure, "mean") == "mean score (structure score (z units; burial + BLOSUM62)); burial-blosum"
    older = {"chains": [{"chain": "A", "model": "saprot-35m", "residues": []}]}  # JSON from before score_label
    assert bar_label(older, "min") == "min score (SaProt log-ratio); saprot-35m"

"""Issue 10, item 5: the commands take ``_self`` keyword-only and use it, so they work on a ``pymol2.PyMOL()``
instance (a second, independent PyMOL in the same process) without touching the global ``cmd``; and the
plugin's palette constants are the core's viewer contract (same residue -> same number -> same colour)."""
from __future__ import annotations

import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

pymol = pytest.importorskip("pymol", reason="pymol-open-source is not installed")
pymol2 = pytest.importorskip("pymol2", reason="pymol-open-source is not installed")

REPO = Path(__file__).resolve().parents[2]
try:
    import saprot_scan_pymol
except ImportError:  # not pip-installed: use the checkout
    sys.path.insert(0, str(REPO / "plugin_pymol"))
    import saprot_scan_pymol

from pymol import cmd  # noqa: E402
from saprot_scan import read_structure, scan_chain  # noqa: E402
from saprot_scan import viewers  # noqa: E402
from saprot_scan_pymol import commands, export_commands, painting, palettes, scanning  # noqa: E402
from saprot_scan_pymol.jobs import RUNNER  # noqa: E402
from saprot_scan_pymol.store import STORE  # noqa: E402

COMMANDS = ["saprot_scan", "saprot_suggest", "saprot_design", "saprot_color", "saprot_heatmap", "saprot_csv", "saprot_mutations",
            "saprot_restore", "saprot_cancel", "saprot_dialog", "saprot_known"]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_takes_self_keyword_only(name):
    parameter = inspect.signature(inspect.unwrap(getattr(commands, name))).parameters["_self"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is cmd


def test_scan_and_colour_in_a_separate_pymol_instance(tiny_onnx_model, test_data, monkeypatch):
    monkeypatch.setenv("SAPROT_SCAN_MODEL", str(tiny_onnx_model))
    RUNNER.wait(120)
    cmd.reinitialize()
    STORE.clear()
    path = str(test_data / "foldseek_3di" / "1l2y.cif")
    instance = pymol2.PyMOL()
    instance.start()
    try:
        instance.cmd.load(path, "trp")
        before = []
        instance.cmd.iterate("trp and name CA", "before.append(color)", space={"before": before})
        results = commands.saprot_scan("trp", method="wt", background=0, _self=instance.cmd)
        assert cmd.get_names("objects") == []  # the global PyMOL was never touched
        (result,) = results.values()
        expected = scan_chain(read_structure(path)[0], model=str(tiny_onnx_model), method="wt", use_cache=False)
        np.testing.assert_allclose(result.scores, expected.scores, atol=1e-5)
        after = []
        instance.cmd.iterate("trp and name CA", "after.append(color)", space={"after": after})
        values = expected.summary("mean")
        scale = viewers.colour_scale(values, "mean")
        assert scale.stops() == (-viewers.colour_limit(values), 0.0, viewers.colour_limit(values))
        assert after == [palettes.pymol_colour(palettes.colour_for(v, scale, palettes.DEFAULT_PALETTE))
                         for v in values]
        key = instance.cmd.get_names("objects")
        assert painting.KEY_NAME in key and cmd.get_names("objects") == []  # the key lives in that instance
        assert after != before
        commands.saprot_restore(_self=instance.cmd)
        assert painting.KEY_NAME not in instance.cmd.get_names("objects")  # restore removes the key
        restored = []
        instance.cmd.iterate("trp and name CA", "restored.append(color)", space={"restored": restored})
        assert restored == before
    finally:
        RUNNER.wait(120)
        STORE.clear()
        instance.stop()


def test_plugin_colours_are_the_core_contract():
    assert palettes.UNSCORED_RGB == viewers.UNSCORED_RGB
    low, mid, high = palettes.PALETTES[palettes.DEFAULT_PALETTE]
    assert (low, mid, high) == (viewers.hex_rgb(viewers.INTOLERANT_HEX), viewers.hex_rgb(viewers.CENTRE_HEX),
                                viewers.hex_rgb(viewers.TOLERATED_HEX))
    values = [-2.3, 0.4, float("nan"), 1.1]
    assert palettes.symmetric_limit(values) == viewers.colour_limit(values) == 2.5
    assert palettes.colour_for(-1.0, 2.5, palettes.DEFAULT_PALETTE) == viewers.colour_for(-1.0, 2.5)
    for summary in ("mean", "min", "max", "P"):
        assert palettes.colour_scale(values, summary) == viewers.colour_scale(values, summary)
    scale = viewers.colour_scale(values, "min")
    assert palettes.colour_for(-1.0, scale, palettes.DEFAULT_PALETTE) == viewers.colour_for(-1.0, scale)
    assert tuple(scanning.METHODS) == tuple(viewers.METHODS) and tuple(scanning.DEVICES) == tuple(viewers.DEVICES)
    assert tuple(export_commands.HEATMAP_SUFFIXES) == tuple(viewers.HEATMAP_SUFFIXES)

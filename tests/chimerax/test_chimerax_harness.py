"""The headless ChimeraX the other ChimeraX tests stand on: the PyPI wheel (ChimeraX 1.7.1) starts a
session through the documented work-arounds, runs built-in commands, and finds the saprot bundle
the way ChimeraX finds any installed bundle (from the metadata ChimeraX's bundle builder wrote)."""
import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)


def test_builtin_commands_work_headless(chimerax):
    out = chimerax("""
from chimerax.core import version
out["version"] = version
run(session, "open " + params["1l2y"])
from chimerax.atomic import all_atomic_structures
out["models"] = len(all_atomic_structures(session))
run(session, "color #1.1/A:1-5 red")
r = all_atomic_structures(session)[0].residues[0]
out["red"] = [int(c) for c in r.ribbon_color]
run(session, "select #1.1/A:6 & protein")
out["selected_atoms"] = len(session.selection.items("atoms")[0])
run(session, "save " + params["work"] + "/s.cxs")
import os
out["session_file"] = os.path.getsize(params["work"] + "/s.cxs") > 1000
""")
    assert out["version"].startswith("1.7")
    assert out["models"] == 38          # NMR ensemble: one structure per model
    assert out["red"] == [255, 0, 0, 255]
    assert out["selected_atoms"] > 0
    assert out["session_file"]


def test_saprot_bundle_is_found_from_bundle_builder_metadata(chimerax):
    out = chimerax("""
bi = session.toolshed.find_bundle("ChimeraX-SaProt", session.logger)
out["found"] = bi is not None
out["commands"] = sorted(ci.name for ci in bi.commands)
from importlib.metadata import metadata
md = metadata("ChimeraX-SaProt")
out["classifiers"] = [c for c in md.get_all("Classifier") if c.startswith("ChimeraX ::")]
import chimerax.saprot
out["module"] = chimerax.saprot.__file__
""")
    assert out["found"]
    assert {"saprot scan", "saprot load", "saprot color", "saprot mutations", "saprot heatmap",
            "saprot models"} <= set(out["commands"])
    assert any(c.startswith("ChimeraX :: Bundle ::") and "chimerax.saprot" in c for c in out["classifiers"])
    assert "site-packages" in out["module"]  # installed, not imported from the source tree


def test_bundle_does_not_import_the_harness(chimerax):
    out = chimerax("""
import sys, pathlib
import chimerax.saprot
src = pathlib.Path(chimerax.saprot.__file__).parent
out["mentions"] = [p.name for p in src.glob("*.py") if "chimerax_harness" in p.read_text()
                   or "wheel_workarounds" in p.read_text()]
""")
    assert out["mentions"] == []

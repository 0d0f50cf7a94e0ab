"""Imperfect structures in real ChimeraX (issue 21): the core's one line as a ``UserError``, nothing changed."""
import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)
from test_chimerax_inputs import SNAPSHOT  # noqa: E402


def test_imperfect_structures_give_the_cores_line_and_change_nothing(chimerax):
    out = chimerax(SNAPSHOT + """
import numpy as np
m = " model " + params["model"]
errors = {}
run(session, "open " + params["1aki"])
structure = session.models.list()[0]
atom = [a for a in structure.atoms if a.residue.number == 30 and a.name == "CA"][0]
atom.coord = np.array([np.nan, 0.0, 0.0])
before = snapshot()
errors["nan"] = user_error("saprot scan #1" + m)
unchanged = snapshot() == before
run(session, "close")
run(session, "open " + params["1aki"])
structure = session.models.list()[0]
for residue in structure.residues:
    residue.name = "UNK"
before = snapshot()
errors["unk"] = user_error("saprot scan #1" + m)
out["errors"] = errors
out["unchanged"] = unchanged and snapshot() == before
""")
    errors = out["errors"]
    assert "residue 30 (CYS) atom CA has coordinates nan" in errors["nan"]
    assert "no scorable residue" in errors["unk"]
    for text in errors.values():
        assert "\n" not in text.strip() and "Traceback" not in text
    assert out["unchanged"]

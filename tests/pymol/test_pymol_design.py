"""Issue 14 item 5 in real headless PyMOL: `saprot_design` colours residues by how well their native amino acid
fits the structure, keeps the core's P(native) (saprot_native), logs recovery and the most likely sequence, and
refuses the structure scorer in the core's one line."""
from __future__ import annotations

import numpy as np
import pymol
import pytest

from test_pymol_plugin import atom_state, cmd, pm, structure  # noqa: F401

from saprot_scan import chain_tokens, design_chain, load_model, read_structure
from saprot_scan.viewers import native_fit


def core_design(path: str, model_path, chain: str = "A"):
    (wanted,) = read_structure(path, chains=[chain])
    return design_chain(wanted, load_model(str(model_path), device="cpu"), chain_tokens(wanted))


def ca_rows(obj: str) -> dict[str, tuple]:
    rows: dict[str, tuple] = {}
    cmd.iterate(f"%{obj} and polymer.protein and name CA", "rows[resi] = (saprot_native(model, chain, resi), color)",
                space={"rows": rows, "saprot_native": pymol.saprot_native})
    return rows


def test_pymol_design_keeps_the_cores_p_native_and_colours_by_fit(pm, test_data, tiny_onnx_model, capfd):
    from saprot_scan_pymol.palettes import colour_for, pymol_colour, symmetric_limit

    path = structure(test_data, "1aki")
    cmd.load(path)
    capfd.readouterr()
    cmd.do("saprot_design 1aki")
    out = capfd.readouterr().out
    want = core_design(path, tiny_onnx_model)
    rows = ca_rows("1aki")
    got = np.array([rows[rid.label][0] for rid in want.residue_ids], dtype=float)
    np.testing.assert_allclose(got, want.p_native, rtol=0, atol=1e-9)
    fits = native_fit(want.p_native)
    limit = symmetric_limit(fits)
    for rid, fit in zip(want.residue_ids, fits):
        assert rows[rid.label][1] == pymol_colour(colour_for(fit, limit, "red_white_blue"))
    assert f"native sequence recovery {100 * want.recovery:.1f}%" in out
    assert want.designed in out
    assert "far better designs than the embedded default" in out
    # iterate's own namespace reads it too, like saprot_score
    values = {}
    cmd.iterate("1aki and name CA and resi 10", "values['v'] = saprot_native(model, chain, resi)",
                space={"values": values, "saprot_native": pymol.saprot_native})
    assert values["v"] == pytest.approx(want.p_native[[r.label for r in want.residue_ids].index("10")])


def test_pymol_design_in_a_separate_instance_and_as_a_function(pm, test_data, tiny_onnx_model):
    import pymol2

    from saprot_scan_pymol.commands import saprot_design

    path = structure(test_data, "1aki")
    p = pymol2.PyMOL()
    p.start()
    try:
        p.cmd.load(path, "other")
        got = saprot_design("other", str(tiny_onnx_model), background=0, _self=p.cmd)
        want = core_design(path, tiny_onnx_model)
        (result,) = got.values()
        np.testing.assert_allclose(result.p_native, want.p_native, rtol=0, atol=1e-9)
        assert result.designed == want.designed
        assert cmd.get_names("objects") == []
    finally:
        p.stop()


def test_pymol_design_refuses_the_structure_scorer_in_one_line(pm, test_data, capfd):
    cmd.load(structure(test_data, "1aki"))
    before = atom_state()
    capfd.readouterr()
    cmd.do("saprot_design 1aki, burial-blosum")
    out = capfd.readouterr().out
    lines = [line for line in out.splitlines() if "cannot propose a sequence" in line]
    assert len(lines) == 1 and "design needs a SaProt-format language model" in lines[0]
    assert "Traceback" not in out
    assert atom_state() == before


def test_pymol_design_in_the_background_then_restore(pm, test_data, tiny_onnx_model):
    from saprot_scan_pymol.commands import saprot_design, saprot_restore
    from saprot_scan_pymol.jobs import RUNNER

    path = structure(test_data, "1l2y")
    cmd.load(path, "trp")
    before = atom_state()
    assert saprot_design("trp", background=1) is None
    assert RUNNER.wait(120) and RUNNER.last_outcome == "done"
    want = core_design(path, tiny_onnx_model)
    rows = ca_rows("trp")
    np.testing.assert_allclose([rows[r.label][0] for r in want.residue_ids], want.p_native, rtol=0, atol=1e-9)
    assert atom_state() != before
    saprot_restore()
    assert atom_state() == before

"""Issue 24, items 5 and 9 in real headless PyMOL: interface residues get the selection ``saprot_interface`` and
the structure scorers see the object's other chains (as the core's ``--partner-context on``); a scan of a residue
range colours only that range; the "coloured ..." line comes last with the scores' unit; ``saprot_suggest``
ranks each structure on its own."""
from __future__ import annotations

import numpy as np

from test_pymol_plugin import atom_state, ca_values, cmd, core_result, pm, structure  # noqa: F401

from saprot_scan import read_structure, scan_chain
from saprot_scan.backends.base import load_scorer


def _selected_labels(name: str) -> set[str]:
    rows = set()
    cmd.iterate(f"{name} and name CA", "rows.add(resi)", space={"rows": rows})
    return rows


def test_interface_selection_and_partner_context(pm, test_data, capfd):
    path = structure(test_data, "1igy")
    cmd.load(path)
    capfd.readouterr()
    cmd.do("saprot_scan 1igy and chain A, burial-blosum")
    out = capfd.readouterr().out
    on = read_structure(path, chains=["A"], partners=True)[0]
    off = read_structure(path, chains=["A"], partners=False)[0]
    want = {rid.label for rid, flag in zip(on.residue_ids, on.interface) if flag}
    assert want and _selected_labels("saprot_interface") == want
    scorer = load_scorer("burial-blosum")
    expected = scan_chain(on, scorer, use_cache=False).summary("mean")
    alone = scan_chain(off, scorer, use_cache=False).summary("mean")
    import pymol

    values = {}
    cmd.iterate("1igy and chain A and polymer.protein and name CA", "values[resi] = saprot_score(model, chain, resi)",
                space={"values": values, "saprot_score": pymol.saprot_score})
    got = np.array([np.nan if values.get(rid.label) is None else values[rid.label] for rid in on.residue_ids])
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert np.nanmax(np.abs(got - alone)) > 0.1  # the partner chains counted
    assert f"{len(want)} residues touch another chain (selection saprot_interface)" in out
    assert "SaProt reads one chain" in out and "partner context on" in out
    cmd.do("saprot_restore")
    assert "saprot_interface" not in cmd.get_names("selections")

    # the switch: partners=off scores the chain alone (as --partner-context off) and still marks the interface
    capfd.readouterr()
    cmd.do("saprot_scan 1igy and chain A, burial-blosum, partners=off")
    out = capfd.readouterr().out
    values = {}
    cmd.iterate("1igy and chain A and polymer.protein and name CA", "values[resi] = saprot_score(model, chain, resi)",
                space={"values": values, "saprot_score": pymol.saprot_score})
    got = np.array([np.nan if values.get(rid.label) is None else values[rid.label] for rid in on.residue_ids])
    np.testing.assert_allclose(got, alone, atol=1e-6)
    assert _selected_labels("saprot_interface") == want
    assert "partner context off" in out and "partner context on" not in out
    cmd.do("saprot_restore")
    capfd.readouterr()
    cmd.do("saprot_scan 1igy and chain A, burial-blosum, partners=sometimes")
    assert "partners" in capfd.readouterr().out


def test_a_residue_range_is_the_only_thing_coloured_and_the_key_line_is_last(pm, test_data, capfd):
    path = structure(test_data, "1aki")
    cmd.load(path)
    before = atom_state("1aki and not resi 40-50")
    capfd.readouterr()
    cmd.do("saprot_scan 1aki and resi 40-50")
    lines = [line for line in capfd.readouterr().out.strip().split("\n") if line.strip()]
    assert atom_state("1aki and not resi 40-50") == before
    values = ca_values("1aki")
    assert {k for k, v in values.items() if v is not None} == {str(n) for n in range(40, 51)}
    assert "coloured 11 residues of 1aki/A" in lines[-1]
    assert "in natural-log ratio; key: saprot_key" in lines[-1]
    assert len(lines[-1]) < 200  # the scorer named, not described again


def test_suggest_ranks_each_structure_on_its_own(pm, test_data, capfd):
    cmd.load(structure(test_data, "1aki"))
    cmd.load(structure(test_data, "1igy"))
    cmd.do("saprot_scan 1aki")
    cmd.do("saprot_scan 1igy and chain A")
    from saprot_scan_pymol.commands import saprot_suggest

    capfd.readouterr()
    got = saprot_suggest("", 5, 4)
    out = capfd.readouterr().out
    objects = [label.split("/")[0] for label, _, _ in got]
    assert objects == sorted(objects) and set(objects) == {"1aki", "1igy"}  # one block per structure
    assert objects.count("1aki") <= 4 and objects.count("1igy") <= 4
    assert "1aki: top" in out and "1igy: top" in out
    only = saprot_suggest("1igy and chain B", 6, 4)
    assert only and {label.split("/")[0] for label, _, _ in only} == {"1igy"}

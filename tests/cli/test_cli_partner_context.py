"""Issue 24, item 5: the structure scorers see the file's other chains (``--partner-context on``, the default),
interface residues are marked in every output, and single chains score exactly as before.

The complex is 1IGY (an antibody: light chain A against heavy chain B and the second Fab), from the packed
test data; interface residues are found here independently with gemmi (any heavy atom within 5 Å)."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from saprot_scan import cli
from support.data import structure

ANTIBODY = structure("1igy")
STRUCTURE_SCORERS = ("structure-blend", "burial-blosum", "learned-structure")


def _protein_residue(res) -> bool:
    import gemmi

    info = gemmi.find_tabulated_residue(res.name)
    return info is not None and info.is_amino_acid() and res.find_atom("CA", "*") is not None


def _interface_by_gemmi(path, chain_id: str) -> set[str]:
    import gemmi

    st = gemmi.read_structure(str(path))
    st.remove_hydrogens()
    st.setup_entities()
    search = gemmi.NeighborSearch(st[0], st.cell, 6).populate()
    out = set()
    for res in st[0][chain_id]:
        if not _protein_residue(res):
            continue
        for atom in res:
            for mark in search.find_atoms(atom.pos, "\0", radius=5.0):
                cra = mark.to_cra(st[0])
                if cra.chain.name != chain_id and _protein_residue(cra.residue) \
                        and cra.atom.pos.dist(atom.pos) <= 5.0:
                    out.add(f"{res.seqid.num}{res.seqid.icode.strip()}")
    return out


def _summary(path, tmp_path, *extra) -> dict[str, dict]:
    out = tmp_path / "summary.csv"
    assert cli.main(["scan", str(path), "--quiet", "--summary-csv", str(out), *extra]) == 0
    return {r["residue"]: r for r in csv.DictReader(open(out))}


@pytest.mark.parametrize("model", STRUCTURE_SCORERS)
def test_interface_residues_score_lower_with_the_partner(model, tmp_path):
    near = _interface_by_gemmi(ANTIBODY, "A")
    on = _summary(ANTIBODY, tmp_path, "--chain", "A", "--model", model)
    off = _summary(ANTIBODY, tmp_path, "--chain", "A", "--model", model, "--partner-context", "off")
    assert {k for k, r in on.items() if r["interface"] == "yes"} == near
    assert {k for k, r in off.items() if r["interface"] == "yes"} == near  # marked either way
    drop = np.array([float(on[k]["mean"]) - float(off[k]["mean"]) for k in near])
    rest = np.array([float(on[k]["mean"]) - float(off[k]["mean"]) for k in on if k not in near])
    assert drop.mean() < -0.3 and (drop < 0).mean() > 0.7, (drop.mean(), (drop < 0).mean())
    assert drop.mean() < rest.mean()


def test_single_chains_score_exactly_as_without_the_switch(example_structure, tmp_path):
    """A single-chain file has no partner: on, off and the chain alone give byte-identical outputs, and no
    interface column appears."""
    texts = []
    for switch in ("on", "off"):
        out = tmp_path / f"{switch}.csv"
        assert cli.main(["scan", str(example_structure), "--quiet", "--model", "structure-blend", "--csv", str(out),
                         "--partner-context", switch]) == 0
        texts.append(out.read_text())
    assert texts[0] == texts[1] and "interface" not in texts[0].split("\n")[0]


def test_interface_in_json_and_the_log(tmp_path, capsys):
    assert cli.main(["scan", str(ANTIBODY), "--chain", "A", "--json", str(tmp_path / "a.json")]) == 0
    err = capsys.readouterr().err
    near = _interface_by_gemmi(ANTIBODY, "A")
    assert f"{len(near)} interface residues" in err and "SaProt reads one chain" in err
    data = json.loads((tmp_path / "a.json").read_text())["chains"][0]
    assert data["partner_context"] == "on"
    assert {r["residue"] for r in data["residues"] if r["interface"]} == near
    from saprot_scan.outputs.tables import read_json

    (back,) = read_json(tmp_path / "a.json")
    assert {rid.label for rid, flag in zip(back.residue_ids, back.interface) if flag} == near


def test_batch_parquet_has_the_interface_column(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    assert cli.main(["batch", str(ANTIBODY), "--out", str(tmp_path / "run"), "--quiet", "--chain", "A"]) == 0
    table = pq.read_table(tmp_path / "run" / "residues").to_pydict()
    got = {r for r, chain, flag in zip(table["residue"], table["chain"], table["interface"]) if chain == "A" and flag}
    assert got == _interface_by_gemmi(ANTIBODY, "A")

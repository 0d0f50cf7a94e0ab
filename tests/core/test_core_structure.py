"""Issue 2, item 1: reading protein chains from PDB/mmCIF files (and a viewer's arrays) as Foldseek does."""
from __future__ import annotations

import numpy as np
import pytest

from support import core_testfiles as tf
from saprot_scan.errors import InputError
from saprot_scan.encoding.structure import ResidueId, chain_from_arrays, one_letter, read_structure


@pytest.fixture(scope="module")
def data(test_data):
    return test_data / tf.FOLDSEEK_DIR_NAME


def _same_chain(a, b) -> None:
    assert a.chain_id == b.chain_id
    assert a.residue_ids == b.residue_ids
    assert a.sequence == b.sequence
    np.testing.assert_allclose(a.coords, b.coords, atol=1e-3, equal_nan=True)
    np.testing.assert_allclose(a.b_factors, b.b_factors, atol=1e-2)


def test_lysozyme_sequence_and_numbering(example_structure):
    (chain,) = read_structure(example_structure)
    assert chain.chain_id == "A"
    assert len(chain) == 129
    assert chain.sequence.startswith("KVFGRCELAAAMKRHGLDNYRGYSLGNWVCAAKFESNFNTQATNRNTDGSTDYGILQINSRWWCNDG")
    assert chain.residue_ids[0] == ResidueId("A", 1) and chain.residue_ids[-1] == ResidueId("A", 129)
    assert chain.coords.shape == (129, 4, 3) and chain.coords.dtype == np.float32
    glycines = [i for i, aa in enumerate(chain.sequence) if aa == "G"]
    assert np.isnan(chain.coords[glycines, 3]).all(), "glycine has no CB"
    assert not np.isnan(chain.coords[:, :3]).any()
    assert not chain.alphafold_text


def test_pdb_mmcif_plain_and_gzipped_agree(example_structure, tmp_path):
    atoms = tf.load_atoms(example_structure)
    pdb_path = tf.write_pdb(atoms, tmp_path / "lyso.pdb")
    variants = [example_structure, pdb_path, tf.gzip_copy(example_structure, tmp_path / "lyso.cif.gz"),
                tf.gzip_copy(pdb_path, tmp_path / "lyso.pdb.gz"), tf.gzip_copy(pdb_path, tmp_path / "lyso.ent.gz")]
    chains = [read_structure(p) for p in variants]
    for other in chains[1:]:
        assert len(other) == 1
        _same_chain(chains[0][0], other[0])


def test_format_detected_without_suffix(example_structure, tmp_path):
    atoms = tf.load_atoms(example_structure)
    no_suffix_cif = tmp_path / "structure_cif"
    no_suffix_cif.write_text(example_structure.read_text())
    no_suffix_pdb = tf.write_pdb(atoms, tmp_path / "structure_pdb")
    _same_chain(read_structure(no_suffix_cif)[0], read_structure(no_suffix_pdb)[0])


def test_first_model_of_ensemble_by_default(data):
    path = data / "1l2y.cif"
    default = read_structure(path)[0]
    first = read_structure(path, model=1)[0]
    second = read_structure(path, model=2)[0]
    _same_chain(default, first)
    reference = tf.load_atoms(path, model=1)
    ca = reference[reference.atom_name == "CA"]
    np.testing.assert_allclose(default.coords[:, 1], ca.coord, atol=1e-3)
    assert default.sequence == second.sequence == "NLYIQWLKDGGPSSGRPPPS"
    assert not np.allclose(default.coords, second.coords, equal_nan=True)
    with pytest.raises(InputError, match="model 99 requested, the file has 38"):
        read_structure(path, model=99)


def test_every_protein_chain_by_default_each_on_its_own(data):
    chains = read_structure(data / "1igy.cif")
    # E and F are glycan-only chains: not protein, so not returned
    assert [c.chain_id for c in chains] == ["A", "B", "C", "D"]
    assert all(len({r.chain for r in c.residue_ids}) == 1 for c in chains)
    assert chains[0].sequence == chains[2].sequence  # two copies of the light chain


def test_chains_selected_by_author_id_in_requested_order(data):
    chains = read_structure(data / "1ncb.cif", chains=["H", "N"])
    assert [c.chain_id for c in chains] == ["H", "N"]
    with pytest.raises(InputError, match=r"chain Z not found in 1ncb.cif \(chains: N, L, H, A, B\)"):
        read_structure(data / "1ncb.cif", chains=["Z"])
    with pytest.raises(InputError, match="chain A in 1ncb.cif has no amino-acid residues"):
        read_structure(data / "1ncb.cif", chains=["A"])


def test_author_numbers_and_insertion_codes_kept(data):
    (heavy,) = read_structure(data / "1igy.cif", chains=["B"])
    labels = [r.label for r in heavy.residue_ids]
    atoms = tf.protein_only(tf.load_atoms(data / "1igy.cif"), "B")
    import biotite.structure as struc

    starts = struc.get_residue_starts(atoms)
    expected = [f"{n}{c}" for n, c in zip(atoms.res_id[starts], atoms.ins_code[starts])]
    assert labels == expected
    assert [x for x in labels if x[-1].isalpha()] == ["52A", "82A", "82B", "82C"]  # Kabat numbering
    assert labels.index("52A") == labels.index("52") + 1
    assert ResidueId("B", 82, "C").label == "82C" and str(ResidueId("B", 82, "C")) == "B:82C"


def test_modified_residues_map_to_parent(example_structure, tmp_path):
    assert one_letter("MSE") == "M"
    assert one_letter("SEP") == "S" and one_letter("MLY") == "K"
    assert one_letter("UNK") == "X" and one_letter("ZZZ") == "X"
    atoms = tf.load_atoms(example_structure)
    path = tf.write_pdb(tf.as_selenomethionine(atoms), tmp_path / "semet.pdb")
    assert "HETATM" in path.read_text() and " MSE " in path.read_text()
    (plain,), (semet,) = read_structure(example_structure), read_structure(path)
    assert semet.sequence == plain.sequence
    np.testing.assert_allclose(semet.coords, plain.coords, atol=1e-3, equal_nan=True)


def test_residue_without_ca_is_skipped(example_structure, tmp_path):
    atoms = tf.load_atoms(example_structure)
    no_ca = atoms[~((atoms.res_id == 10) & (atoms.atom_name == "CA"))]
    (chain,) = read_structure(tf.write_pdb(no_ca, tmp_path / "no_ca.pdb"))
    assert len(chain) == 128
    assert ResidueId("A", 10) not in chain.residue_ids
    (full,) = read_structure(example_structure)
    assert chain.sequence == full.sequence[:9] + full.sequence[10:]


def test_alternate_locations_last_one_wins(data):
    from biotite.structure.io import pdbx

    path = data / "3o5r.cif"
    cif = pdbx.CIFFile.read(str(path))
    atoms = pdbx.get_structure(cif, model=1, use_author_fields=True, altloc="all")
    atoms = atoms[(atoms.chain_id == "A") & (atoms.atom_name == "CA")]
    alt = atoms.altloc_id
    split = sorted({int(r) for r, a in zip(atoms.res_id, alt) if a not in (".", "?", "")})
    assert split, "3O5R has residues with alternate CA positions"
    (chain,) = read_structure(path, chains=["A"])
    for number in split:
        last = atoms[atoms.res_id == number][-1]
        index = chain.residue_ids.index(ResidueId("A", number))
        np.testing.assert_allclose(chain.coords[index, 1], last.coord, atol=1e-3)


def test_viewer_arrays_equal_file_reading(example_structure):
    atoms = tf.protein_only(tf.load_atoms(example_structure))
    from_arrays = chain_from_arrays(
        "A", atoms.res_id.tolist(), atoms.ins_code.tolist(), atoms.res_name.tolist(), atoms.atom_name.tolist(),
        atoms.coord, atoms.b_factor.tolist())
    (from_file,) = read_structure(example_structure)
    _same_chain(from_file, from_arrays)
    assert from_arrays.source == "viewer"


def test_viewer_arrays_errors():
    with pytest.raises(InputError, match="no atoms were selected"):
        chain_from_arrays("A", [], [], [], [], np.zeros((0, 3)), [])
    with pytest.raises(InputError, match="different lengths"):
        chain_from_arrays("A", [1, 1], [""], ["GLY"], ["CA"], np.zeros((1, 3)), [0.0])


def test_b_factor_is_residue_mean(example_structure):
    atoms = tf.protein_only(tf.load_atoms(example_structure))
    (chain,) = read_structure(example_structure)
    first = atoms[atoms.res_id == 1]
    assert chain.b_factors[0] == pytest.approx(first.b_factor.mean(), abs=1e-6)
    assert not chain.b_factor_constant_per_residue


def test_pdb_ensemble_first_model_by_default(data, tmp_path):
    from biotite.structure.io import pdb, pdbx

    stack = pdbx.get_structure(pdbx.CIFFile.read(str(data / "1l2y.cif")), use_author_fields=True,
                               extra_fields=["b_factor"])
    assert stack.stack_depth() == 38
    handle = pdb.PDBFile()
    handle.set_structure(stack)
    path = tmp_path / "1l2y.pdb"
    handle.write(str(path))
    assert path.read_text().count("MODEL ") == 38
    for model in (1, 3):
        (from_pdb,) = read_structure(path, model=model)
        (from_cif,) = read_structure(data / "1l2y.cif", model=model)
        np.testing.assert_allclose(from_pdb.coords, from_cif.coords, atol=1e-3, equal_nan=True)
    _same_chain(read_structure(path)[0], read_structure(path, model=1)[0])


def test_format_read_from_content_when_the_suffix_is_wrong(example_structure, tmp_path):
    atoms = tf.load_atoms(example_structure)
    pdb_as_cif = tmp_path / "really_pdb.cif"
    pdb_as_cif.write_text(tf.pdb_text(atoms))
    cif_as_pdb = tmp_path / "really_cif.pdb"
    cif_as_pdb.write_text("# saved from a web page\n" + example_structure.read_text())
    (reference,) = read_structure(example_structure)
    _same_chain(reference, read_structure(pdb_as_cif)[0])
    _same_chain(reference, read_structure(cif_as_pdb)[0])


def test_pdb_without_suffix_opening_with_title(example_structure, tmp_path):
    atoms = tf.load_atoms(example_structure)
    path = tmp_path / "lysozyme_model"
    path.write_text("TITLE     LYSOZYME\n" + tf.pdb_text(atoms))
    _same_chain(read_structure(example_structure)[0], read_structure(path)[0])

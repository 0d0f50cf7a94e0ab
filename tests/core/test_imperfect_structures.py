"""Issue 21 in the core: each defect of a real file is read one stated way with a note, or refused naming it;
the geometry behind the scores stays linear in memory and gives the answers the dense code gave."""
from __future__ import annotations

import numpy as np
import pytest

from saprot_scan.encoding.geometry import ideal_cb, neighbour_pair_chunks, neighbour_pairs
from saprot_scan.encoding.structure import chain_from_arrays, read_structure
from saprot_scan.encoding.threedi import closest_partners, encode_embedded
from saprot_scan.errors import InputError
from support.imperfect_variants import Atoms, source_text


def _write(tmp_path, name: str, atoms: Atoms):
    path = tmp_path / name
    path.write_text(atoms.text())
    return path


def _intact_path():
    from support.imperfect_variants import source_path

    return source_path("1aki.cif")


@pytest.fixture(scope="module")
def lysozyme():
    return read_structure(_intact_path())[0]


def _cif() -> Atoms:
    return Atoms(source_text("1aki.cif"), cif=True)


def _rows(atoms: Atoms, number: str, atom: str | None = None) -> list[int]:
    return [r for r in atoms.rows if atoms.get(r, "seq") == number and (atom is None or atoms.get(r, "atom") == atom)]


@pytest.mark.parametrize("value", ["nan", "inf", "1e309", "1e30", "-2e5"])
def test_non_finite_or_absurd_coordinate_is_refused_naming_the_residue(tmp_path, value):
    atoms = _cif()
    atoms.set(_rows(atoms, "30", "CB")[0], "y", value)
    with pytest.raises(InputError, match=r"chain A residue 30 \(CYS\) atom CB has coordinates"):
        read_structure(_write(tmp_path, "bad.cif", atoms))


def test_viewer_arrays_with_a_nan_are_refused_the_same_way(lysozyme):
    import biotite.structure as struc
    from biotite.structure.io import pdbx

    cif = pdbx.CIFFile.read(str(_intact_path()))
    atoms = pdbx.get_structure(cif, model=1, use_author_fields=True, extra_fields=["b_factor"])
    atoms = atoms[struc.filter_amino_acids(atoms)]
    coords = atoms.coord.copy()
    coords[np.flatnonzero((atoms.res_id == 6) & (atoms.atom_name == "CA"))[0], 0] = np.nan
    with pytest.raises(InputError, match=r"residue 6 \(CYS\) atom CA"):
        chain_from_arrays("A", atoms.res_id, atoms.ins_code, atoms.res_name, atoms.atom_name, coords,
                          atoms.b_factor, source="viewer")


def test_placeholder_coordinates_are_missing_atoms_with_a_note(tmp_path, lysozyme):
    atoms = _cif()
    for axis in "xyz":
        atoms.set(_rows(atoms, "30", "CB")[0], axis, "?")
    atoms.set(_rows(atoms, "40", "CA")[0], "x", ".")
    chain = read_structure(_write(tmp_path, "placeholder.cif", atoms))[0]
    index = [r.number for r in chain.residue_ids].index(30)
    assert np.isnan(chain.coords[index, 3]).all()  # CB missing, not (0, 0, 0)
    assert 40 not in [r.number for r in chain.residue_ids] and len(chain) == len(lysozyme) - 1  # no CA: not read
    assert any("placeholder" in n and "CYS 30 CB" in n and "THR 40 CA" in n for n in chain.notes), chain.notes


def test_unknown_author_numbers_are_renumbered_by_label_seq_id(tmp_path, lysozyme):
    atoms = _cif()
    for row in atoms.rows:
        atoms.set(row, "seq", "?")
    chain = read_structure(_write(tmp_path, "numbers.cif", atoms))[0]
    assert len(chain) == len(lysozyme) and chain.sequence == lysozyme.sequence
    assert [r.number for r in chain.residue_ids] == list(range(1, len(lysozyme) + 1))
    assert any("label_seq_id" in n for n in chain.notes)


@pytest.mark.parametrize("source, field, value, refusal", [
    ("1aki.pdb", "seq", "7", "numbering collapsed"),  # PDB has no second numbering to fall back on
    ("1aki.cif", "comp", "UNK", "no scorable residue"),  # all UNK: never an empty CSV
])
def test_whole_file_defects_are_refused(tmp_path, source, field, value, refusal):
    atoms = Atoms(source_text(source), cif=source.endswith(".cif"))
    for row in atoms.rows:
        atoms.set(row, field, value)
    with pytest.raises(InputError, match=refusal):
        read_structure(_write(tmp_path, source, atoms))


def test_comp_id_disagreement_reads_auth_and_says_so(tmp_path, lysozyme):
    atoms = _cif()
    for row in _rows(atoms, "5"):
        atoms.set(row, "label_comp", "GLY")
    chain = read_structure(_write(tmp_path, "names.cif", atoms))[0]
    assert chain.sequence == lysozyme.sequence  # auth_comp_id ARG, as PyMOL shows it
    assert any("auth_comp_id" in n and "5 ARG (label GLY)" in n for n in chain.notes), chain.notes


def test_modified_residues_read_as_parent_and_reported(tmp_path, lysozyme):
    atoms = _cif()
    for number, name in (("12", "MSE"), ("24", "SEP"), ("105", "MSE")):
        for row in _rows(atoms, number):
            atoms.set(row, "comp", name)
            atoms.set(row, "label_comp", name)
    chain = read_structure(_write(tmp_path, "modified.cif", atoms))[0]
    assert chain.sequence == lysozyme.sequence  # M12, S24, M105 as their parents
    assert any("3 modified residue(s)" in n and "MSE as M x2" in n and "SEP as S" in n for n in chain.notes)


def test_microheterogeneity_keeps_the_last_name_and_says_so(tmp_path, lysozyme):
    atoms = _cif()
    rows = _rows(atoms, "20")
    block = [atoms.lines[r] for r in rows]
    for row in rows:
        atoms.set(row, "alt", "A")
    at = rows[-1] + 1
    atoms.lines[at:at] = block
    for k in range(len(block)):
        atoms.set(at + k, "alt", "B")
        atoms.set(at + k, "comp", "ALA")
        atoms.set(at + k, "label_comp", "ALA")
    chain = read_structure(_write(tmp_path, "micro.cif", atoms))[0]
    assert len(chain) == len(lysozyme)
    assert chain.sequence[19] == "A" and lysozyme.sequence[19] == "Y"
    assert any("TYR/ALA read as ALA" in n for n in chain.notes), chain.notes


def test_fasta_and_nul_bytes_are_refused(tmp_path):
    fasta = tmp_path / "seq.cif"
    fasta.write_text(">P00698\nKVFGRCELAAAMKRHGLDNYRGYSLGNWVCAAKFESNFNTQATNRNTDGSTDYGILQINSRWWCNDG\n")
    with pytest.raises(InputError, match="this is a sequence file"):
        read_structure(fasta)
    nul = tmp_path / "nul.cif"
    nul.write_bytes(source_text("1aki.cif").encode().replace(b"ATOM   5 ", b"ATOM\x00  5 ", 1))
    with pytest.raises(InputError, match="NUL bytes"):
        read_structure(nul)


def test_ideal_cb_lies_where_the_real_one_is(lysozyme):
    coords = lysozyme.coords.astype(float)
    built = ideal_cb(coords[:, 0], coords[:, 1], coords[:, 2])
    has_cb = np.isfinite(coords[:, 3]).all(axis=1)
    error = np.linalg.norm(built[has_cb] - coords[has_cb, 3], axis=1)
    assert np.median(error) < 0.2 and error.max() < 0.5  # real side chains vary by ~0.1-0.3 A


def test_sparse_neighbours_equal_brute_force_and_stay_bounded(lysozyme):
    points = lysozyme.coords[:, 1].astype(float)
    for radius in (4.5, 10.0, 13.0):
        d = np.linalg.norm(points[:, None] - points[None], axis=-1)
        want = set(zip(*np.nonzero((d <= radius) & ~np.eye(len(points), dtype=bool))))
        assert set(zip(*neighbour_pairs(points, radius))) == want
    same = np.zeros((500, 3))  # every point on one spot: 249,500 pairs, never more than 1,000 at once
    chunks = list(neighbour_pair_chunks(same, 1.0, max_pairs=1000))
    assert sum(len(i) for i, _ in chunks) == 500 * 499
    assert max(len(i) for i, _ in chunks) <= 1000
    far = np.array([[0.0, 0, 0], [1e5, -1e5, 1e5], [1e5, -1e5, 1e5 + 1], [np.nan, 0, 0]])
    assert set(zip(*neighbour_pairs(far, 2.0))) == {(1, 2), (2, 1)}


def test_blockwise_partners_equal_biotites_dense_search(lysozyme, monkeypatch):
    from biotite.structure.alphabet.encoder import Encoder, VirtualCenterEncoder
    from saprot_scan.encoding import threedi

    n, ca, c, cb = (lysozyme.coords[:, k, :].astype(np.float32) for k in range(4))
    n[[10, 50]] = np.nan  # masked residues are never partners
    with np.errstate(all="ignore"):
        centres = VirtualCenterEncoder().encode(ca, cb, n, c)
        dense = Encoder().feature_encoder.partner_index_encoder._find_residue_partners(centres)
    usable = ~np.ma.getmaskarray(centres)[:, 0]
    usable[[0, -1]] = False
    monkeypatch.setattr(threedi, "PARTNER_BLOCK_ENTRIES", 7 * len(lysozyme))  # 7-row blocks, a ragged last one
    assert (closest_partners(centres)[usable] == dense[usable]).all()
    with np.errstate(all="ignore"):
        want = "".join("acdefghiklmnpqrstvwy"[int(i)] for i in Encoder().encode(ca, cb, n, c).filled())
    holed = read_structure(_intact_path())[0]
    holed.coords[[10, 50], 0] = np.nan
    assert encode_embedded(holed) == want


def test_chain_notes_reach_the_scan_result(tmp_path):
    from saprot_scan.backends.structure import StructureScorer
    from saprot_scan.pipeline import scan_chain

    atoms = _cif()
    for row in _rows(atoms, "12"):
        atoms.set(row, "comp", "MSE")
    chain = read_structure(_write(tmp_path, "mse.cif", atoms))[0]
    result = scan_chain(chain, StructureScorer(), use_cache=False)
    assert any("MSE as M" in n for n in result.notes)
    assert np.isfinite(result.scores[[i for i, a in enumerate(chain.sequence) if a != "X"]]).any()


def test_placeholders_in_one_model_of_an_ensemble_never_read_another_model(tmp_path):
    """Dropping model 1's atoms must not make model 2 'the first model' (2AXD is an NMR ensemble)."""
    from support.imperfect_variants import source_path

    atoms = Atoms(source_path("2axd.cif").read_text(), cif=True)  # rows: model 1 only
    for row in atoms.rows:
        atoms.set(row, "x", "?")
    path = _write(tmp_path, "2axd-model1-placeholders.cif", atoms)
    with pytest.raises(InputError, match="model 1: every atom's coordinates are placeholders"):
        read_structure(path)
    second = read_structure(path, model=2)[0]
    assert len(second) == 76 and not second.notes


def test_one_unknown_residue_is_context_without_rows_and_said(tmp_path, lysozyme):
    atoms = _cif()
    for row in _rows(atoms, "5"):
        atoms.set(row, "comp", "UNK")
    chain = read_structure(_write(tmp_path, "unk5.cif", atoms))[0]
    assert len(chain) == len(lysozyme) and chain.sequence[4] == "X"
    assert any("1 residue(s) that are no standard amino acid (UNK 5)" in n for n in chain.notes), chain.notes


def test_viewer_altlocs_named_are_not_collapsed_numbering(lysozyme):
    """PyMOL hands over every alternate location; with their ids the last one wins, without them one atom
    name twice in a residue can only mean two residues share a number."""
    import biotite.structure as struc
    from biotite.structure.io import pdbx

    atoms = pdbx.get_structure(pdbx.CIFFile.read(str(_intact_path())), model=1, use_author_fields=True,
                               extra_fields=["b_factor"])
    atoms = atoms[struc.filter_amino_acids(atoms)]
    ca = int(np.flatnonzero((atoms.res_id == 6) & (atoms.atom_name == "CA"))[0])
    order = np.insert(np.arange(atoms.array_length()), ca + 1, ca)  # residue 6's CA twice: altlocs A and B
    atoms = atoms[order]
    alt = np.full(atoms.array_length(), "")
    alt[[ca, ca + 1]] = ["A", "B"]
    arrays = ("A", atoms.res_id, atoms.ins_code, atoms.res_name, atoms.atom_name, atoms.coord, atoms.b_factor)
    assert len(chain_from_arrays(*arrays, source="viewer", altlocs=alt)) == len(lysozyme)
    with pytest.raises(InputError, match="numbering collapsed"):
        chain_from_arrays(*arrays, source="viewer")


# ---------------------------------------------------------------------------------------------- issue 27

def test_force_field_names_read_as_parents_in_files_and_viewer_arrays(tmp_path, lysozyme):
    """CYX/HIE/... are the same amino acids: the same sequence and 3Di, one note, from a file and from the arrays
    a viewer hands over (an MD trajectory loaded in PyMOL or ChimeraX keeps these names)."""
    import biotite.structure as struc
    from biotite.structure.io import pdbx

    from saprot_scan.encoding.threedi import encode_3di

    atoms = _cif()
    for row in atoms.rows:
        name = {"CYS": "CYX", "HIS": "HIE", "LYS": "LYN", "ASP": "ASH", "GLU": "GLH"}.get(atoms.get(row, "comp"))
        if name:
            atoms.set(row, "comp", name)
    chain = read_structure(_write(tmp_path, "amber.cif", atoms))[0]
    assert chain.sequence == lysozyme.sequence and encode_3di(chain) == encode_3di(lysozyme)
    assert any("force-field names" in n and "CYX as CYS x8" in n for n in chain.notes), chain.notes

    cif = pdbx.CIFFile.read(str(_intact_path()))
    array = pdbx.get_structure(cif, model=1, use_author_fields=True, extra_fields=["b_factor"])
    array = array[struc.filter_amino_acids(array)]
    names = np.where(array.res_name == "CYS", "CYX", array.res_name)
    viewed = chain_from_arrays("A", array.res_id, array.ins_code, names, array.atom_name, array.coord,
                               array.b_factor, source="viewer")
    assert viewed.sequence == lysozyme.sequence and any("CYX as CYS" in n for n in viewed.notes)


def test_unknown_names_with_a_backbone_are_context_and_ions_named_ca_are_not(tmp_path, lysozyme):
    atoms = _cif()
    for row in _rows(atoms, "50"):
        atoms.set(row, "comp", "ZZZ")
    calcium = atoms.lines[atoms.rows[-1]].split()
    calcium[atoms.column["auth_comp_id"]] = calcium[atoms.column["label_comp_id"]] = "CA"
    calcium[atoms.column["auth_atom_id"]] = calcium[atoms.column["label_atom_id"]] = "CA"
    calcium[atoms.column["group_PDB"]] = "HETATM"
    calcium[atoms.column["auth_seq_id"]] = "901"
    atoms.lines.insert(atoms.rows[-1] + 1, " ".join(calcium))
    chain = read_structure(_write(tmp_path, "zzz.cif", atoms))[0]
    assert len(chain) == len(lysozyme)  # ZZZ kept, the calcium ion not taken for a residue
    assert chain.sequence[[r.number for r in chain.residue_ids].index(50)] == "X"
    assert any("ZZZ 50" in n and "context" in n for n in chain.notes), chain.notes


def test_shared_auth_asym_id_refused_but_a_ligand_beside_a_chain_is_fine(tmp_path):
    atoms = Atoms(source_text("1k6p.cif"), cif=True)
    for row in atoms.rows:
        atoms.set(row, "chain", "A")
    with pytest.raises(InputError, match=r"2 polymer chains share this author chain id \(label_asym_id A, B\)"):
        read_structure(_write(tmp_path, "shared.cif", atoms))
    assert read_structure(_intact_path())  # 1AKI's waters and ions share chain A with other label_asym_ids


@pytest.mark.parametrize("data, says", [
    (b"\x28\xb5\x2f\xfd\x04\x58" + b"\x01" * 50, "zstd-compressed"),
    (b"\x83\xa7encoder\xa7version\xaadataBlocks" + b"\x90" * 10, "BinaryCIF"),
])
def test_formats_we_do_not_read_are_named(tmp_path, data, says):
    path = tmp_path / "f.cif"
    path.write_bytes(data)
    with pytest.raises(InputError, match=says):
        read_structure(path)


def test_the_decompressed_cap_follows_the_environment(tmp_path, monkeypatch):
    import gzip

    from saprot_scan.encoding.files import ENV_MAX_MB

    path = tmp_path / "big.cif.gz"
    path.write_bytes(gzip.compress(b"\n" * (3 << 20), mtime=0))
    monkeypatch.setenv(ENV_MAX_MB, "2")
    with pytest.raises(InputError, match="more than 2 MiB once gzip-decompressed"):
        read_structure(path)


def test_nan_b_factor_from_a_viewer_is_refused_too(lysozyme):
    import biotite.structure as struc
    from biotite.structure.io import pdbx

    cif = pdbx.CIFFile.read(str(_intact_path()))
    array = pdbx.get_structure(cif, model=1, use_author_fields=True, extra_fields=["b_factor"])
    array = array[struc.filter_amino_acids(array)]
    b = array.b_factor.copy()
    b[5] = np.nan
    with pytest.raises(InputError, match="has B-factor nan"):
        chain_from_arrays("A", array.res_id, array.ins_code, array.res_name, array.atom_name, array.coord, b)

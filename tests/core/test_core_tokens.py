"""Issue 2, item 3: SaProt's vocabulary, combined sequence and pLDDT masking.

Predicted-model files are made here from a real crystal structure by rewriting its B-factors with
biotite: an AlphaFold file (the word "alphafold" in it), and ColabFold/ESMFold/ProteinGym-style files
(one pLDDT per residue, no such word).
"""
from __future__ import annotations

import numpy as np
import pytest

from support import core_testfiles as tf
from saprot_scan import cli
from saprot_scan.encoding import plddt, tokens
from saprot_scan.encoding.plddt import chain_tokens, looks_predicted, masking_applies
from saprot_scan.encoding.structure import read_structure
from saprot_scan.errors import InputError

LYSOZYME_3DI = ("DADDLQRVLVLCVVLPPACQVHDHSLLVSQQLCQPPVRAQADWDADPQQWIQGGSNRHIQQEDAPQPRGDNGNNPVVYHSVVSSDPRCPSVVSRVS"
                "VVCVPPVHVVVRVSSVVPPPPDPSVVSCPPHDD")


def test_vocabulary_matches_saprot():
    vocab = tokens.vocabulary()
    assert len(vocab) == tokens.VOCAB_SIZE == 446
    assert vocab[:5] == ["<cls>", "<pad>", "<eos>", "<unk>", "<mask>"]
    facts = {"Ap": 5, "Ay": 6, "A#": 25, "Cp": 26, "##": 445}
    for token, expected in facts.items():
        assert tokens.token_id(token[0], token[1]) == expected
        assert vocab[expected] == token
    assert tokens.aa_token_ids("A").tolist() == list(range(5, 26))
    assert tokens.AMINO_ACIDS == "ACDEFGHIKLMNPQRSTVWY"


def test_combined_sequence_and_ids():
    combined = tokens.combine("MKV", "DPQ")
    assert combined == "MdKpVq"
    assert tokens.split_combined(combined) == ["Md", "Kp", "Vq"]
    ids = tokens.encode(combined)
    assert ids.dtype == np.int64
    assert ids.tolist() == [0, tokens.token_id("M", "d"), tokens.token_id("K", "p"), tokens.token_id("V", "q"), 2]
    assert tokens.encode("XpAd").tolist() == [0, 3, tokens.token_id("A", "d"), 2]  # unknown aa -> <unk>
    with pytest.raises(ValueError):
        tokens.combine("MK", "D")


def test_esm_tokenizer_from_written_files_gives_same_ids(example_structure, tmp_path):
    """SaProt's own tokenizer class (transformers' EsmTokenizer) over the vocabulary files we write."""
    transformers = pytest.importorskip("transformers", reason="needs the test extra (transformers)")
    from saprot_scan.models.architectures import write_tokenizer_files

    write_tokenizer_files(tmp_path)
    tokenizer = transformers.EsmTokenizer.from_pretrained(str(tmp_path))
    assert len(tokenizer) == 446
    (chain,) = read_structure(example_structure)
    plain = chain_tokens(chain, "off", backend="embedded")
    masked = chain_tokens(chain, "on", plddt_threshold=15.0, backend="embedded")
    assert 0 < masked.masked_count < len(chain)
    for combined in (plain.combined, masked.combined, "XpAdW#", "#p#d##"):
        assert tokenizer(combined)["input_ids"] == tokens.encode(combined).tolist()


def test_plddt_mask_function():
    masked, count = plddt.plddt_mask("abcde", np.array([90, 69.9, 70.0, 10, 100]))
    assert (masked, count) == ("a#c#e", 2)
    masked, count = plddt.plddt_mask("abcde", np.array([90, 69.9, 70.0, 10, 100]), threshold=95)
    assert (masked, count) == ("####e", 4)
    with pytest.raises(ValueError):
        plddt.plddt_mask("abc", np.array([1.0, 2.0]))


@pytest.fixture(scope="module")
def predicted_files(example_structure, tmp_path_factory):
    """Predicted-model versions of lysozyme: pLDDT 40..95 along the chain."""
    out = tmp_path_factory.mktemp("predicted")
    atoms = tf.protein_only(tf.load_atoms(example_structure))
    plddt = tf.plddt_ramp(129)
    files = {
        # AlphaFold DB style: the word is in the file; B-factors vary within residues so only the word counts
        "alphafold": tf.write_pdb(tf.with_plddt(atoms, plddt, per_atom_jitter=True), out / "af.pdb",
                                  header="REMARK   1 MODEL PREDICTED BY ALPHAFOLD MONOMER V2.0\n"),
        "same_without_word": tf.write_pdb(tf.with_plddt(atoms, plddt, per_atom_jitter=True), out / "noword.pdb"),
        # ColabFold / ESMFold / ProteinGym style: one pLDDT per residue, no "alphafold" anywhere
        "colabfold_pdb": tf.write_pdb(tf.with_plddt(atoms, plddt), out / "colabfold_rank_001.pdb"),
        "proteingym_cif": tf.write_cif(tf.with_plddt(atoms, plddt), out / "P00698.cif"),
        # ESMFold output that stores pLDDT as a fraction (0..1)
        "esmfold_fraction": tf.write_pdb(tf.with_plddt(atoms, plddt / 100), out / "esmfold.pdb"),
        # a constant B-factor everywhere (e.g. a file with B-factors zeroed) is not a predicted model
        "flat": tf.write_pdb(tf.with_plddt(atoms, np.full(129, 50.0)), out / "flat.pdb"),
    }
    for path in files.values():
        assert "alphafold" not in path.read_text().lower() or path.name == "af.pdb"
    return files, plddt


def test_auto_masks_alphafold_file_by_its_word(predicted_files):
    files, plddt = predicted_files
    (chain,) = read_structure(files["alphafold"])
    assert chain.alphafold_text and not looks_predicted(chain)
    np.testing.assert_allclose(chain.b_factors, plddt, atol=0.01)
    result = chain_tokens(chain, "auto", backend="embedded")
    low = plddt < 70
    assert result.plddt_masked and result.masked_count == int(low.sum()) > 0
    unmasked = LYSOZYME_3DI.lower()
    assert result.struct == "".join("#" if m else s for s, m in zip(unmasked, low))
    assert result.aa == chain.sequence  # the amino acid is kept
    (no_word,) = read_structure(files["same_without_word"])
    assert not masking_applies(no_word, "auto")
    assert chain_tokens(no_word, "auto", backend="embedded").struct == unmasked


@pytest.mark.parametrize("kind", ["colabfold_pdb", "proteingym_cif", "esmfold_fraction"])
def test_auto_recognises_predicted_models_without_the_word(predicted_files, kind):
    files, plddt = predicted_files
    (chain,) = read_structure(files[kind])
    assert not chain.alphafold_text and looks_predicted(chain)
    result = chain_tokens(chain, "auto", backend="embedded")
    if kind == "esmfold_fraction":  # stored as 0.xx (two decimals in a PDB file), read as 0..100
        plddt = np.round(plddt / 100, 2) * 100
    assert result.plddt_masked and result.masked_count == int((np.round(plddt, 4) < 70).sum())


def test_auto_leaves_crystal_nmr_and_flat_files_alone(example_structure, test_data, predicted_files):
    files, _ = predicted_files
    for path in (example_structure, test_data / "foldseek_3di" / "1l2y.cif", files["flat"]):
        chain = read_structure(path)[0]
        result = chain_tokens(chain, "auto", backend="embedded")
        assert not result.plddt_masked and result.masked_count == 0 and "#" not in result.struct


def test_auto_keeps_off_files_that_declare_an_experiment(example_structure, tmp_path):
    """A cryo-EM or X-ray entry with per-residue B-factors, or one citing AlphaFold, is not a prediction."""
    atoms = tf.protein_only(tf.load_atoms(example_structure))
    per_residue = tf.with_plddt(atoms, tf.plddt_ramp(129))
    em = tf.write_pdb(per_residue, tmp_path / "em.pdb", header="EXPDTA    ELECTRON MICROSCOPY\n")
    xray_citing_af = tf.write_pdb(tf.with_plddt(atoms, tf.plddt_ramp(129), per_atom_jitter=True), tmp_path / "x.pdb",
                                  header="EXPDTA    X-RAY DIFFRACTION\nREMARK 200 STARTING MODEL: ALPHAFOLD\n")
    em_cif = tmp_path / "em.cif"
    em_cif.write_text(tf.cif_text(per_residue) + "#\n_exptl.entry_id EM1\n_exptl.method 'ELECTRON MICROSCOPY'\n")
    theoretical = tf.write_pdb(per_residue, tmp_path / "model.pdb", header="EXPDTA    THEORETICAL MODEL\n")
    for path, method in ((em, "ELECTRON MICROSCOPY"), (xray_citing_af, "X-RAY DIFFRACTION"),
                         (em_cif, "ELECTRON MICROSCOPY")):
        (chain,) = read_structure(path)
        assert chain.experimental_method == method and chain.experimental
        assert not masking_applies(chain, "auto")
        assert masking_applies(chain, "on")
    (chain,) = read_structure(theoretical)
    assert not chain.experimental and masking_applies(chain, "auto")
    (crystal,) = read_structure(example_structure)
    assert crystal.experimental_method == "X-RAY DIFFRACTION"


def test_on_and_off_and_threshold(predicted_files, example_structure):
    files, plddt = predicted_files
    (chain,) = read_structure(files["colabfold_pdb"])
    assert chain_tokens(chain, "off", backend="embedded").struct == LYSOZYME_3DI.lower()
    strict = chain_tokens(chain, "auto", plddt_threshold=90, backend="embedded")
    assert strict.masked_count == int((plddt < 90).sum())
    (crystal,) = read_structure(example_structure)
    forced = chain_tokens(crystal, "on", plddt_threshold=20, backend="embedded")
    assert forced.plddt_masked and forced.masked_count == int((crystal.b_factors < 20).sum()) > 0
    with pytest.raises(InputError, match="--plddt-mask must be one of"):
        masking_applies(crystal, "sometimes")


def test_tokens_command_reports_masking(predicted_files, capsys):
    files, plddt = predicted_files
    low = int((plddt < 70).sum())
    assert cli.main(["tokens", str(files["colabfold_pdb"])]) == 0
    captured = capsys.readouterr()
    assert f"pLDDT masking applied, {low} of 129 residues below 70 set to #" in captured.err
    row = captured.out.strip().split("\n")[1].split("\t")
    assert row[2].count("#") == low and row[3].count("#") == low
    assert cli.main(["tokens", str(files["colabfold_pdb"]), "--plddt-mask", "off"]) == 0
    captured = capsys.readouterr()
    assert "masking" not in captured.err and "#" not in captured.out
    assert cli.main(["tokens", str(files["colabfold_pdb"]), "--plddt-threshold", "50"]) == 0
    assert f"{int((plddt < 50).sum())} of 129 residues below 50" in capsys.readouterr().err

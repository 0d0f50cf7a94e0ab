"""Issue 2, item 7: bad input never crashes; odd but valid files work.

Every case runs the real command line in a subprocess and checks: exit status 2, exactly one line on
stderr, no traceback, and no output file (nor temporary file) left behind. The bad files are made here
from real structures (truncated, rewritten, reduced to DNA, ligand or CA atoms) and real ONNX graphs.
"""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from support import core_testfiles as tf


def run_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SAPROT_SCAN_THREADS="1", PYTHONWARNINGS="default")
    env.pop("SAPROT_SCAN_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "saprot_scan", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def assert_one_line_error(proc: subprocess.CompletedProcess, contains: str = "") -> str:
    err = proc.stderr
    assert proc.returncode == 2, (proc.returncode, err)
    assert "Traceback" not in err and "Traceback" not in proc.stdout
    lines = err.strip().split("\n")
    assert len(lines) == 1 and err.endswith("\n"), f"expected one line on stderr, got: {err!r}"
    assert lines[0].startswith("saprot-scan: error: ")
    assert contains in lines[0], lines[0]
    return lines[0]


# ---------------------------------------------------------------------------------------------- bad files

@pytest.fixture(scope="module")
def bad(test_data, tmp_path_factory) -> dict[str, Path]:
    """Bad structure files, each made from a real entry."""
    out = tmp_path_factory.mktemp("bad-input")
    data = test_data / tf.FOLDSEEK_DIR_NAME
    lyso = tf.load_atoms(data / "1aki.cif")
    files: dict[str, Path] = {}

    files["empty"] = out / "empty.pdb"
    files["empty"].write_text("")
    files["blank"] = out / "blank.cif"
    files["blank"].write_text("\n \n\t\n")

    # truncated in the middle of a coordinate line / a table row, and a gzip cut short
    lines = tf.pdb_text(lyso).split("\n")
    middle = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].startswith("ATOM"))
    files["truncated_pdb"] = out / "truncated.pdb"
    files["truncated_pdb"].write_text("\n".join(lines[:middle]) + "\n" + lines[middle][:40])
    cif_lines = (data / "1aki.cif").read_text().split("\n")
    row = next(i for i in range(len(cif_lines) // 2, len(cif_lines)) if cif_lines[i].startswith("ATOM"))
    files["truncated_cif"] = out / "truncated.cif"
    files["truncated_cif"].write_text("\n".join(cif_lines[:row]) + "\n" + cif_lines[row][:35])
    packed = gzip.compress((data / "1aki.cif").read_bytes())
    files["truncated_gzip"] = out / "truncated.cif.gz"
    files["truncated_gzip"].write_bytes(packed[: len(packed) // 2])

    files["html"] = out / "1abc.pdb"
    files["html"].write_text("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
                             "<body><h1>Not Found</h1></body></html>\n")
    files["random_bytes"] = out / "noise.cif"
    files["random_bytes"].write_bytes(np.random.default_rng(7).bytes(4096))
    files["plain_text"] = out / "notes.pdb"
    files["plain_text"].write_text("these are my notes about the structure\nnot coordinates\n")
    files["cif_without_atoms"] = out / "cell.cif"
    files["cif_without_atoms"].write_text("data_cell\n_cell.length_a 79.1\n_cell.length_b 79.1\n")

    import biotite.structure as struc

    polymerase = tf.load_atoms(data / "5ugo.cif")  # DNA polymerase beta with its DNA
    dna = polymerase[struc.filter_nucleotides(polymerase)]
    assert dna.array_length() > 500
    files["dna_only"] = tf.write_pdb(dna, out / "dna.pdb")
    files["rna_only"] = data / "4gxy.cif"  # a real RNA-only entry

    fkbp = tf.load_atoms(data / "3o5r.cif")  # FKBP51 with FK506
    ligand = fkbp[fkbp.hetero & (fkbp.res_name != "HOH")]
    assert set(ligand.res_name) == {"FK5"}
    files["ligand_only"] = tf.write_pdb(ligand, out / "fk506.pdb")
    files["water_only"] = tf.write_pdb(fkbp[fkbp.res_name == "HOH"], out / "waters.pdb")
    files["ca_only"] = tf.write_pdb(lyso[lyso.atom_name == "CA"], out / "ca_trace.pdb")
    return files


@pytest.fixture()
def workdir(tmp_path) -> Path:
    """An empty folder for outputs; after a failed run it must still be empty."""
    out = tmp_path / "out"
    out.mkdir()
    return out


SCAN_OUTPUTS = ("--csv", "scores.csv", "--json", "scores.json", "--summary-csv", "summary.csv")


def _scan(structure, model, cwd, *extra):
    return run_cli("scan", structure, "--model", model, *SCAN_OUTPUTS, *extra, cwd=cwd)


@pytest.mark.parametrize("name,message", [
    ("empty", "the file is empty"),
    ("blank", "the file is empty"),
    ("truncated_pdb", "not a readable PDB/mmCIF file"),
    ("truncated_cif", "not a readable PDB/mmCIF file"),
    ("truncated_gzip", "damaged gzip file"),
    ("html", "HTML/XML page, not a PDB or mmCIF file"),
    ("random_bytes", "not a readable PDB/mmCIF file"),
    ("plain_text", "no atoms found"),
    ("cif_without_atoms", "no atom_site table"),
    ("dna_only", "no protein chain found"),
    ("rna_only", "no protein chain found"),
    ("ligand_only", "no protein chain found"),
    ("water_only", "no protein chain found"),
    ("ca_only", "only CA atoms"),
])
def test_bad_structure_file(bad, name, message, tiny_onnx_model, workdir):
    line = assert_one_line_error(_scan(bad[name], tiny_onnx_model, workdir), message)
    assert bad[name].name in line
    assert list(workdir.iterdir()) == []
    assert_one_line_error(run_cli("tokens", bad[name], cwd=workdir), message)


@pytest.mark.parametrize("args,message", [
    (["--chain", "Z"], "chain Z not found in 1aki.cif (chains: A)"),
    (["--chain", "A", "--chain", "Q"], "chain Q not found"),
    (["--model-number", "2"], "model 2 requested, the file has 1"),
    (["--plddt-threshold", "high"], "invalid float value"),
    (["--method", "pll"], "invalid choice"),
    (["--batch-size", "many"], "invalid int value"),
    (["--heatmap", "map.bmp"], "use a .png, .svg or .pdf file name"),
    (["--frobnicate"], "unrecognized arguments"),
])
def test_bad_options(example_structure, tiny_onnx_model, workdir, args, message):
    assert_one_line_error(_scan(example_structure, tiny_onnx_model, workdir, *args), message)
    assert list(workdir.iterdir()) == []


def test_no_protein_chain_selected(test_data, tiny_onnx_model, workdir):
    glycan_chain = run_cli("scan", test_data / "foldseek_3di" / "1gya.cif", "--chain", "B",
                           "--model", tiny_onnx_model, "--csv", "s.csv", cwd=workdir)
    assert_one_line_error(glycan_chain, "chain B in 1gya.cif has no amino-acid residues with a CA atom")
    assert list(workdir.iterdir()) == []


def test_missing_inputs(tiny_onnx_model, workdir, example_structure):
    assert_one_line_error(_scan(workdir / "nothere.pdb", tiny_onnx_model, workdir), "no such file")
    assert_one_line_error(_scan(workdir, tiny_onnx_model, workdir), "is a folder, not a structure file")
    assert_one_line_error(_scan(example_structure, workdir / "nothere.onnx", workdir), "does not exist")
    assert_one_line_error(run_cli("score", example_structure, "--model", tiny_onnx_model,
                                  "--mutations-file", workdir / "none.txt", cwd=workdir), "no such mutations file")
    assert list(workdir.iterdir()) == []


# ---------------------------------------------------------------------------------------- unwritable output

def test_unwritable_outputs(example_structure, tiny_onnx_model, workdir):
    (workdir / "taken").mkdir()
    cases = [
        (["--csv", "missing/scores.csv"], "folder missing does not exist"),
        (["--csv", "ok.csv", "--json", "missing/scores.json"], "folder missing does not exist"),
        (["--json", "taken"], "it is a directory"),
        (["--summary-csv", "taken"], "it is a directory"),
        (["--csv", "ok.csv", "--heatmap", "missing/map.png"], "folder missing does not exist"),
    ]
    for args, message in cases:
        proc = run_cli("scan", example_structure, "--model", tiny_onnx_model, *args, cwd=workdir)
        assert_one_line_error(proc, message)
        assert sorted(p.name for p in workdir.iterdir()) == ["taken"], "a failed run wrote something"
    score = run_cli("score", example_structure, "--model", tiny_onnx_model, "--mutations", "K1A",
                    "--out", "missing/out.csv", cwd=workdir)
    assert_one_line_error(score, "folder missing does not exist")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_folder(example_structure, tiny_onnx_model, workdir):
    locked = workdir / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        proc = run_cli("scan", example_structure, "--model", tiny_onnx_model, "--csv", "locked/s.csv", cwd=workdir)
        assert_one_line_error(proc, "permission denied")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


# ------------------------------------------------------------------------------------------- bad models

@pytest.fixture(scope="module")
def bad_models(tmp_path_factory) -> dict[str, Path]:
    """ONNX files that are not SaProt exports: damaged bytes, other graphs, wrong shapes or types."""
    onnx = pytest.importorskip("onnx", reason="making ONNX graphs needs the onnx package")
    from onnx import TensorProto, helper

    out = tmp_path_factory.mktemp("bad-models")
    models: dict[str, Path] = {}
    models["random_bytes"] = out / "corrupt.onnx"
    models["random_bytes"].write_bytes(np.random.default_rng(3).bytes(20000))
    models["empty"] = out / "empty.onnx"
    models["empty"].write_bytes(b"")

    def save(name, nodes, inputs, outputs, initializers=()):
        graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
        path = out / f"{name}.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
        models[name] = path

    def table(rows, cols):
        values = np.random.default_rng(0).random((rows, cols), dtype=np.float32)
        return helper.make_tensor("table", TensorProto.FLOAT, [rows, cols], values.ravel().tolist())

    def ids(dtype=TensorProto.INT64):
        return [helper.make_tensor_value_info("input_ids", dtype, ["b", "t"]),
                helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "t"])]

    save("image_classifier", [helper.make_node("Relu", ["pixels"], ["probabilities"])],
         [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, [1, 3, 8, 8])],
         [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 3, 8, 8])])
    # an ESM-2-like model: the right input names, but logits over 33 tokens
    save("esm2_vocab", [helper.make_node("Gather", ["table", "input_ids"], ["logits"])], ids(),
         [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", "t", 33])], [table(446, 33)])
    # the right names, but one logit row per sequence instead of one per token
    axis = helper.make_tensor("axis", TensorProto.INT64, [1], [1])
    save("pooled_logits", [helper.make_node("Gather", ["table", "input_ids"], ["g"]),
                           helper.make_node("ReduceMean", ["g", "axis"], ["logits"], keepdims=1)], ids(),
         [helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)], [table(446, 446), axis])
    # the right names and shape, but int32 token ids
    save("int32_ids", [helper.make_node("Gather", ["table", "input_ids"], ["logits"])], ids(TensorProto.INT32),
         [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", "t", 446])], [table(446, 446)])
    return models


@pytest.mark.parametrize("name,message", [
    ("random_bytes", "not a loadable ONNX model"),
    ("empty", "not a loadable ONNX model"),
    ("image_classifier", "not a SaProt ONNX export"),
    ("esm2_vocab", "SaProt has 446"),
    ("pooled_logits", "is it a SaProt ONNX export?"),
    ("int32_ids", "is it a SaProt ONNX export?"),
])
def test_bad_model(bad_models, name, message, example_structure, workdir):
    assert_one_line_error(_scan(example_structure, bad_models[name], workdir), message)
    assert list(workdir.iterdir()) == []
    assert_one_line_error(_scan(example_structure, bad_models[name], workdir, "--method", "wt"), message)
    score = run_cli("score", example_structure, "--model", bad_models[name], "--mutations", "K1A",
                    "--out", "variants.csv", cwd=workdir)
    assert_one_line_error(score, message)
    assert list(workdir.iterdir()) == []
    if name in ("random_bytes", "empty", "image_classifier", "esm2_vocab"):
        assert_one_line_error(run_cli("models", "info", bad_models[name], cwd=workdir), message)


def test_model_given_as_folder_or_unknown_name(example_structure, tiny_hf_checkpoint, workdir):
    assert_one_line_error(_scan(example_structure, tiny_hf_checkpoint, workdir),
                          "is a folder, not an .onnx file; export it first: saprot-scan models export")
    line = assert_one_line_error(_scan(example_structure, "saprot-9000b", workdir), "unknown model 'saprot-9000b'")
    assert line.endswith("use one of structure-blend, blend, burial-blosum, learned, learned-structure, structure, "
                         "saprot-scan-default, saprot-35m, saprot-650m, saprot-1.3b, saprot-650m-if, an .onnx file, "
                         "or A+B for an ensemble")  # every scorer kind's names, the offline default first
    assert list(workdir.iterdir()) == []


def test_export_of_non_saprot_checkpoint(tmp_path, workdir):
    not_saprot = tmp_path / "esm2"
    not_saprot.mkdir()
    (not_saprot / "config.json").write_text(json.dumps({"model_type": "esm", "vocab_size": 33}))
    assert_one_line_error(run_cli("models", "export", not_saprot, "--out", "m.onnx", cwd=workdir),
                          "not a SaProt checkpoint")
    assert list(workdir.iterdir()) == []


# --------------------------------------------------------------------------------------------- bad mutations

@pytest.mark.parametrize("mutations,message", [
    ("A1G", "residue 1 is K, not A"),
    ("K999A", "chain A has no author residue 999 (author numbers 1..129)"),
    ("K1A:K1G", "mutated twice"),
    ("K1", "expected e.g. A23G"),
    ("K1B", "expected e.g. A23G"),
])
def test_bad_mutations(example_structure, tiny_onnx_model, workdir, mutations, message):
    proc = run_cli("score", example_structure, "--model", tiny_onnx_model, "--mutations", mutations,
                   "--out", "v.csv", cwd=workdir)
    assert_one_line_error(proc, message)
    assert list(workdir.iterdir()) == []


def test_score_needs_one_chain(test_data, tiny_onnx_model, workdir):
    proc = run_cli("score", test_data / "foldseek_3di" / "1igy.cif", "--model", tiny_onnx_model,
                   "--mutations", "D1A", cwd=workdir)
    assert_one_line_error(proc, "the structure has 4 protein chains (A, B, C, D); choose one with --chain")


# ----------------------------------------------------------------------------------- odd but valid files

@pytest.fixture(scope="module")
def odd(test_data, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("odd-valid")
    data = test_data / tf.FOLDSEEK_DIR_NAME
    lyso = tf.load_atoms(data / "1aki.cif")
    files = {"reference": data / "1aki.cif"}
    pdb_path = tf.write_pdb(lyso, out / "lyso.pdb")
    files["gzip_cif"] = tf.gzip_copy(data / "1aki.cif", out / "lyso.cif.gz")
    files["gzip_pdb"] = tf.gzip_copy(pdb_path, out / "lyso.pdb.gz")
    files["crlf_pdb"] = out / "crlf.pdb"
    files["crlf_pdb"].write_bytes(pdb_path.read_bytes().replace(b"\n", b"\r\n"))
    files["crlf_cif"] = out / "crlf.cif"
    files["crlf_cif"].write_bytes((data / "1aki.cif").read_bytes().replace(b"\n", b"\r\n"))
    files["selenomethionine"] = tf.write_pdb(tf.as_selenomethionine(lyso), out / "semet.pdb")
    files["insertion_codes"] = tf.write_pdb(tf.with_insertion_codes(lyso, {61: (60, "A"), 62: (60, "B")}),
                                            out / "icodes.pdb")
    files["no_element_columns"] = out / "old_style.pdb"
    files["no_element_columns"].write_text("".join(line[:66].rstrip() + "\n" for line in
                                                   pdb_path.read_text().splitlines(True)))
    return files


@pytest.mark.parametrize("name", ["gzip_cif", "gzip_pdb", "crlf_pdb", "crlf_cif", "selenomethionine",
                                  "insertion_codes", "no_element_columns"])
def test_odd_but_valid_files_give_the_same_tokens(odd, name, workdir):
    reference = run_cli("tokens", odd["reference"], cwd=workdir)
    proc = run_cli("tokens", odd[name], cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    if name == "selenomethionine":  # read as methionine, and said so (issue 21: never silent)
        assert proc.stderr.startswith("chain A: ") and "modified residue(s) read as their parent" in proc.stderr \
            and "MSE as M" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    else:
        assert proc.stderr == "", "valid files give no warnings"
    # the token columns are identical; the appended residues column shows each file's own author numbers
    first_four = [line.split("\t")[:4] for line in proc.stdout.splitlines()]
    assert first_four == [line.split("\t")[:4] for line in reference.stdout.splitlines()]
    residues = proc.stdout.splitlines()[1].split("\t")[4].split(",")
    expected = [str(n) for n in range(1, 130)]
    if name == "insertion_codes":
        expected[60:62] = ["60A", "60B"]
    assert residues == expected
    assert "\tKVFGRCELAAAMKRHGLDNYRGYSLGNWVCAAKFESNFNTQATNRNTDGSTDYGILQINSRWWCNDG" in proc.stdout


def test_insertion_codes_reach_the_csv(odd, tiny_onnx_model, workdir):
    proc = run_cli("scan", odd["insertion_codes"], "--model", tiny_onnx_model, "--method", "wt",
                   "--csv", "s.csv", "--quiet", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    rows = (workdir / "s.csv").read_text().splitlines()
    residues = list(dict.fromkeys(r.split(",")[2] for r in rows[1:]))
    assert residues[58:62] == ["59", "60", "60A", "60B"]
    assert [r for r in rows if r.startswith("A,61,")][0].split(",")[2:6] == ["60A", "R", "A", "R61A"]


def test_nmr_ensemble_scores_first_model(test_data, tiny_onnx_model, workdir):
    path = test_data / tf.FOLDSEEK_DIR_NAME / "1l2y.cif"
    proc = run_cli("scan", path, "--model", tiny_onnx_model, "--csv", "m1.csv", "--quiet", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("scan", path, "--model", tiny_onnx_model, "--csv", "m5.csv", "--model-number", "5", "--quiet",
                   cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    first, fifth = (workdir / "m1.csv").read_text(), (workdir / "m5.csv").read_text()
    assert len(first.splitlines()) == 1 + 20 * 19
    assert first != fifth  # other coordinates, other 3Di letters, other scores

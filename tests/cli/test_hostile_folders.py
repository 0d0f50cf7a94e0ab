"""Issue 27, items 7 and 8: batch folders, result caches, fitted models and settings passed between colleagues
or planted by a stranger. Each is read only where it belongs and as what it claims to be, or refused in one
line; never a read outside the folder, a delete through a link, an internal error or scores made of junk."""
from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from saprot_scan import cli
from saprot_scan.encoding.structure import read_structure
from test_core_bad_input import assert_one_line_error, run_cli

MODEL = "saprot-scan-default"


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------------------------------------- batch folders

@pytest.fixture(scope="module")
def batch_out(test_data, tmp_path_factory) -> Path:
    """A real batch output folder of one small structure (1l2y, 20 residues), made by the CLI."""
    pytest.importorskip("pyarrow", reason="batch output needs the batch extra (pyarrow)")
    out = tmp_path_factory.mktemp("batch") / "out"
    proc = run_cli("batch", test_data / "foldseek_3di" / "1l2y.cif", "--out", out, "--model", MODEL,
                   "--method", "wt", "--quiet", cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out


def _copy(batch_out: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(batch_out, out)
    return out


def _planted_part(out: Path, where: Path) -> Path:
    """A copy of the folder's part with every score set to 42, outside the folder."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    part = next((out / "scores").glob("part-*.parquet"))
    table = pq.read_table(part)
    table = table.set_column(table.schema.get_field_index("score"), "score",
                             pa.array([42.0] * table.num_rows, type=pa.float64()))
    where.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, where / part.name)
    return where / part.name


@pytest.mark.parametrize("style", ["absolute", "dotdot"])
def test_a_manifest_part_outside_the_folder_is_never_read(batch_out, tmp_path, style):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from saprot_scan import load_results
    from saprot_scan.errors import InputError

    out = _copy(batch_out, tmp_path)
    planted = _planted_part(out, tmp_path / "elsewhere")
    manifest = pq.read_table(out / "manifest.parquet")
    part = str(planted) if style == "absolute" else f"../../elsewhere/{planted.name}"
    manifest = manifest.set_column(manifest.schema.get_field_index("part"), "part",
                                   pa.array([part] * manifest.num_rows, type=pa.string()))
    pq.write_table(manifest, out / "manifest.parquet")
    with pytest.raises(InputError, match="not a file of its scores/ folder"):
        load_results(out, "1l2y")


def test_a_planted_manifest_log_line_with_a_foreign_part_is_ignored(batch_out, tmp_path):
    from saprot_scan import load_results

    out = _copy(batch_out, tmp_path)
    planted = _planted_part(out, tmp_path / "elsewhere")
    row = next(iter(json.loads(json.dumps(r)) for r in _manifest(out)))
    row["part"] = str(planted)
    with open(out / "manifest.log", "a") as handle:
        handle.write(json.dumps(row) + "\n")
    scores = load_results(out, "1l2y")[0].scores
    assert np.nanmax(scores) != 42.0  # the folder's own part, not the planted one


def _manifest(out: Path) -> list[dict]:
    from saprot_scan.batch import read_manifest

    return read_manifest(out).to_pylist()


def test_a_symlinked_scores_folder_is_refused_and_nothing_behind_it_is_deleted(test_data, tmp_path):
    pytest.importorskip("pyarrow", reason="batch output needs the batch extra (pyarrow)")
    victim = tmp_path / "victim"
    victim.mkdir()
    precious = victim / "part-20260101T000000-1-00001.parquet"
    precious.write_bytes(b"PAR1 the victim's own part PAR1")
    out = tmp_path / "out"
    out.mkdir()
    (out / "scores").symlink_to(victim, target_is_directory=True)
    proc = run_cli("batch", test_data / "foldseek_3di" / "1l2y.cif", "--out", out, "--model", MODEL,
                   "--method", "wt", "--quiet", cwd=tmp_path)
    assert_one_line_error(proc, "scores/ is a symbolic link")
    assert precious.read_bytes() == b"PAR1 the victim's own part PAR1"


def test_list_valued_keys_in_manifest_log_are_skipped_on_resume(batch_out, test_data, tmp_path):
    out = _copy(batch_out, tmp_path)
    bad = {"structure_id": ["1l2y"], "model_sha256": {"x": 1}, "method": "wt", "precision": ["fp32"],
           "status": "ok", "part": "part-x.parquet"}
    with open(out / "manifest.log", "a") as handle:
        handle.write(json.dumps(bad) + "\n" + json.dumps([1, 2]) + "\n")
    proc = run_cli("batch", test_data / "foldseek_3di" / "1l2y.cif", "--out", out, "--model", MODEL,
                   "--method", "wt", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [r["status"] for r in _manifest(out)] == ["ok"]


# ---------------------------------------------------------------------------------------------- result cache

def _npy_with_header(path: Path, shape: tuple, dtype: str = "<f8") -> None:
    """An .npy file declaring ``shape`` and holding a few bytes (np.load would allocate the declared size)."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        handle.write(b"\0" * 64)


JUNK = {
    "strings": lambda path, shape: np.save(path, np.full(shape, "x")),
    "complex": lambda path, shape: np.save(path, np.full(shape, 7 + 1j)),
    "bool": lambda path, shape: np.save(path, np.ones(shape, dtype=bool)),
    "nan": lambda path, shape: np.save(path, np.full(shape, np.nan)),
    "inf": lambda path, shape: np.save(path, np.full(shape, np.inf)),
    "huge-shape": lambda path, shape: _npy_with_header(path, (10**12, 20)),
    "one-dimensional": lambda path, shape: np.save(path, np.zeros(shape[0] * 20)),
    "not-npy": lambda path, shape: path.write_bytes(b"\x93NUMPY\x09\x00{'descr': '<f8'"),
}


@pytest.mark.parametrize("junk", sorted(JUNK))
def test_a_junk_cache_entry_is_a_miss_and_recomputed(junk, example_structure, tiny_onnx_model, tmp_path,
                                                     monkeypatch, capsys):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))
    argv = ["scan", str(example_structure), "--model", str(tiny_onnx_model), "--method", "wt", "--quiet"]
    assert cli.main([*argv, "--csv", str(tmp_path / "first.csv")]) == 0
    entries = list((tmp_path / "cache" / "results").glob("*.npy"))
    assert len(entries) == 1
    JUNK[junk](entries[0], (129, 20))
    capsys.readouterr()
    assert cli.main([*argv, "--csv", str(tmp_path / "second.csv")]) == 0
    assert "result cache" not in capsys.readouterr().err
    assert _rows(tmp_path / "second.csv") == _rows(tmp_path / "first.csv")
    assert np.load(entries[0]).shape == (129, 20)  # the junk was replaced by the scores


# ---------------------------------------------------------------------------------------------- fitted models

def _fitted_file(path: Path, example_structure: Path, weights: list) -> Path:
    chain = read_structure(example_structure)[0]
    data = {"kind": "saprot-scan fitted model", "format": 1, "chain": "A", "sequence": chain.sequence,
            "residues": [r.label for r in chain.residue_ids], "zero_shot": {},
            "model": {"alpha": 1.0, "intercept": 0.0, "zero_shot_coef": 1.0, "onehot_weights": weights},
            "labels": {"count": 10, "source": "hand"}, "cross_validation": {}}
    path.write_text(json.dumps(data))  # json writes NaN and Infinity as Python reads them back
    return path


@pytest.mark.parametrize("weights, says", [
    ([[0, "A", 3.0]], "position 0"),
    ([[-5, "A", 3.0]], "position -5"),
    ([[130, "A", 3.0]], "position 130"),
    ([[5, "A", float("nan")]], "nan"),
    ([[5, "A", float("inf")]], "inf"),
    ([[5, "A", 1.0], [6, "G", float("-inf")]], "inf"),
], ids=["zero", "negative", "past-the-end", "nan", "infinity", "minus-infinity"])
def test_a_fitted_model_with_impossible_positions_or_weights_is_refused(weights, says, example_structure, tmp_path):
    fitted = _fitted_file(tmp_path / "fitted.json", example_structure, weights)
    proc = run_cli("scan", example_structure, "--fitted", fitted, "--csv", tmp_path / "out.csv", cwd=tmp_path)
    line = assert_one_line_error(proc, "fitted.json")
    assert says in line.lower(), line
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("field", ["alpha", "intercept", "zero_shot_coef"])
def test_a_fitted_model_with_a_non_finite_coefficient_is_refused(field, example_structure, tmp_path):
    fitted = _fitted_file(tmp_path / "fitted.json", example_structure, [[5, "A", 1.0]])
    data = json.loads(fitted.read_text())
    data["model"][field] = float("nan")
    fitted.write_text(json.dumps(data))
    proc = run_cli("scan", example_structure, "--fitted", fitted, "--csv", tmp_path / "out.csv", cwd=tmp_path)
    assert_one_line_error(proc, "not a finite number")


def test_a_good_hand_made_fitted_model_still_applies(example_structure, tmp_path):
    fitted = _fitted_file(tmp_path / "fitted.json", example_structure, [[5, "A", 2.5]])
    proc = run_cli("scan", example_structure, "--fitted", fitted, "--csv", tmp_path / "out.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------------------------------------- settings

def test_a_settings_file_with_a_list_as_model_is_ignored_with_one_warning(example_structure, tmp_path):
    config = tmp_path / "config" / "saprot-scan" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"model": ["saprot-35m", "x"]}))
    env_before = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    try:
        proc = run_cli("scan", example_structure, "--csv", tmp_path / "out.csv", cwd=tmp_path)
    finally:
        os.environ["XDG_CONFIG_HOME"] = env_before
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "not a model name or path" in warnings[0], proc.stderr
    assert "Traceback" not in proc.stderr and _rows(tmp_path / "out.csv")


def test_models_use_saves_only_a_loadable_model(tmp_path, tiny_onnx_model):
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n")
    env_before = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    try:
        proc = run_cli("models", "use", passwd, cwd=tmp_path)
        assert_one_line_error(proc, "not a loadable ONNX model")
        assert not (tmp_path / "config" / "saprot-scan" / "config.json").exists()
        proc = run_cli("models", "use", tiny_onnx_model, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        saved = json.loads((tmp_path / "config" / "saprot-scan" / "config.json").read_text())
        assert saved["model"] == str(Path(tiny_onnx_model).resolve())
    finally:
        os.environ["XDG_CONFIG_HOME"] = env_before


def test_manifest_log_lines_with_wrong_types_are_skipped_on_resume(batch_out, test_data, tmp_path):
    """A count given as text, or a part outside the folder, in manifest.log: the line is not a run's, so the
    structure is scored again and the run folds a manifest that reads."""
    out = _copy(batch_out, tmp_path)
    (row,) = _manifest(out)
    with open(out / "manifest.log", "a") as handle:
        handle.write(json.dumps(dict(row, chains="many", structure_id="other")) + "\n")
        handle.write(json.dumps(dict(row, part="../x/part-1.parquet", structure_id="third")) + "\n")
    proc = run_cli("batch", test_data / "foldseek_3di" / "1l2y.cif", "--out", out, "--model", MODEL,
                   "--method", "wt", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [r["structure_id"] for r in _manifest(out)] == ["1l2y"]

"""CLI access to the checked int8 copy: export --int8, models quantize, scan --precision."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from saprot_scan.cli import main

pytestmark = pytest.mark.slow  # int8 copies, exports or the full default model: minutes on 2 cores


def _scan_scores(capsys, structure, model, precision):
    assert main(["scan", str(structure), "--model", str(model), "--precision", precision, "--no-cache"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    return np.array([float(r["score"]) for r in rows]), captured.err


def test_export_with_int8_then_scan_with_each_precision(tiny_hf_checkpoint, example_structure, tmp_path, capsys):
    out = tmp_path / "tiny.onnx"
    assert main(["models", "export", str(tiny_hf_checkpoint), "--out", str(out), "--int8"]) == 0
    printed = capsys.readouterr().out
    assert (tmp_path / "tiny.int8.onnx").is_file()
    assert "Spearman" in printed
    fp32, err32 = _scan_scores(capsys, example_structure, out, "fp32")
    int8, err8 = _scan_scores(capsys, example_structure, out, "int8")
    assert "fp32 on CPU" in err32 and "int8 on CPU" in err8
    assert fp32.shape == int8.shape == (129 * 19,)
    assert not np.array_equal(fp32, int8)  # really another model ran
    assert np.corrcoef(fp32, int8)[0, 1] > 0.95


def test_models_quantize_an_onnx_file(tiny_onnx_model, tmp_path, capsys):
    copy = tmp_path / "m.onnx"
    copy.write_bytes(tiny_onnx_model.read_bytes())
    assert main(["models", "quantize", str(copy)]) == 0
    assert (tmp_path / "m.int8.onnx").is_file()
    assert "wrote" in capsys.readouterr().out


def test_int8_requested_without_a_copy_is_one_clear_error(tiny_onnx_model, example_structure, tmp_path, capsys):
    copy = tmp_path / "alone.onnx"
    copy.write_bytes(tiny_onnx_model.read_bytes())
    assert main(["scan", str(example_structure), "--model", str(copy), "--precision", "int8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "int8" in err[0]

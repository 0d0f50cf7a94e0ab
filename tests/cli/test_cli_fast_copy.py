"""Issue 25, item 1: on a machine without a CUDA GPU, ``models import`` and ``models fetch`` make the checked
int8 copy unless told not to (``--no-int8``) and say so; a model cached without one gets it on its first CPU
scan, once, with a line saying what happens and how long it takes; the scan then says it runs int8.
Every command is the real CLI in its own process, where torch cannot be imported (a core[fetch] install)."""
from __future__ import annotations

import json

import pytest

from support.data import structure
from support.no_torch import run_without_torch

pytest.importorskip("onnx", reason="models import needs the fetch extra")
pytestmark = pytest.mark.skipif(__import__("saprot_scan.models.fast_copy", fromlist=["x"]).cuda_gpu_here(),
                                reason="a CUDA GPU answers here: the default copy is fp16")

NAME = "saprot-35m"


def _scan(cache):
    return run_without_torch(["scan", structure("1aki"), "--model", NAME, "--method", "wt", "--residues", "1-3",
                              "--no-cache"], cache)


def test_import_makes_the_int8_copy_and_the_scan_uses_it(tiny_hf_checkpoint, tmp_path):
    cache = tmp_path / "cache"
    imported = run_without_torch(["models", "import", tiny_hf_checkpoint, "--name", NAME, "--any-shape"], cache)
    assert imported.returncode == 0, imported.stderr
    assert "no CUDA GPU here: making the checked int8 copy that CPU scans use (--no-int8 skips it)" in imported.stderr
    assert "int8 copy kept: per-position Spearman mean" in imported.stderr
    folder = cache / "models" / NAME
    assert (folder / f"{NAME}.int8.onnx").is_file()
    assert not (cache / "models" / f".{NAME}.work").exists()
    scan = _scan(cache)
    assert scan.returncode == 0, scan.stderr
    assert "int8 on CPU" in scan.stderr and "no int8 copy yet" not in scan.stderr


def test_no_int8_then_the_first_cpu_scan_makes_it_once(tiny_hf_checkpoint, tmp_path):
    cache = tmp_path / "cache"
    imported = run_without_torch(["models", "import", tiny_hf_checkpoint, "--name", NAME, "--any-shape", "--no-int8"],
                                 cache)
    assert imported.returncode == 0, imported.stderr
    assert "int8 copy" not in imported.stderr
    folder = cache / "models" / NAME
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", f"{NAME}.onnx"]

    first = _scan(cache)  # stands for a model cached before issue 25
    assert first.returncode == 0, first.stderr
    lines = first.stderr.splitlines()
    making = [line for line in lines if "no int8 copy yet" in line]
    assert len(making) == 1 and "making it once now, about" in making[0] and " s; CPU scans use it" in making[0]
    assert any(line.startswith(f"saprot-scan: int8 copy of {NAME} made in ") for line in lines)
    assert "int8 on CPU" in first.stderr
    assert (folder / f"{NAME}.int8.onnx").is_file()

    second = _scan(cache)
    assert second.returncode == 0 and "int8 on CPU" in second.stderr
    assert "no int8 copy yet" not in second.stderr


def test_explicit_fp32_scan_makes_no_copy(tiny_hf_checkpoint, tmp_path):
    cache = tmp_path / "cache"
    assert run_without_torch(["models", "import", tiny_hf_checkpoint, "--name", NAME, "--any-shape", "--no-int8"],
                             cache).returncode == 0
    scan = run_without_torch(["scan", structure("1aki"), "--model", NAME, "--precision", "fp32", "--method", "wt",
                              "--residues", "1-2", "--no-cache"], cache)
    assert scan.returncode == 0 and "fp32 on CPU" in scan.stderr
    assert not (cache / "models" / NAME / f"{NAME}.int8.onnx").exists()


def test_int8_and_no_int8_together_are_refused(tmp_path):
    run = run_without_torch(["models", "import", tmp_path, "--int8", "--no-int8"], tmp_path / "cache")
    assert run.returncode == 2 and "not allowed with argument" in run.stderr

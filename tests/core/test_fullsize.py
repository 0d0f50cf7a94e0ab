"""Issue 18, item 2: every registry architecture at its real size (`make test-fullsize`; minutes and several GB).

A random-weight checkpoint with the exact config of SaProt 35M / 650M (the 650M one pickled, as SaProt's hub
repos ship it) goes through the real command line, ``models import --fp16 --int8``, where torch cannot be
imported; then residues of a real chain (1AKI) are scanned with each copy and held to transformers'
EsmForMaskedLM: fp32 scores within 1e-4, fp16 and int8 ranking like them as the runtime demands of a copy.
"""
from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import numpy as np
import pytest

from support.data import structure

pytestmark = pytest.mark.fullsize
torch = pytest.importorskip("torch", reason="the reference is transformers' EsmForMaskedLM (test extra)")

RESIDUES = list(range(6))  # residues 1-6 of 1AKI, masked one at a time, the whole chain as context


@pytest.fixture(scope="module", params=["saprot-35m", "saprot-650m"])
def imported(request, tmp_path_factory):
    """(name, cache folder, checkpoint folder) after ``models import`` without torch."""
    from saprot_scan.models.architectures import random_checkpoint
    from support.no_torch import run_without_torch

    name = request.param
    root = tmp_path_factory.mktemp(name)
    # $SAPROT_SCAN_FULLSIZE_DIR keeps the checkpoints between runs (bench/fullsize.py makes the same ones there)
    kept = os.environ.get("SAPROT_SCAN_FULLSIZE_DIR")
    checkpoint = Path(kept) / name / "checkpoint" if kept else root / "checkpoint"
    if not (checkpoint / "config.json").is_file():
        random_checkpoint(checkpoint, name, seed=3, pickled=name == "saprot-650m")
    proc = run_without_torch(["models", "import", checkpoint, "--name", name, "--fp16", "--int8"], root / "cache",
                             timeout=3600)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    return name, root / "cache" / "models" / name, checkpoint


def _reference_scores(checkpoint, chain) -> np.ndarray:
    from support.core_reference import load_hf_model, masked_marginal

    from saprot_scan.pipeline import chain_tokens

    tokens = chain_tokens(chain, "off", 70.0, "auto")
    model = load_hf_model(checkpoint)
    try:
        return masked_marginal(model, tokens.aa, tokens.struct, positions=RESIDUES)
    finally:
        del model
        gc.collect()


def _scores(path, chain, precision: str) -> np.ndarray:
    from saprot_scan.backends.onnx import load_model_file
    from saprot_scan.pipeline import scan_residues

    model = load_model_file(path, device="cpu", precision=precision)
    assert model.precision == precision
    return scan_residues(chain, RESIDUES, model, plddt_mask="off", use_cache=False).scores


def test_fullsize_import_and_scans_match_pytorch(imported):
    from saprot_scan.backends.copies import MIN_INT8_SPEARMAN
    from saprot_scan.encoding.structure import read_structure
    from saprot_scan.scoring.agreement import compare_scores

    name, folder, checkpoint = imported
    manifest = json.loads((folder / "manifest.json").read_text())
    (chain,) = read_structure(structure("1aki"))
    want = _reference_scores(checkpoint, chain)
    fp32 = _scores(folder / manifest["onnx"], chain, "fp32")
    assert np.abs(fp32 - want).max() <= 1e-4
    wt = "".join(chain.sequence[i] for i in RESIDUES)
    for precision, path in (("int8", folder / f"{name}.int8.onnx"), ("fp16", folder / manifest["onnx_fp16"])):
        got = _scores(path, chain, precision)
        agreement = compare_scores(want, got, wt)
        print(name, precision, agreement.line())
        assert agreement.mean_spearman >= MIN_INT8_SPEARMAN, agreement.line()


PEAK_SCRIPT = """
import sys
from saprot_scan.cli import main
code = main(sys.argv[1:])
peak = next(line for line in open('/proc/self/status') if line.startswith('VmHWM')).split()[1]
print(f'peak_kb {peak}', file=sys.stderr)
sys.exit(code)
"""


def test_fullsize_int8_step_in_bounded_memory(imported):
    """Issue 25, item 2: the int8 copy is written one tensor at a time, so its peak resident memory (this
    process's own high-water mark, checks included) stays within 1.5x the fp32 weights (650M: <= 4 GB;
    onnxruntime's quantize_dynamic peaked at 8.03 GB), and at most 1 GB for a model whose weights are smaller."""
    import subprocess
    import sys

    name, folder, _ = imported
    manifest = json.loads((folder / "manifest.json").read_text())
    fp32 = folder / manifest["onnx"]
    data = fp32.with_name(fp32.name + ".data")
    weights = fp32.stat().st_size + (data.stat().st_size if data.is_file() else 0)
    proc = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, "models", "quantize", str(fp32)], capture_output=True,
                          text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr
    peak = int(proc.stderr.strip().splitlines()[-1].split()[1]) * 1024
    print(name, f"int8 step peak {peak / 1e9:.2f} GB for {weights / 1e9:.2f} GB of fp32 weights")
    assert peak <= max(1.5 * weights, 1e9)
    assert peak <= 4e9

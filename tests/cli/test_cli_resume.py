"""Issue 25 (3, 4): ``scan`` says how long it will take before it starts and the time left while it runs; a Ctrl-C
keeps the residues a masked scan finished (exit 130), and the same command resumes from them, computing only
the rest, to the scores of an uninterrupted scan. Real CLI processes, a real SIGINT, the tiny real model."""
from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys

import pytest

ESTIMATE = re.compile(r"about \d+(\.\d)? (s|min|h) on this machine \(tiny, fp32, (\d+) residues")


def _env(cache) -> dict:
    return dict(os.environ, SAPROT_SCAN_CACHE=str(cache), SAPROT_SCAN_THREADS="1", OMP_NUM_THREADS="1")


def _scan(structure, model, out, *extra) -> list[str]:
    return [sys.executable, "-m", "saprot_scan", "scan", str(structure), "--model", str(model), "--csv", str(out),
            *map(str, extra)]


def _scores(path) -> dict:
    with open(path, newline="") as handle:
        return {row["mutant"]: float(row["score"]) for row in csv.DictReader(handle)}


@pytest.fixture
def long_chain(test_data):
    """Chain E of 4ZXB: 800 residues, so a masked scan at one residue per run lasts long enough to interrupt."""
    return test_data / "foldseek_3di" / "4zxb.cif"


def test_ctrl_c_keeps_the_finished_residues_and_the_rerun_resumes(long_chain, tiny_onnx_model, tmp_path):
    cache = tmp_path / "cache"
    command = _scan(long_chain, tiny_onnx_model, tmp_path / "resumed.csv", "--chain", "E", "--batch-size", "1")
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=_env(cache))
    seen = []
    for line in proc.stderr:  # interrupt at the first progress line: a tenth of the chain is done
        seen.append(line)
        if re.match(r"chain E: \d+/800 residues, about .* left", line):
            proc.send_signal(signal.SIGINT)
            break
    seen.append(proc.stderr.read())
    assert proc.wait(timeout=120) == 130, "".join(seen)
    first = "".join(seen)
    assert ESTIMATE.search(first) and ESTIMATE.search(first).group(3) == "800", first
    assert first.index("on this machine") < first.index("/800 residues"), "the estimate comes before the work"
    kept = re.search(r"chain E: interrupted after (\d+) of 800 residues; kept in the result cache", first)
    assert kept and 0 < int(kept.group(1)) < 800, first
    assert first.rstrip().endswith("saprot-scan: interrupted") and "Traceback" not in first
    assert not (tmp_path / "resumed.csv").exists(), "an interrupted scan writes no output file"
    assert list((cache / "results").glob("*.partial.npy")), "the finished residues are in the result cache"

    rerun = subprocess.run(command, capture_output=True, text=True, env=_env(cache), timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    reused = int(kept.group(1))
    assert f"800 residues, {reused} reused from a stopped scan)" in rerun.stderr, rerun.stderr
    assert f"{reused} of 800 residues reused from a stopped scan (result cache)" in rerun.stderr
    assert not list((cache / "results").glob("*.partial.npy")), "the whole entry replaces the partial one"

    whole = subprocess.run(_scan(long_chain, tiny_onnx_model, tmp_path / "whole.csv", "--chain", "E", "--no-cache"),
                           capture_output=True, text=True, env=_env(tmp_path / "other"), timeout=300)
    assert whole.returncode == 0, whole.stderr
    resumed, expected = _scores(tmp_path / "resumed.csv"), _scores(tmp_path / "whole.csv")
    assert resumed.keys() == expected.keys() and len(expected) > 700 * 19
    for mutant, value in expected.items():
        assert resumed[mutant] == pytest.approx(value, abs=1e-4), mutant


def test_estimate_first_then_calibration_is_reused(example_structure, tiny_onnx_model, tmp_path):
    cache = tmp_path / "cache"
    command = _scan(example_structure, tiny_onnx_model, tmp_path / "s.csv", "--no-cache")
    first = subprocess.run(command, capture_output=True, text=True, env=_env(cache), timeout=300)
    assert first.returncode == 0, first.stderr
    assert "timing tiny (fp32) on this machine once" in first.stderr
    match = ESTIMATE.search(first.stderr)
    assert match and match.group(3) == "129", first.stderr
    assert first.stderr.index("on this machine (tiny") < first.stderr.index("129 residues, masked-marginal")
    assert (cache / "calibration.json").is_file()
    second = subprocess.run(command, capture_output=True, text=True, env=_env(cache), timeout=300)
    assert second.returncode == 0 and "timing tiny" not in second.stderr, second.stderr
    assert ESTIMATE.search(second.stderr), second.stderr


def test_batch_says_its_estimate_before_scoring(example_structure, tiny_onnx_model, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "saprot_scan", "batch", str(example_structure), "--out",
                           str(tmp_path / "out"), "--model", str(tiny_onnx_model)],
                          capture_output=True, text=True, env=_env(tmp_path / "cache"), timeout=300)
    assert proc.returncode == 0, proc.stderr
    line = re.search(r"batch: about \d+ (s|min|h) on this machine \(tiny, fp32, 1 structure of 129 residues "
                     r"on average\)", proc.stderr)
    assert line and proc.stderr.index(line.group(0)) < proc.stderr.index("batch: finished"), proc.stderr

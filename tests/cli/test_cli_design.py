"""Issue 14, item 5: `saprot-scan design`: SaProt's inverse-folding reading (every amino acid hidden,
3Di kept), held to a plain PyTorch pass of the same tiny checkpoint (tests/support/core_reference.py)."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from saprot_scan import cli
from saprot_scan.encoding.structure import read_structure
from support import core_reference as ref
from test_core_bad_input import assert_one_line_error, run_cli


@pytest.fixture(autouse=True)
def fresh_result_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))


def test_design_matches_pytorch(example_structure, tiny_onnx_model, torch_model, tmp_path, capsys):
    from saprot_scan.encoding.plddt import chain_tokens

    (chain,) = read_structure(example_structure)
    struct = chain_tokens(chain, "off", backend="embedded").struct
    assert cli.main(["design", str(example_structure), "--model", str(tiny_onnx_model), "--3di", "embedded",
                     "--plddt-mask", "off", "--csv", str(tmp_path / "d.csv"), "--fasta", str(tmp_path / "d.fa"),
                     "--heatmap", str(tmp_path / "d.svg")]) == 0
    err = capsys.readouterr().err
    masked = [0] + [ref.INDEX["#" + s.lower()] for s in struct] + [2]
    log_p = ref._log_p_aa(torch_model, masked, list(range(len(chain))))
    with open(tmp_path / "d.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(chain)
    want_native = np.exp(log_p[np.arange(len(chain)), [ref.TWENTY.index(a) for a in chain.sequence]])
    assert [float(r["p_native"]) for r in rows] == pytest.approx(list(want_native), abs=1e-5)
    designed = "".join(ref.TWENTY[k] for k in np.argmax(log_p, axis=1))
    assert "".join(r["designed"] for r in rows) == designed
    recovery = np.mean([a == b for a, b in zip(designed, chain.sequence)])
    assert f"native sequence recovery {100 * recovery:.1f}%" in err
    assert (tmp_path / "d.fa").read_text().split("\n")[1] == designed
    assert (tmp_path / "d.svg").read_text().lstrip().startswith("<?xml")
    assert "far better designs" not in err  # only said of the embedded default


def test_design_says_a_saprot_model_designs_better(example_structure, tmp_path):
    proc = run_cli("design", example_structure, "--model", "default", "--csv", "d.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "SaProt models give far better designs" in proc.stderr


def test_design_needs_a_language_model(example_structure, tmp_path):
    """A structure scorer (the offline default structure-blend) has no amino-acid distribution to design from."""
    proc = run_cli("design", example_structure, "--csv", "d.csv", cwd=tmp_path)  # no model named: structure-blend
    line = assert_one_line_error(proc, "design needs a SaProt-format language model; structure-blend scores")
    assert "Offline: --model saprot-scan-default" in line  # the model that works here, without a download
    assert list(tmp_path.iterdir()) == []

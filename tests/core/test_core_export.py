"""Issue 2, items 4 (CLI part) and 5 (batched with padding): ONNX export of a SaProt-format checkpoint.

The checkpoint is the session's tiny random EsmForMaskedLM; exports go through the core's exporter and
the `saprot-scan models export` command, and are run by onnxruntime.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from saprot_scan import cli
from saprot_scan.errors import InputError
from saprot_scan.backends.onnx import load_model

torch = pytest.importorskip("torch", reason="export needs the test extra (torch)")


@pytest.fixture(scope="module")
def hf_model(tiny_hf_checkpoint):
    from transformers import EsmForMaskedLM

    torch.set_num_threads(1)
    return EsmForMaskedLM.from_pretrained(str(tiny_hf_checkpoint), attn_implementation="eager",
                                          dtype=torch.float32).eval()


@pytest.fixture(scope="module")
def cli_exports(tiny_hf_checkpoint, tmp_path_factory):
    """fp32 and fp16 exports made by the command line, with what it printed."""
    out = tmp_path_factory.mktemp("exports")
    made = {}
    for name, extra in (("fp32", []), ("fp16", ["--fp16"])):
        path = out / f"tiny-{name}.onnx"
        import contextlib
        import io

        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            rc = cli.main(["models", "export", str(tiny_hf_checkpoint), "--out", str(path)] + extra)
        made[name] = (rc, path, stdout.getvalue())
    return made


def test_export_report(cli_exports):
    """`models export` prints export_onnx's report: the max logit difference to PyTorch and the hash."""
    from saprot_scan.models.export import FORMAT_TAG
    from saprot_scan.models.hashing import sha256_file

    rc, path, printed = cli_exports["fp32"]
    assert rc == 0
    match = re.fullmatch(r"wrote (\S+) \(sha256 ([0-9a-f]{64})\); max \|logit - reference\| = ([0-9.e+-]+) "
                         r"\(([0-9.e+-]+) of the logit scale ([0-9.e+-]+)\); "
                         r"max log-probability-difference error = ([0-9.e+-]+)\n", printed)
    assert match, printed
    assert match.group(1) == str(path) and match.group(2) == sha256_file(path)
    assert float(match.group(3)) <= 1e-4
    assert float(match.group(4)) == pytest.approx(float(match.group(3)) / float(match.group(5)), rel=0.02)
    assert float(match.group(6)) <= 1e-3  # the tiny model: far inside the limit (2e-2)
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny-fp16.onnx", "tiny-fp32.onnx"], \
        "no temporary export files left"
    model = load_model(str(path), device="cpu")
    meta = model.session.get_modelmeta().custom_metadata_map
    assert meta["saprot_scan.format"] == FORMAT_TAG and meta["saprot_scan.vocab_size"] == "446"
    assert model.precision == "fp32"


def test_export_refuses_bad_destinations_and_folders(tiny_hf_checkpoint, tmp_path):
    from saprot_scan.models.export import export_onnx

    with pytest.raises(InputError, match="does not exist"):
        export_onnx(tiny_hf_checkpoint, tmp_path / "missing" / "m.onnx")
    with pytest.raises(InputError, match="no config.json"):
        export_onnx(tmp_path, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_padded_batch_equals_pytorch(tiny_onnx_model, hf_model):
    """A batch of different lengths, padded: every real position equals PyTorch, and equals that
    sequence run alone (the attention mask really hides the padding)."""
    from saprot_scan.models.export import sample_batch
    from support.core_reference import torch_logits

    ids, mask = sample_batch(length=30, batch=4, seed=5)
    lengths = mask.sum(axis=1)
    assert len(set(lengths.tolist())) == 4 and (ids[mask == 0] == 1).all()
    model = load_model(str(tiny_onnx_model), device="cpu")
    got = model.logits(ids, mask)
    want = torch_logits(hf_model, ids, mask)
    assert got.shape == (4, 32, 446)
    real = mask.astype(bool)
    assert np.abs(got[real] - want[real]).max() <= 1e-4
    for row, n in enumerate(lengths):
        alone = model.logits(ids[row:row + 1, :n], mask[row:row + 1, :n])[0]
        assert np.abs(alone - got[row, :n]).max() <= 1e-4


def test_cli_export_fp32(cli_exports, hf_model):
    rc, path, printed = cli_exports["fp32"]
    assert rc == 0 and path.is_file()
    from saprot_scan.models.export import sample_batch
    from support.core_reference import torch_logits

    ids, mask = sample_batch(length=20, batch=3, seed=9)
    got = load_model(str(path), device="cpu").logits(ids, mask)
    real = mask.astype(bool)
    assert np.abs(got[real] - torch_logits(hf_model, ids, mask)[real]).max() <= 1e-4


def test_cli_export_fp16_loads_and_runs(cli_exports, example_structure, monkeypatch, tmp_path):
    rc, path, printed = cli_exports["fp16"]
    assert rc == 0 and path.is_file() and "max |logit - reference|" in printed
    fp16 = load_model(str(path), device="cpu")
    assert fp16.precision == "fp16"
    from saprot_scan.pipeline import scan_chain
    from saprot_scan.encoding.structure import read_structure

    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path))
    (chain,) = read_structure(example_structure)
    half = scan_chain(chain, fp16, method="wt", plddt_mask="off", backend="embedded")
    full = scan_chain(chain, load_model(str(cli_exports["fp32"][1]), device="cpu"), method="wt",
                      plddt_mask="off", backend="embedded")
    assert np.isfinite(half.scores).all()
    assert np.corrcoef(half.scores.ravel(), full.scores.ravel())[0, 1] > 0.99
    assert np.abs(half.scores - full.scores).max() < 0.1


def test_models_info(cli_exports, tiny_onnx_model, capsys):
    assert cli.main(["models", "info", str(tiny_onnx_model)]) == 0
    info = dict(line.split("\t", 1) for line in capsys.readouterr().out.strip().split("\n"))
    from saprot_scan.models.export import FORMAT_TAG
    from saprot_scan.models.hashing import sha256_file

    assert info["name"] == "tiny" and info["precision"] == "fp32"
    assert info["sha256"] == sha256_file(tiny_onnx_model)
    assert info["saprot_scan.format"] == FORMAT_TAG and info["saprot_scan.vocab_size"] == "446"
    assert cli.main(["models", "info", str(cli_exports["fp16"][1])]) == 0
    assert "precision\tfp16" in capsys.readouterr().out


def test_models_info_describes_a_precision_or_names_the_command_that_makes_it(tiny_onnx_model, capsys):
    assert cli.main(["models", "info", str(tiny_onnx_model), "--precision", "fp32"]) == 0
    info = dict(line.split("\t", 1) for line in capsys.readouterr().out.strip().split("\n"))
    assert info["precision"] == "fp32" and info["used on"].startswith("CPU")
    assert cli.main(["models", "info", str(tiny_onnx_model), "--precision", "int8"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f"saprot-scan: error: no int8 copy of tiny.onnx; make one with: saprot-scan models quantize "
                     f"{tiny_onnx_model}")


def test_export_tells_its_stages_to_a_viewer(tiny_hf_checkpoint, tmp_path):
    """What a viewer's status line shows during an export: one line per stage, the weights with their size."""
    from saprot_scan import Stages, export_onnx

    lines: list[str] = []
    export_onnx(tiny_hf_checkpoint, tmp_path / "m.onnx", stages=Stages(None, sink=lines.append))
    assert lines[0] == "reading hf (2 layers x 32) and building the fp32 graph"
    assert re.fullmatch(r"writing fp32 weights \(\d+\.\d KB\)", lines[1])
    assert lines[-1].startswith("check passed: ") and len(lines) == 5


def test_viewers_export_makes_the_copy_this_machine_scans_with(tiny_hf_checkpoint, tmp_path):
    """Issue 25, item 1, for the viewers' Export buttons: without a CUDA GPU the file gets its checked int8 copy
    beside it (scans of the file on the CPU use it); int8=False makes none."""
    from saprot_scan import export_for_scans
    from saprot_scan.models.fast_copy import cuda_gpu_here

    if cuda_gpu_here():
        pytest.skip("a CUDA GPU answers here: the copy made by default is the fp16 one, not int8")

    lines: list[str] = []
    report = export_for_scans(tiny_hf_checkpoint, tmp_path / "m.onnx", lines.append)
    assert report["int8_path"] == str(tmp_path / "m.int8.onnx") and (tmp_path / "m.int8.onnx").is_file()
    assert "making the checked int8 copy beside it, which scans on this CPU use" in lines
    assert load_model(str(tmp_path / "m.onnx"), device="cpu").precision == "int8"

    report = export_for_scans(tiny_hf_checkpoint, tmp_path / "plain.onnx", lines.append, int8=False)
    assert report["int8_path"] is None and not (tmp_path / "plain.int8.onnx").exists()

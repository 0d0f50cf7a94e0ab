"""``models fetch``: offline failure, unknown names, and the hash-check/export/cache path on a local "hub" folder.

No test touches the network: the offline tests switch the hub off or point it at a closed localhost port,
and the install path runs on the tiny real checkpoint from conftest, exported by the real exporter.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from saprot_scan.errors import InputError, ModelError

pytest.importorskip("huggingface_hub", reason="models fetch needs the fetch extra (huggingface_hub)")
torch = pytest.importorskip("torch", reason="models fetch needs the test extra (torch)")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A private, empty saprot-scan cache for one test."""
    root = tmp_path / "cache"
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(root))
    return root


def _cli(args: list[str], cache_root: Path, **env) -> subprocess.CompletedProcess:
    full = dict(os.environ, SAPROT_SCAN_CACHE=str(cache_root), **env)
    return subprocess.run([sys.executable, "-m", "saprot_scan", *args], capture_output=True, text=True,
                          env=full, timeout=300)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listed_entries(cache_root: Path) -> list[str]:
    models = cache_root / "models"
    return sorted(p.name for p in models.iterdir() if not p.name.startswith(".")) if models.is_dir() else []


def test_fetch_with_hub_switched_off_fails_in_one_line(cache):
    run = _cli(["models", "fetch", "saprot-35m"], cache, HF_HUB_OFFLINE="1")
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "saprot-35m" in lines[0] and "HF_HUB_OFFLINE" in lines[0]
    assert _listed_entries(cache) == []
    assert not (cache / "models" / ".saprot-35m.work").exists()


def test_fetch_with_unreachable_hub_fails_in_one_line(cache):
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    run = _cli(["models", "fetch", "saprot-650m"], cache, HF_HUB_OFFLINE="0", HF_ENDPOINT=endpoint)
    assert run.returncode == 1  # not bad input: the hub could not be reached (DESIGN.md: 1, anything else)
    assert run.stderr.startswith("saprot-scan: error: cannot fetch saprot-650m from westlake-repl/SaProt_650M_AF2@")
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "not reachable" in lines[0] and "westlake-repl/SaProt_650M_AF2" in lines[0]
    assert _listed_entries(cache) == []
    listing = _cli(["models", "list"], cache)
    assert "saprot-650m\tnot cached" in listing.stdout


def test_unknown_name_lists_known_models(cache):
    from saprot_scan.models.hub import fetch_model

    with pytest.raises(InputError, match="saprot-35m, saprot-650m"):
        fetch_model("saprot-3b")
    run = _cli(["models", "fetch", "esm2"], cache, HF_HUB_OFFLINE="1")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == ["saprot-scan: error: unknown model 'esm2'; "
                                               "fetchable models: saprot-35m, saprot-650m; "
                                               "import only: saprot-1.3b, saprot-650m-if"]


def test_registry_pins_commit_hashes_or_says_import_only():
    from saprot_scan.models.architectures import ARCHITECTURES
    from saprot_scan.models.registry import registry

    for name, entry in registry().items():
        assert entry["architecture"] in ARCHITECTURES and entry["download_size"], name
        if entry["revision"] is None:  # no full commit hash confirmed: never a guessed one
            assert entry["revision_note"].startswith("import only") and "models import" in entry["revision_note"]
        else:
            assert len(entry["revision"]) == 40 and int(entry["revision"], 16) >= 0, name


def test_import_only_models_are_listed_and_refused_by_fetch_in_one_line(cache):
    listing = _cli(["models", "list"], cache)
    assert "saprot-1.3b\tnot cached\twestlake-repl/SaProt_1.3B_AF2 (no pinned revision: models import only)" \
        in listing.stdout
    run = _cli(["models", "fetch", "saprot-1.3b"], cache, HF_HUB_OFFLINE="1")
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "saprot-1.3b has no pinned revision" in lines[0]
    assert "saprot-scan models import FOLDER --name saprot-1.3b" in lines[0]
    assert _listed_entries(cache) == []


def test_import_recognises_the_1_3b_shape(tmp_path):
    from saprot_scan.models.importer import infer_name

    (tmp_path / "config.json").write_text(json.dumps({"num_hidden_layers": 66, "hidden_size": 1280}))
    assert infer_name(tmp_path) == "saprot-1.3b"
    (tmp_path / "config.json").write_text(json.dumps({"num_hidden_layers": 33, "hidden_size": 1280}))
    assert infer_name(tmp_path) == "saprot-650m"  # the inverse-folding model has this shape too: named with --name


def test_install_from_snapshot_caches_verified_model(cache, tiny_hf_checkpoint):
    from saprot_scan.models.hashing import sha256_file
    from saprot_scan.models.hub import install_from_snapshot
    from saprot_scan.backends.onnx import load_model

    folder = install_from_snapshot("saprot-35m", tiny_hf_checkpoint, fp16=True)
    assert folder == cache / "models" / "saprot-35m"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["name"] == "saprot-35m" and manifest["repo"] == "westlake-repl/SaProt_35M_AF2"
    assert manifest["revision"] == "316cd4017d29f4657b959365f24b57f1ee278912"
    assert manifest["sha256"] == sha256_file(folder / manifest["onnx"])
    assert manifest["sha256_fp16"] == sha256_file(folder / manifest["onnx_fp16"])
    assert manifest["weights_format"] == "safetensors"
    assert manifest["files"]["model.safetensors"] == sha256_file(tiny_hf_checkpoint / "model.safetensors")
    assert set(manifest["files"]) >= {"config.json", "vocab.txt", "model.safetensors"}
    assert manifest["max_abs_logit_diff"] < 1e-4
    assert _listed_entries(cache) == ["saprot-35m"]  # no staging folders left visible

    listing = _cli(["models", "list"], cache)
    assert listing.returncode == 0
    assert "saprot-35m\tcached\twestlake-repl/SaProt_35M_AF2@316cd4017d29" in listing.stdout
    info = _cli(["models", "info", "saprot-35m"], cache)
    assert info.returncode == 0, info.stderr
    assert f"sha256\t{manifest['sha256']}" in info.stdout

    model = load_model("saprot-35m", device="cpu", precision="fp32")  # on "auto" the CPU runs the int8 copy
    assert model.sha256 == manifest["sha256"] and model.name == "saprot-35m"
    from saprot_scan.models.fast_copy import cuda_gpu_here

    assert (folder / "saprot-35m.int8.onnx").is_file() != cuda_gpu_here()  # int8 made by default without a GPU

    with open(folder / manifest["onnx"], "ab") as handle:  # tamper with the cached export
        handle.write(b"\0")
    with pytest.raises(ModelError, match="SHA-256 .* does not match the recorded"):
        load_model("saprot-35m", device="cpu")
    run = _cli(["models", "info", "saprot-35m"], cache)
    assert run.returncode == 2 and "does not match" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def _pickled_copy(source: Path, dest: Path, payload) -> Path:
    """The checkpoint with its safetensors weights replaced by a pytorch_model.bin holding ``payload``."""
    shutil.copytree(source, dest)
    (dest / "model.safetensors").unlink()
    torch.save(payload, dest / "pytorch_model.bin")
    return dest


def _logits(path: Path) -> np.ndarray:
    import onnxruntime as ort

    from saprot_scan.models.export import sample_batch
    from saprot_scan.backends.feeding import run_logits

    ids, mask = sample_batch(length=12, batch=2)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return run_logits(session, ids, mask)


def test_pickled_weights_are_read_as_tensors_only(cache, tmp_path, tiny_hf_checkpoint, tiny_onnx_model):
    from safetensors.torch import load_file

    from saprot_scan.models.hub import install_from_snapshot

    state = load_file(str(tiny_hf_checkpoint / "model.safetensors"))
    snapshot = _pickled_copy(tiny_hf_checkpoint, tmp_path / "pickled", state)
    folder = install_from_snapshot("saprot-650m", snapshot)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["weights"] == ["pytorch_model.bin"]
    assert manifest["weights_format"] == "pickle, read by the tensor-only reader"
    assert "pytorch_model.bin" in manifest["files"]
    # Same weights, same model: the export from the pickle scores exactly like the safetensors one.
    np.testing.assert_allclose(_logits(folder / manifest["onnx"]), _logits(tiny_onnx_model), atol=1e-5)


class _Planted:
    """Unpickling this would create a file: the restricted loader must refuse it without doing so."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickle_that_runs_code_is_refused(cache, tmp_path, tiny_hf_checkpoint):
    from saprot_scan.models.hub import install_from_snapshot

    marker = tmp_path / "code-was-run"
    snapshot = _pickled_copy(tiny_hf_checkpoint, tmp_path / "evil", {"weight": _Planted(marker)})
    with pytest.raises(ModelError, match="pytorch_model.bin: refused"):
        install_from_snapshot("saprot-35m", snapshot)
    assert not marker.exists()
    assert _listed_entries(cache) == []


def test_damaged_download_is_rejected_and_deleted(cache, tmp_path, tiny_hf_checkpoint):
    from saprot_scan.models.hub import install_from_snapshot

    snapshot = tmp_path / "download"
    shutil.copytree(tiny_hf_checkpoint, snapshot)
    with pytest.raises(ModelError, match="model.safetensors: SHA-256 .* does not match the expected"):
        install_from_snapshot("saprot-35m", snapshot, expected_sha256={"model.safetensors": "0" * 64})
    assert not (snapshot / "model.safetensors").exists()  # the next fetch downloads it again
    assert _listed_entries(cache) == []

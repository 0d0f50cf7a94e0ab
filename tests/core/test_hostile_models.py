"""Crafted model files and planted cache links (issue 27, items 1-6): ``models import``/``export`` through the real
CLI, each in its own process under a 2 GB address-space limit (and, where the disk is the target, a file-size
limit), must end in exit 0 with a model equal to the reference or exit 2 with one line; never a signal, an
internal error, a flood, or a write or delete outside the cache's own folders.

Every crafted file is made here: pickled checkpoints are written with the standard pickler (tensors named by
torch's rebuild function and storage classes, exactly as ``torch.save`` names them), so their strides, offsets
and storages can be anything an attacker picks.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="crafting checkpoints and the reference logits need torch")

from support.crafted_checkpoints import (EMBEDDING, StorageRef, TensorRecord, crafted_checkpoint,  # noqa: E402
                                        load_state)

ADDRESS_SPACE = 2 << 30  # the tiny models here import in far less; a flood fails under it instead of swapping


def _limits(file_size: int | None):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        if file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    return apply


def _cli(args: list, cache: Path, file_size: int | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, SAPROT_SCAN_CACHE=str(cache), OMP_NUM_THREADS="1", SAPROT_SCAN_THREADS="1")
    env.pop("SAPROT_SCAN_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "saprot_scan", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=600, preexec_fn=_limits(file_size))
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}: {proc.stderr[-500:]}"
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr[-1500:]
    return proc


def _refused(proc: subprocess.CompletedProcess, *words: str) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.startswith("saprot-scan: error:")]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-1500:]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _cached(cache: Path) -> list[str]:
    folder = cache / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture(scope="module")
def tiny_state(tiny_hf_checkpoint) -> dict[str, np.ndarray]:
    return load_state(tiny_hf_checkpoint)


def test_hand_pickled_checkpoint_imports_like_the_original(tiny_hf_checkpoint, tiny_state, tmp_path):
    """The control: the writer above makes checkpoints torch itself loads and the import takes."""
    folder = crafted_checkpoint(tmp_path / "ckpt", tiny_hf_checkpoint, tiny_state)
    loaded = torch.load(folder / "pytorch_model.bin", weights_only=True)
    assert set(loaded) == set(tiny_state)
    proc = _cli(["models", "import", folder, "--name", "saprot-35m", "--any-shape"], tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert _cached(tmp_path / "cache") == ["saprot-35m"]


@pytest.mark.parametrize("stride, offset", [((-69631, 1000000), 0), ((-1, 1), 40), ((1 << 40, 1), 0),
                                            ((32, 1), 1 << 50)],
                         ids=["negative-huge", "negative-small", "huge", "offset-past-end"])
@pytest.mark.parametrize("command", ["import", "export"])
def test_strides_outside_the_storage_are_refused(tiny_hf_checkpoint, tiny_state, tmp_path, stride, offset, command):
    """Item 1: a tensor whose strides or offset reach outside its storage was handed to as_strided (SIGSEGV)."""
    def change(records):
        record = records[EMBEDDING]
        record.stride, record.offset = stride, offset

    folder = crafted_checkpoint(tmp_path / "ckpt", tiny_hf_checkpoint, tiny_state, change)
    cache = tmp_path / "cache"
    args = (["models", "import", folder, "--name", "saprot-35m", "--any-shape"] if command == "import"
            else ["models", "export", folder, "--out", tmp_path / "m.onnx"])
    _refused(_cli(args, cache), "pytorch_model.bin", "refused")
    assert _cached(cache) == [] and not (tmp_path / "m.onnx").exists()


#: Bytes of zeros in the one deflated storage the storage-bomb tests share (20 KB once deflated).
ZEROS = 20_000_000


def _views_of_one_deflated_storage(name: str, count: int, offset: int, size: int):
    """A ``crafted_checkpoint`` extra: ``count`` float32 tensors ``name.K`` of ``size`` elements from ``offset``,
    all over one deflated storage of ZEROS zero bytes."""
    def extra(records, storages, deflated):
        ref = StorageRef(name, ZEROS // 4)
        storages[name] = bytes(ZEROS)
        deflated.add(name)
        for k in range(count):
            records[f"{name}.{k}"] = TensorRecord(ref, offset, (size,), (1,))
    return extra


def test_one_deflated_storage_named_many_times_is_not_inflated_per_name(tiny_hf_checkpoint, tiny_state, tmp_path):
    """Item 2: 200 tensors over one deflated 20 MB storage (a 20 KB member) cost 4 GB when each name inflated
    it; they are now inflated only when a tensor is read, and these are never read: the import is the model."""
    extra = _views_of_one_deflated_storage("unused", 200, offset=0, size=ZEROS // 4)
    folder = crafted_checkpoint(tmp_path / "ckpt", tiny_hf_checkpoint, tiny_state, extra=extra)
    assert (folder / "pytorch_model.bin").stat().st_size < 1_000_000
    proc = _cli(["models", "import", folder, "--name", "saprot-35m", "--any-shape"], tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert "check passed" in proc.stderr


def test_reads_far_into_a_compressed_storage_are_budgeted(tiny_hf_checkpoint, tiny_state, tmp_path, monkeypatch):
    """Item 2, the CPU side: a read inflates its compressed member from the start, so many tensors near the end
    of one deflated storage would cost hours; past a budget (32 GB per process; 100 MB here) reads are refused."""
    from saprot_scan.errors import ModelError
    from saprot_scan.models import checkpoint

    extra = _views_of_one_deflated_storage("far", 50, offset=ZEROS // 4 - 10, size=10)
    folder = crafted_checkpoint(tmp_path / "ckpt", tiny_hf_checkpoint, tiny_state, extra=extra)
    tensors = checkpoint.read_torch_zip(folder / "pytorch_model.bin")
    monkeypatch.setattr(checkpoint, "INFLATE_BUDGET", 100_000_000)
    monkeypatch.setattr(checkpoint, "_inflated", [0])
    assert not tensors["far.0"].numpy().any()  # the bytes a tensor covers, inflated as a stream
    with pytest.raises(ModelError, match="inflated past"):
        for k in range(1, 50):
            tensors[f"far.{k}"].numpy()


def _zip_folder(archive_path: Path, folder: Path, extra_zeros: dict[str, int]) -> Path:
    """A zip of ``folder`` (under one top folder) plus members of zeros, deflated (a few KB per 100 MB)."""
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            if path.name not in extra_zeros:
                archive.write(path, f"SaProt/{path.name}")
        for name, size in extra_zeros.items():
            with archive.open(f"SaProt/{name}", "w", force_zip64=True) as out:
                for _ in range(size >> 20):
                    out.write(bytes(1 << 20))
    return archive_path


def test_zip_import_writes_only_the_checkpoint(tiny_hf_checkpoint, tmp_path):
    """Item 3: a 200 MB member of zeros the import never reads was extracted into the cache (extractall); under
    a 64 MB file-size limit that ended the process with SIGXFSZ. Only the checkpoint's files are written now."""
    archive = _zip_folder(tmp_path / "ckpt.zip", tiny_hf_checkpoint, {"zeros.bin": 200 << 20})
    assert archive.stat().st_size < 2_000_000
    cache = tmp_path / "cache"
    proc = _cli(["models", "import", archive, "--name", "saprot-35m", "--any-shape"], cache, file_size=64 << 20)
    assert proc.returncode == 0, proc.stderr
    assert _cached(cache) == ["saprot-35m"]


def test_zip_whose_weights_are_a_bomb_is_refused_before_writing(tiny_hf_checkpoint, tmp_path):
    """Item 3: weights that declare far more bytes than the config's parameters can fill are refused unwritten."""
    archive = _zip_folder(tmp_path / "ckpt.zip", tiny_hf_checkpoint, {"model.safetensors": 300 << 20})
    cache = tmp_path / "cache"
    _refused(_cli(["models", "import", archive, "--name", "saprot-35m", "--any-shape"], cache, file_size=64 << 20),
             "ckpt.zip", "weights declare")
    assert _cached(cache) == []


def _with_config(source: Path, folder: Path, edit) -> Path:
    shutil.copytree(source, folder)
    config = json.loads((folder / "config.json").read_text())
    edited = edit(config)
    (folder / "config.json").write_text(json.dumps(edited if isinstance(edited, list) else config))
    return folder


CONFIG_CASES = {
    "huge-hidden-one-head": (lambda c: c.update(hidden_size=500_000_000, num_attention_heads=1), "hidden_size"),
    "zero-heads": (lambda c: c.update(num_attention_heads=0), "num_attention_heads"),
    "negative-hidden": (lambda c: c.update(hidden_size=-480), "hidden_size"),
    "list-config": (lambda c: [c], "not an object"),
    "deep-nesting": (lambda c: json.loads("[" * 100_000 + "]" * 100_000), "config.json"),
    "string-layers": (lambda c: c.update(num_hidden_layers="2"), "num_hidden_layers"),
    "no-position-type": (lambda c: c.pop("position_embedding_type"), "position_embedding_type"),
    "absolute-positions": (lambda c: c.update(position_embedding_type="absolute"), "rotary"),
    "rope-scaling": (lambda c: c.update(rope_scaling={"type": "linear", "factor": 2.0}), "rope_scaling"),
    "nan-eps": (lambda c: c.update(layer_norm_eps=-1.0), "layer_norm_eps"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_malformed_configs_are_refused_before_anything_is_allocated(tiny_hf_checkpoint, tmp_path, case):
    """Items 4 and 5: a config is checked as numbers and as transformers reads it before the graph is built
    (hidden_size 5e8 with one head allocated a 4 GB rotary table; zero heads, a list, deep nesting were internal
    errors; a config without position_embedding_type was built as rotary, though transformers reads absolute)."""
    edit, word = CONFIG_CASES[case]
    if case == "deep-nesting":
        folder = tmp_path / "ckpt"
        shutil.copytree(tiny_hf_checkpoint, folder)
        (folder / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    else:
        folder = _with_config(tiny_hf_checkpoint, tmp_path / "ckpt", edit)
    cache = tmp_path / "cache"
    _refused(_cli(["models", "import", folder, "--name", "saprot-35m", "--any-shape"], cache), word)
    assert _cached(cache) == []


def test_safetensors_header_that_is_a_list_is_refused(tiny_hf_checkpoint, tmp_path):
    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_hf_checkpoint, folder)
    header = json.dumps([{"dtype": "F32"}]).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    _refused(_cli(["models", "import", folder, "--name", "saprot-35m", "--any-shape"], tmp_path / "cache"),
             "model.safetensors", "not a safetensors file")


def test_a_huge_vocab_is_refused_unread(tiny_hf_checkpoint, tmp_path):
    """A 3 GB vocab.txt (sparse: no disk used) was read whole into memory; under the 2 GB limit it is refused."""
    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_hf_checkpoint, folder)
    with open(folder / "vocab.txt", "r+b") as handle:
        handle.truncate(3 << 30)
    _refused(_cli(["models", "import", folder, "--name", "saprot-35m", "--any-shape"], tmp_path / "cache"),
             "vocab.txt is 3221225472 bytes")


def _checkpoint_with(folder: Path, drop: tuple[str, ...] = (), **overrides) -> Path:
    """A tiny checkpoint made by transformers with ``overrides`` in its config, and ``drop`` keys removed from
    config.json afterwards (so transformers' own default applies)."""
    from transformers import EsmForMaskedLM

    from saprot_scan.models.architectures import ARCHITECTURES, esm_config, write_tokenizer_files

    torch.manual_seed(3)
    model = EsmForMaskedLM(esm_config(**ARCHITECTURES["tiny"], **overrides)).eval()
    with torch.no_grad():
        model.lm_head.decoder.weight.normal_(0.0, 0.5)
        for layer in model.esm.encoder.layer:  # weights of realistic size, so the settings change the logits
            layer.attention.self.query.weight.normal_(0.0, 0.5)
            layer.attention.self.key.weight.normal_(0.0, 0.5)
    model.save_pretrained(folder)
    write_tokenizer_files(folder)
    config = json.loads((folder / "config.json").read_text())
    for key in drop:
        config.pop(key, None)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("overrides, drop", [({"rope_theta": 1000.0}, ()), ({}, ("layer_norm_eps",))],
                         ids=["rope-theta-1000", "no-layer-norm-eps"])
def test_settings_are_read_as_transformers_reads_them(tmp_path, overrides, drop):
    """Item 5: rope_theta was never read (always 10000) and a missing layer_norm_eps meant 1e-5 (transformers:
    1e-12); both exported a model that passed its own check and disagreed with transformers. The cached model's
    logits must be transformers' logits."""
    import onnxruntime as ort
    from transformers import EsmForMaskedLM

    from saprot_scan.backends.feeding import run_logits
    from saprot_scan.models.export import sample_batch

    folder = _checkpoint_with(tmp_path / "ckpt", drop, **overrides)
    cache = tmp_path / "cache"
    proc = _cli(["models", "import", folder, "--name", "saprot-35m", "--any-shape"], cache)
    assert proc.returncode == 0, proc.stderr
    ids, mask = sample_batch(length=30, batch=2, seed=5)
    reference = EsmForMaskedLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    with torch.no_grad():
        want = reference(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
    session = ort.InferenceSession(str(cache / "models" / "saprot-35m" / "saprot-35m.onnx"),
                                   providers=["CPUExecutionProvider"])
    got = run_logits(session, ids, mask)
    real = mask.astype(bool)
    assert np.abs(got[real] - want[real]).max() < 1e-3 * max(1.0, np.abs(want[real]).max())


def test_name_must_match_the_registry_shape(tiny_hf_checkpoint, tmp_path):
    """Item 5: ``--name saprot-650m`` took a 2-layer model without comparing it with the registry's shape."""
    cache = tmp_path / "cache"
    _refused(_cli(["models", "import", tiny_hf_checkpoint, "--name", "saprot-650m"], cache),
             "refused as saprot-650m", "2 layers x 32", "33 layers x 1280", "--any-shape")
    archive = _zip_folder(tmp_path / "ckpt.zip", tiny_hf_checkpoint, {})
    _refused(_cli(["models", "import", archive, "--name", "saprot-650m"], cache), "refused as saprot-650m")
    assert _cached(cache) == []


def test_a_planted_link_as_the_work_folder_is_refused(tiny_hf_checkpoint, tmp_path):
    """Item 6: a symlink at $CACHE/models/.saprot-35m.work made an import delete and write inside its target."""
    cache = tmp_path / "cache"
    victim = tmp_path / "victim"
    (victim / "build").mkdir(parents=True)
    (victim / "build" / "keep.txt").write_text("another user's file")
    (cache / "models").mkdir(parents=True)
    (cache / "models" / ".saprot-35m.work").symlink_to(victim, target_is_directory=True)
    _refused(_cli(["models", "import", tiny_hf_checkpoint, "--name", "saprot-35m", "--any-shape"], cache),
             ".saprot-35m.work", "symbolic link")
    assert (victim / "build" / "keep.txt").read_text() == "another user's file"
    assert sorted(p.name for p in victim.rglob("*")) == ["build", "keep.txt"]
    assert not (cache / "models" / "saprot-35m").exists()


def test_a_planted_link_as_the_locks_folder_is_refused(tiny_hf_checkpoint, tmp_path):
    """Item 6: the lock files are created in the cache's locks folder; a link there pointed them elsewhere."""
    cache = tmp_path / "cache"
    victim = tmp_path / "victim"
    victim.mkdir()
    cache.mkdir()
    (cache / "locks").symlink_to(victim, target_is_directory=True)
    _refused(_cli(["models", "import", tiny_hf_checkpoint, "--name", "saprot-35m", "--any-shape"], cache),
             "locks", "symbolic link")
    assert list(victim.iterdir()) == []


def test_filelock_older_than_the_fix_is_refused():
    """Item 6: filelock before 3.20.1 follows a symlinked lock file (CVE-2025-68146)."""
    from saprot_scan.errors import ModelError
    from saprot_scan.models.locking import _check_filelock

    _check_filelock("3.20.1")
    _check_filelock("4.0.0")
    for old in ("3.8.0", "3.20.0", "3.19.9"):
        with pytest.raises(ModelError, match="CVE-2025-68146"):
            _check_filelock(old)

"""``saprot-scan models fetch``: download a pinned SaProt checkpoint, export it to ONNX, cache it.

Why it is built this way:
- The revision is a commit hash from ``models/registry.json``, so the files (and, through their Git LFS
  pointers, their SHA-256) cannot change under us; every downloaded file is hashed and checked against the
  hub's LFS record and against any hash the registry lists, and all hashes go into the cache manifest.
- Safetensors are preferred. Pickled PyTorch weights (``pytorch_model.bin``, all SaProt's hub repos have)
  are never unpickled freely, because unpickling runs code from whoever wrote the file: models/checkpoint.py's
  restricted unpickler only rebuilds tensors (as numpy arrays) and refuses every other name.
- Downloads go to a staging folder beside the cache entry (resumable: a rerun continues), the export is
  built in another one, and the manifest is written last before the folder is moved into place, so a
  half-done fetch is never listed as cached.
Needs the ``fetch`` extra (onnx, huggingface_hub); no torch.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from saprot_scan.errors import HubUnreachable, InputError, ModelError
from saprot_scan.models.hashing import sha256_file
from saprot_scan.settings import models_dir

#: The only files taken from a hub repo: config, tokenizer, and weights (never code, never the ESM .pt copy).
CONFIG_FILES = ("config.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json")
SAFETENSORS_INDEX = "model.safetensors.index.json"
PICKLE_INDEX = "pytorch_model.bin.index.json"


def registry_entry(name: str) -> dict:
    """The registry entry for ``name``; unknown names fail listing the known ones."""
    from saprot_scan.models.registry import registry

    known = registry()
    if name not in known:
        raise InputError(f"unknown model {name!r}; fetchable models: {', '.join(known)}")
    return known[name]


def _weight_files(names: list[str]) -> tuple[list[str], bool]:
    """The weight files to use from a repo listing and whether they are pickled; safetensors win."""
    safetensors = sorted(n for n in names if "/" not in n and n.endswith(".safetensors"))
    if safetensors:
        return safetensors + ([SAFETENSORS_INDEX] if SAFETENSORS_INDEX in names else []), False
    pickled = sorted(n for n in names if "/" not in n and n.startswith("pytorch_model") and n.endswith(".bin"))
    if pickled:
        return pickled + ([PICKLE_INDEX] if PICKLE_INDEX in names else []), True
    raise ModelError("no model weights (model.safetensors or pytorch_model.bin) in the checkpoint")


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:200]}" if text else type(err).__name__


def _hub_offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _remote_files(repo: str, revision: str) -> dict[str, str | None]:
    """File name -> LFS SHA-256 (None for small non-LFS files) of the repo at ``revision``."""
    from huggingface_hub import HfApi

    info = HfApi().model_info(repo, revision=revision, files_metadata=True, timeout=30)
    return {s.rfilename: (s.lfs.sha256 if s.lfs else None) for s in info.siblings or []}


def _remove_if_empty(folder: Path) -> None:
    """Drop a staging folder holding no downloaded bytes, so a failed first fetch leaves nothing behind.

    Partly downloaded files (``*.incomplete``) are kept: the next fetch resumes them.
    """
    if not folder.is_dir():
        return
    if any(p.is_file() and (p.suffix == ".incomplete" or ".cache" not in p.relative_to(folder).parts)
           for p in folder.rglob("*")):
        return
    shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.parent.rmdir()
    except OSError:
        pass


def _download(name: str, entry: dict, target: Path, progress: bool) -> dict[str, str | None]:
    """Download config, tokenizer and weight files of the pinned revision into ``target``."""
    from huggingface_hub import snapshot_download

    repo, revision = entry["repo"], entry["revision"]
    if _hub_offline():
        raise InputError(f"cannot fetch {name}: the Hugging Face hub is switched off (HF_HUB_OFFLINE is set); "
                         "unset it, or export a local checkpoint with 'saprot-scan models export'")
    target.mkdir(parents=True, exist_ok=True)
    try:
        remote = _remote_files(repo, revision)
        weights, _ = _weight_files(list(remote))
        wanted = [n for n in CONFIG_FILES if n in remote] + weights
        if progress:
            print(f"downloading {', '.join(wanted)} from {repo} at revision {revision}", file=sys.stderr)
        kwargs = {} if progress else {"tqdm_class": _quiet_bar()}
        snapshot_download(repo, revision=revision, local_dir=target, allow_patterns=wanted, **kwargs)
    except (InputError, KeyboardInterrupt):
        raise
    except Exception as err:  # offline, DNS, refused connection, 404, timeout: all one line for the user
        _remove_if_empty(target)
        raise HubUnreachable(f"cannot fetch {name} from {repo}@{revision[:12]}: the Hugging Face hub is not "
                             f"reachable or refused ({_one_line(err)})") from None
    return {n: remote[n] for n in wanted}


def _quiet_bar():
    """A tqdm class that draws nothing (``progress=False``), leaving global tqdm settings alone."""
    from tqdm.auto import tqdm

    class Quiet(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return Quiet


def _check_hashes(folder: Path, files: list[str], expected: dict[str, str | None]) -> dict[str, str]:
    """SHA-256 of every file; a file that disagrees with a known hash is deleted and fails the fetch."""
    hashes = {}
    for name in files:
        path = folder / name
        if not path.is_file():
            raise ModelError(f"{name} is missing from the downloaded checkpoint")
        digest = sha256_file(path)
        want = expected.get(name)
        if want and digest != want:
            path.unlink()
            raise ModelError(f"{name}: SHA-256 {digest[:12]}... does not match the expected {want[:12]}...; "
                             "the download was damaged (deleted; run the fetch again)")
        hashes[name] = digest
    return hashes


def install_from_snapshot(name: str, snapshot_dir: str | os.PathLike, *, repo: str | None = None,
                           revision: str | None = None, fp16: bool = False,
                           expected_sha256: dict[str, str | None] | None = None, stages=None) -> Path:
    """Hash, check, export and cache a downloaded (or local) checkpoint under ``models_dir()/name``.

    The cache entry appears only complete: built in a staging folder, manifest written last, then moved.
    """
    from saprot_scan import __version__
    from saprot_scan.models.export import export_onnx
    from saprot_scan.models.stages import QUIET

    entry = registry_entry(name)
    snapshot = Path(snapshot_dir)
    if not (snapshot / "config.json").is_file():
        raise ModelError(f"{snapshot}: no config.json; not a Hugging Face checkpoint folder")
    from saprot_scan.models.checks import check_vocab

    check_vocab(snapshot, required=True)
    present = sorted(p.name for p in snapshot.iterdir() if p.is_file())
    weights, pickled = _weight_files(present)
    files = [n for n in CONFIG_FILES if n in present] + weights
    expected = dict(expected_sha256 or {})
    for file_name, digest in (entry.get("sha256") or {}).items():
        if expected.get(file_name) and expected[file_name] != digest:
            raise ModelError(f"{file_name}: the registry and the hub disagree on its SHA-256; refusing it")
        expected[file_name] = digest
    hashes = _check_hashes(snapshot, files, expected)

    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
    work = root / f".{name}.work"
    build = work / "build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    try:
        checkpoint = snapshot  # pickled weights are read by models/checkpoint.py's restricted reader
        onnx_name = f"{name}.onnx"
        report = export_onnx(checkpoint, build / onnx_name, stages=stages or QUIET)
        manifest = {
            "name": name, "repo": repo or entry["repo"], "revision": revision or entry["revision"],
            "onnx": onnx_name, "sha256": report["sha256"], "precision": "fp32",
            "external_data": bool(report["external_data"]),
            "max_abs_logit_diff": report["max_abs_logit_diff"],
            "relative_logit_diff": report.get("relative_logit_diff"), "max_score_diff": report.get("max_score_diff"),
            "weights": weights, "weights_format": "pickle, read by the tensor-only reader"
            if pickled else "safetensors",
            "files": hashes, "saprot_scan_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if fp16:
            half = export_onnx(checkpoint, build / f"{name}-fp16.onnx", fp16=True, stages=stages or QUIET)
            manifest.update(onnx_fp16=f"{name}-fp16.onnx", sha256_fp16=half["sha256"],
                            max_abs_logit_diff_fp16=half["max_abs_logit_diff"])
        (build / "manifest.json").write_text(json.dumps(manifest, indent=1))
        final = root / name
        old = root / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            os.replace(final, old)
        os.replace(build, final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(build, ignore_errors=True)
        shutil.rmtree(work / "checkpoint", ignore_errors=True)
    return final


def fetch_model(name: str, fp16: bool = False, progress: bool = True) -> Path:
    """Download ``name``'s pinned checkpoint, export it to ONNX and cache it; return the cache folder.

    Fails with one line (InputError) when the name is unknown or the hub cannot be reached, leaving no
    listed cache entry; partial downloads stay in a staging folder so the next fetch resumes them.
    """
    entry = registry_entry(name)
    work = models_dir() / f".{name}.work"
    download = work / "download"
    expected = _download(name, entry, download, progress)
    if progress:
        print(f"exporting {name} to ONNX (checked against PyTorch)", file=sys.stderr)
    final = install_from_snapshot(name, download, repo=entry["repo"], revision=entry["revision"], fp16=fp16,
                                   expected_sha256=expected)
    shutil.rmtree(work, ignore_errors=True)  # the ONNX export is what scores; the downloaded weights are not needed
    return final

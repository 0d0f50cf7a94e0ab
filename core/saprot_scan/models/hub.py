"""``saprot-scan models fetch``: download a pinned SaProt checkpoint, export it to ONNX, cache it.

Why it is built this way:
- The revision is a commit hash from ``models/registry.json``; every downloaded file is checked against the
  server's record for that commit (LFS SHA-256, or the Git blob id of small files), which catches damage on
  the way, and against a pin (``models.pins``: the registry's SHA-256, else those recorded at the first
  fetch), which catches a server sending other files; all hashes go into the cache manifest.
- Files are downloaded by ``models.download`` (ranged GETs into ``FILE.part``): a dropped connection or
  Ctrl-C keeps what arrived and the next fetch continues from there, under every huggingface_hub version.
- One fetch or import of a model at a time (``models.locking``): a second waits, then uses the first's result.
- Safetensors are preferred. Pickled PyTorch weights (``pytorch_model.bin``, all SaProt's hub repos have)
  are never unpickled freely, because unpickling runs code from whoever wrote the file: models/checkpoint.py's
  restricted unpickler only rebuilds tensors (as numpy arrays) and refuses every other name.
- The export is built in a staging folder and the manifest is written last before the folder is moved into
  place, so a half-done fetch is never listed as cached.
- Errors are one line that says what to do: gated (log in / ``HF_TOKEN``), pinned revision gone (``models
  import``), damaged download (deleted; rerun), hub unreachable (rerun; the bytes are kept).
Needs the ``fetch`` extra (onnx, huggingface_hub); no torch.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable

from saprot_scan.errors import HubUnreachable, InputError, ModelError
from saprot_scan.models.download import ConnectionLost, Damaged, HttpRefusal, RemoteFile, download
from saprot_scan.models.hashing import sha256_file
from saprot_scan.models.locking import model_lock, private_folder, refuse_link
from saprot_scan.models.pins import expected_hashes, record_first_fetch
from saprot_scan.models.stages import QUIET, Stages, human_bytes
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
        fetchable = [n for n, entry in known.items() if entry.get("revision")]
        others = [n for n in known if n not in fetchable]
        raise InputError(f"unknown model {name!r}; fetchable models: {', '.join(fetchable)}"
                         + (f"; import only: {', '.join(others)}" if others else ""))
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


def _refusal(name: str, repo: str, revision: str, status: int, error_code: str | None,
             file: str | None = None) -> InputError:
    """The one line for an HTTP error from the hub: what went wrong and what the user can do about it."""
    where = f"{repo}@{revision[:12]}"
    if error_code == "GatedRepo" or status in (401, 403):
        has_token = bool(os.environ.get("HF_TOKEN")) or _stored_token()
        login = ("the token in use has no access; " if has_token and status == 403 else
                 "no access with the token in use; " if has_token else "")
        return InputError(f"cannot fetch {name}: {repo} is gated or private (HTTP {status}); {login}accept its "
                          f"terms on https://huggingface.co/{repo}, then log in with '{_login_command()}' or set "
                          "HF_TOKEN")
    if error_code == "RevisionNotFound":
        return ModelError(f"cannot fetch {name}: {repo} no longer has the pinned revision {revision[:12]} "
                          f"(HTTP 404); download the checkpoint yourself and run "
                          f"'saprot-scan models import FOLDER --name {name}'")
    if error_code == "EntryNotFound" or (status == 404 and file):
        return ModelError(f"cannot fetch {name}: {file} is missing from {where} (HTTP 404)")
    if status == 404:
        return ModelError(f"cannot fetch {name}: {repo} is not on the Hugging Face hub (HTTP 404)")
    return HubUnreachable(f"cannot fetch {name} from {where}: the Hugging Face hub answered HTTP {status}; "
                          "run the same command again later")


def _login_command() -> str:
    """The login command of the installed huggingface_hub (its ``hf`` command arrived in 0.34)."""
    import huggingface_hub

    try:
        major, minor = (int(part) for part in huggingface_hub.__version__.split(".")[:2])
    except ValueError:
        return "hf auth login"
    return "hf auth login" if (major, minor) >= (0, 34) else "huggingface-cli login"


def _stored_token() -> bool:
    try:
        from huggingface_hub import get_token

        return get_token() is not None
    except Exception:  # an unreadable token file: treated as no token
        return False


def _unreachable(name: str, repo: str, revision: str, reason: str, broke_off: bool = False) -> HubUnreachable:
    what = "the connection to the Hugging Face hub broke off" if broke_off else "the Hugging Face hub is not reachable"
    return HubUnreachable(f"cannot fetch {name} from {repo}@{revision[:12]}: {what} ({reason}); check the network "
                          "(or HF_ENDPOINT) and run the same command again")


def _remote_files(name: str, repo: str, revision: str) -> dict[str, RemoteFile]:
    """File name -> size and hashes of the repo's files at ``revision`` (the hub's model info)."""
    from huggingface_hub import HfApi

    try:
        info = HfApi().model_info(repo, revision=revision, files_metadata=True, timeout=30)
    except Exception as err:  # typed hub errors carry the response; anything else is the network
        response = getattr(err, "response", None)
        if response is not None and getattr(response, "status_code", None):
            raise _refusal(name, repo, revision, response.status_code,
                           response.headers.get("X-Error-Code")) from None
        raise _unreachable(name, repo, revision, _one_line(err)) from None
    return {s.rfilename: RemoteFile(s.rfilename, s.lfs.size if s.lfs else s.size,
                                    s.lfs.sha256 if s.lfs else None, None if s.lfs else s.blob_id)
            for s in info.siblings or []}


def _check_listing(name: str, wanted: list[RemoteFile], pins: dict[str, str], origin: str) -> None:
    """Refuse, before downloading, a listing whose files or hashes are not the pinned ones."""
    if not pins:
        return
    listed = {f.name for f in wanted}
    if listed != set(pins):
        raise ModelError(f"cannot fetch {name}: the server lists {', '.join(sorted(listed)) or 'no files'}, not the "
                         f"files of {origin} ({', '.join(sorted(pins))}); refusing it (a wrong mirror or HF_ENDPOINT?)")
    for remote_file in wanted:
        want = pins[remote_file.name]
        if remote_file.sha256 and remote_file.sha256 != want:
            raise ModelError(f"cannot fetch {name}: the server lists {remote_file.name} with SHA-256 "
                             f"{remote_file.sha256[:12]}..., not {origin} {want[:12]}...; refusing it (a wrong "
                             "mirror or HF_ENDPOINT?)")


def _download(name: str, entry: dict, target: Path, stages: Stages, pins: dict[str, str] | None = None,
              origin: str = "") -> dict[str, str | None]:
    """Download config, tokenizer and weight files of the pinned revision into ``target`` (resumable); a
    listing that disagrees with ``pins`` (``models.pins``) is refused before anything is downloaded."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    repo, revision = entry["repo"], entry["revision"]
    if _hub_offline():
        raise InputError(f"cannot fetch {name}: the Hugging Face hub is switched off (HF_HUB_OFFLINE is set); "
                         "unset it, or import a checkpoint you have with 'saprot-scan models import FOLDER'")
    remote = _remote_files(name, repo, revision)
    weights, _ = _weight_files(list(remote))
    wanted = [remote[n] for n in [n for n in CONFIG_FILES if n in remote] + weights]
    _check_listing(name, wanted, pins or {}, origin)
    total = sum(f.size or 0 for f in wanted)
    stages.say(f"downloading {name} from {repo} at {revision[:12]}: {len(wanted)} files, {human_bytes(total)}"
               + (f" ({entry['size_warning']})" if entry.get("size_warning") else ""))
    target.mkdir(parents=True, exist_ok=True)
    headers = build_hf_headers()
    start = time.monotonic()
    for remote_file in wanted:
        path = target / remote_file.name
        if path.is_file() and path.stat().st_size == remote_file.size:
            continue
        part = path.with_name(path.name + ".part")
        have = part.stat().st_size if part.exists() else 0
        url = hf_hub_url(repo, remote_file.name, revision=revision)
        try:
            if remote_file.sha256:  # the large files get their own stage and byte bar; the rest are tiny
                kept = f", {human_bytes(have)} already here, continuing" if have else ""
                with stages.writing(f"downloading {remote_file.name}{kept}", (remote_file.size or 0) - have) as update:
                    download(url, headers, remote_file, path, update)
            else:
                download(url, headers, remote_file, path)
        except HttpRefusal as err:
            raise _refusal(name, repo, revision, err.status, err.error_code, remote_file.name) from None
        except ConnectionLost as err:
            kept = f"; {human_bytes(err.kept)} of {remote_file.name} kept, the next fetch continues from there" \
                if err.kept else ""
            raise _unreachable(name, repo, revision, f"{err}{kept}", broke_off=bool(err.kept)) from None
        except Damaged as err:
            raise ModelError(f"cannot fetch {name}: {err}; the damaged download was deleted, run the same "
                             "command again") from None
    stages.say(f"downloaded {name}: {len(wanted)} files, {human_bytes(total)} in {time.monotonic() - start:.1f} s; "
               "hashes match the server's listing")
    return {f.name: f.sha256 for f in wanted}


def _check_hashes(folder: Path, files: list[str], expected: dict[str, str | None], pins: dict[str, str],
                  origin: str) -> dict[str, str]:
    """SHA-256 of every file; a file that disagrees with a known hash is deleted and fails the fetch: with the
    hub's record it was damaged on the way, with a pin (``models.pins``) it is other content."""
    hashes = {}
    for name in files:
        path = folder / name
        if not path.is_file():
            raise ModelError(f"{name} is missing from the downloaded checkpoint")
        digest = sha256_file(path)
        want = expected.get(name)
        if pins.get(name) and digest != pins[name]:
            path.unlink()
            raise ModelError(f"{name}: SHA-256 {digest[:12]}... differs from {origin} {pins[name][:12]}...; "
                             "refused and deleted: the server sent other content for this pinned revision (a wrong "
                             "mirror or HF_ENDPOINT?)")
        if want and digest != want:
            path.unlink()
            raise ModelError(f"{name}: SHA-256 {digest[:12]}... does not match the expected {want[:12]}...; "
                             "the download was damaged (deleted; run the fetch again)")
        hashes[name] = digest
    missing = sorted(set(pins) - set(files))
    if missing:
        raise ModelError(f"{', '.join(missing)}: missing, though {origin} names it; refusing the download")
    return hashes


def install_from_snapshot(name: str, snapshot_dir: str | os.PathLike, *, repo: str | None = None,
                           revision: str | None = None, fp16: bool | None = None, int8: bool | None = None,
                           expected_sha256: dict[str, str | None] | None = None, stages: Stages | None = None,
                           pins: dict[str, str] | None = None, pin_origin: str = "") -> Path:
    """Hash, check, export and cache a downloaded (or local) checkpoint under ``models_dir()/name``.

    The cache entry appears only complete: built in a staging folder, manifest written last, then moved.
    ``fp16``/``int8`` None make the copy this machine runs (models/fast_copy.py: int8 without a CUDA GPU, fp16
    with one). An int8 copy that fails its check is not kept; asked for explicitly (``int8=True``), that fails
    the call once the fp32 model is cached. The caller holds ``model_lock(name)``; ``stages`` tells each stage.
    """
    from saprot_scan.models.fast_copy import plan_copies
    from saprot_scan import __version__
    from saprot_scan.models.export import export_onnx

    stages = stages or QUIET
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
    stages.say(f"checking the SHA-256 of {len(files)} files")
    hashes = _check_hashes(snapshot, files, expected, dict(pins or {}), pin_origin)
    if pins:
        stages.say(f"SHA-256 match {pin_origin}")
    fp16, int8_wanted, why = plan_copies(fp16, int8)
    if why:
        stages.say(why)

    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
    work = private_folder(root / f".{name}.work")  # never a planted link: it is emptied and written below
    build = refuse_link(work / "build")
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    final, old = refuse_link(root / name), refuse_link(root / f".{name}.old")
    refused = None
    try:
        checkpoint = snapshot  # pickled weights are read by models/checkpoint.py's restricted reader
        onnx_name = f"{name}.onnx"
        origin = f"{repo or entry['repo']}@{revision or entry['revision']}"  # not the download folder's name
        exported = export_onnx(checkpoint, build / onnx_name, stages=stages, source=origin)
        manifest = {
            "name": name, "repo": repo or entry["repo"], "revision": revision or entry["revision"],
            "onnx": onnx_name, "sha256": exported["sha256"], "precision": "fp32",
            "external_data": bool(exported["external_data"]),
            "max_abs_logit_diff": exported["max_abs_logit_diff"],
            "relative_logit_diff": exported.get("relative_logit_diff"), "max_score_diff": exported.get("max_score_diff"),
            "weights": weights, "weights_format": "pickle, read by the tensor-only reader"
            if pickled else "safetensors",
            "files": hashes, "saprot_scan_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if fp16:
            half = export_onnx(checkpoint, build / f"{name}-fp16.onnx", fp16=True, stages=stages, source=origin)
            manifest.update(onnx_fp16=f"{name}-fp16.onnx", sha256_fp16=half["sha256"],
                            max_abs_logit_diff_fp16=half["max_abs_logit_diff"])
        if int8_wanted:
            from saprot_scan.models.fast_copy import make_int8

            if make_int8(build / onnx_name, stages.say) is None and int8:
                refused = ModelError(f"the int8 copy of {name} was not kept (its check failed; see above)")
        (build / "manifest.json").write_text(json.dumps(manifest, indent=1))
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            os.replace(final, old)
        os.replace(build, final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    if refused is not None:
        raise refused
    return final


def _already_fetched(name: str, entry: dict) -> Path | None:
    """The cache entry another process made of the same pinned revision while this one waited for it."""
    from saprot_scan.models.registry import cached_manifest

    manifest = cached_manifest(name)
    if manifest and manifest.get("revision") == entry["revision"]:
        return models_dir() / name
    return None


def _download_folder(name: str, revision: str) -> Path:
    """Where the pinned revision's files arrive; another revision's partial files are dropped."""
    models_dir().mkdir(parents=True, exist_ok=True)
    work = private_folder(models_dir() / f".{name}.work")
    if work.is_dir():
        for old in work.glob("download-*"):
            if old.name != f"download-{revision[:12]}":
                shutil.rmtree(old, ignore_errors=True)
    return refuse_link(work / f"download-{revision[:12]}")


def _remove_empty(folder: Path) -> None:
    """Drop staging folders left without a single downloaded byte (a fetch that failed at once)."""
    if folder.is_symlink():
        return
    for path in sorted((folder, *folder.rglob("*")), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir():
            try:
                path.rmdir()
            except OSError:
                pass


def fetch_model(name: str, fp16: bool | None = None, progress: bool = True,
                report: Callable[[str], None] | None = None, int8: bool | None = None) -> Path:
    """Download ``name``'s pinned checkpoint, export it to ONNX and cache it; return the cache folder.

    ``progress`` prints one line per stage on stderr, with a byte bar when stderr is a terminal; ``report``
    receives the stage lines instead (viewers). Fails with one line (InputError) and leaves no listed cache
    entry; downloaded bytes stay in a staging folder so the next fetch continues them. A fetch that finds
    another fetch or import of ``name`` running waits for it, and uses its result when it cached this revision.
    ``fp16``/``int8``: which copies to make beside the fp32 export; None makes the one this machine runs
    (``install_from_snapshot``).
    """
    entry = registry_entry(name)
    if not entry.get("revision"):
        raise InputError(f"{name} has no pinned revision to fetch (no full commit hash of {entry['repo']} could be "
                         f"confirmed); download it yourself (e.g. 'hf download {entry['repo']} --local-dir FOLDER') "
                         f"and run 'saprot-scan models import FOLDER --name {name}'")
    stages = Stages(None, sink=report) if report is not None else Stages() if progress else QUIET
    with model_lock(name, stages.say) as waited:
        if waited and (done := _already_fetched(name, entry)) is not None:
            stages.say(f"{name} was fetched by the other process")
            return done
        download_dir = _download_folder(name, entry["revision"])
        pins, origin = expected_hashes(name, entry)
        try:
            expected = _download(name, entry, download_dir, stages, pins, origin)
        except KeyboardInterrupt:
            stages.say(f"stopped; the bytes downloaded so far are kept, 'saprot-scan models fetch {name}' continues")
            raise
        finally:
            _remove_empty(models_dir() / f".{name}.work")
        final = install_from_snapshot(name, download_dir, repo=entry["repo"], revision=entry["revision"], fp16=fp16,
                                      int8=int8, expected_sha256=expected, stages=stages, pins=pins, pin_origin=origin)
        if not pins:
            files = json.loads((final / "manifest.json").read_text())["files"]
            if record_first_fetch(name, entry["revision"], files):
                stages.say(f"first fetch of {name} at {entry['revision'][:12]}: no public source pins its files' "
                           "SHA-256, so this download's are recorded; a later fetch whose files differ is refused")
        shutil.rmtree(models_dir() / f".{name}.work", ignore_errors=True)  # the ONNX export is what scores
        stages.say(f"cached {name} at {final}")
        return final

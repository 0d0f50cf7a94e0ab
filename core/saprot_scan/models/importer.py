"""``models import PATH``: a checkpoint downloaded elsewhere (folder or zip) checked, exported and cached.

For machines without network access: a Hugging Face checkpoint folder, or a zip of one, goes through exactly
what ``models fetch`` does after its download (``models.hub.install_from_snapshot``).

Which registry model it is comes from ``--name`` or, failing that, from its config (layers and width matched
against the registry's architectures); with ``--name``, the config's shape must be that model's (unless
``--any-shape``). A zip is never extracted whole: models/archive.py writes only the files an import reads, each
capped, into a private staging folder.
"""
from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from saprot_scan.errors import InputError, ModelError
from saprot_scan.settings import models_dir


def _checkpoint_folder(root: Path, shown: str) -> Path:
    """The folder holding config.json: the root itself, or the one folder below it that has it."""
    if (root / "config.json").is_file():
        return root
    found = sorted(p.parent for p in root.rglob("config.json") if len(p.relative_to(root).parts) <= 3)
    if len(found) == 1:
        return found[0]
    if not found:
        raise InputError(f"{shown}: no config.json; expected a Hugging Face checkpoint (folder or zip)")
    raise InputError(f"{shown}: holds {len(found)} checkpoints; import one folder at a time")


def infer_name(folder: Path) -> str:
    """The registry model whose architecture the checkpoint's config has."""
    from saprot_scan.models.architectures import ARCHITECTURES
    from saprot_scan.models.registry import registry

    from saprot_scan.models.esm_config import load_config

    config = load_config(folder)
    shape = (config.get("num_hidden_layers"), config.get("hidden_size"))
    for name, entry in registry().items():
        dims = ARCHITECTURES.get(entry.get("architecture", ""), {})
        if (dims.get("num_hidden_layers"), dims.get("hidden_size")) == shape:
            return name
    raise InputError(f"{folder.name}: cannot tell which SaProt model this is ({str(shape[0])[:20]} layers, width "
                     f"{str(shape[1])[:20]}); "
                     f"name it with --name ({', '.join(registry())})")


def registry_dims(name: str) -> tuple[int, int, int, int] | None:
    """(layers, hidden, heads, intermediate) of registry model ``name``'s architecture."""
    from saprot_scan.models.architectures import ARCHITECTURES
    from saprot_scan.models.hub import registry_entry

    dims = ARCHITECTURES.get(registry_entry(name).get("architecture", ""))
    if dims is None:
        return None
    return (dims["num_hidden_layers"], dims["hidden_size"], dims["num_attention_heads"], dims["intermediate_size"])


def import_checkpoint(path: str | Path, name: str | None = None, fp16: bool | None = None, stages=None,
                      int8: bool | None = None, any_shape: bool = False) -> Path:
    """Check, export and cache a local checkpoint (folder or zip) as registry model ``name``; the cache folder.

    With ``name``, the checkpoint's shape must be that registry model's unless ``any_shape``. Holds the
    model's lock (``models.locking``) while it writes, as fetch does; ``stages`` tells the stages.
    ``fp16``/``int8`` as for fetch: None makes the copy this machine runs.
    """
    from saprot_scan.models.archive import extract_checkpoint, shape_mismatch
    from saprot_scan.models.checks import check_vocab
    from saprot_scan.models.esm_config import read_config
    from saprot_scan.models.hub import install_from_snapshot, registry_entry
    from saprot_scan.models.locking import model_lock
    from saprot_scan.models.stages import QUIET

    source = Path(path)
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    expected = None
    if name is not None:
        registry_entry(name)
        expected = None if any_shape else registry_dims(name)
    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import.", dir=root))
    try:
        if source.is_dir():
            folder = _checkpoint_folder(source, str(source))
        elif zipfile.is_zipfile(source):
            folder = extract_checkpoint(source, staging, expected, name)
        else:
            raise InputError(f"{source}: neither a checkpoint folder nor a zip of one")
        chosen = name or infer_name(folder)
        check_vocab(folder, required=True)
        dims = read_config(folder).dims
        if expected is not None and dims != expected:
            raise ModelError(shape_mismatch(source.name, dims, expected, chosen))
        stages = stages or QUIET
        warning = registry_entry(chosen).get("size_warning")
        if warning:
            stages.say(f"importing {chosen}: {warning}")
        with model_lock(chosen, stages.say):
            try:
                return install_from_snapshot(chosen, folder, revision=f"imported from {source.name}", fp16=fp16,
                                             int8=int8, stages=stages)
            finally:
                try:  # the export's scratch folder; a fetch's partial download in it is kept
                    (root / f".{chosen}.work").rmdir()
                except OSError:
                    pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)

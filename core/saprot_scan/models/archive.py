"""Take a Hugging Face checkpoint out of a zip for ``models import``: only the files an import reads, capped.

Why not ``extractall``: a zip from a stranger may hold gigabytes of zeros in a few megabytes, files the import
never reads, or members that point outside the folder (issue 27: 2.2 MB of zip wrote 2.15 GB into the cache).
Here the one folder holding config.json is found from the zip's directory, its config is read and checked
first (with ``--name``, against the registry's shape), and then only its tokenizer and weight files are
written, each within a cap: small files 10 MB, the weights together at most what the config's parameters
need in float64, and never more than the disk has free. zipfile itself stops reading a member at its declared
size, so a member holding more than it declares cannot write more.
"""
from __future__ import annotations

import shutil
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from saprot_scan.errors import InputError, ModelError

MAX_SMALL_FILE = 10_000_000  # config and tokenizer files (SaProt's are a few KB)
MAX_MEMBERS = 100_000
_WEIGHT_SLACK = 64_000_000  # pickle index, zip headers, alignment
_CHUNK = 1 << 20


def _escapes(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return name.startswith(("/", "\\")) or ".." in parts or (bool(parts) and ":" in parts[0]) or "\\" in name


def _config_member(infos: list[zipfile.ZipInfo], shown: str) -> str:
    """The folder (prefix) of the zip holding config.json: the top, or one folder at most three levels down."""
    found = sorted({str(PurePosixPath(i.filename).parent) for i in infos
                    if not i.is_dir() and PurePosixPath(i.filename).name == "config.json"
                    and len(PurePosixPath(i.filename).parts) <= 4})
    if not found:
        raise InputError(f"{shown}: no config.json; expected a Hugging Face checkpoint (folder or zip)")
    if len(found) > 1:
        raise InputError(f"{shown}: holds {len(found)} checkpoints; import one folder at a time")
    return "" if found[0] == "." else found[0] + "/"


def _copy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, shown: str) -> None:
    """Write one member, stopping at its declared size (zipfile checks the CRC when it reaches the end)."""
    written = 0
    with archive.open(info) as source, open(target, "xb") as out:
        while block := source.read(_CHUNK):
            written += len(block)
            if written > info.file_size:
                raise ModelError(f"{shown}: {info.filename} holds more than the {info.file_size} bytes it declares")
            out.write(block)


def extract_checkpoint(zip_path: Path, target: Path, expected_dims: tuple[int, int, int, int] | None = None,
                       model: str | None = None) -> Path:
    """Write the checkpoint of ``zip_path`` into the empty folder ``target`` and return it.

    ``expected_dims`` (layers, hidden, heads, intermediate) is the registry shape of ``--name``'s model
    (``model``): a config with another shape is refused before any weights are written.
    """
    from saprot_scan.models.esm_config import read_config
    from saprot_scan.models.esm_graph import float_parameter_count
    from saprot_scan.models.hub import CONFIG_FILES, _weight_files

    shown = zip_path.name
    try:
        with zipfile.ZipFile(zip_path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise InputError(f"{shown}: {len(infos)} members; not a checkpoint")
            for info in infos:
                if _escapes(info.filename):
                    raise InputError(f"{shown}: refused; member {info.filename!r} points outside the archive")
            prefix = _config_member(infos, shown)
            here = {i.filename[len(prefix):]: i for i in infos
                    if i.filename.startswith(prefix) and "/" not in i.filename[len(prefix):] and not i.is_dir()}
            if len(here) != len([i for i in infos if i.filename.startswith(prefix) and not i.is_dir()
                                 and "/" not in i.filename[len(prefix):]]):
                raise ModelError(f"{shown}: refused; a file name appears twice in the checkpoint folder")
            small = [n for n in CONFIG_FILES if n in here]
            for name in small:
                if here[name].file_size > MAX_SMALL_FILE:
                    raise ModelError(f"{shown}: {name} declares {here[name].file_size} bytes; a checkpoint's is a "
                                     "few KB")
            _copy(archive, here["config.json"], target / "config.json", shown)
            shape = read_config(target)
            if expected_dims is not None and shape.dims != expected_dims:
                raise ModelError(shape_mismatch(shown, shape.dims, expected_dims, model or ""))
            weights, _ = _weight_files(list(here))
            declared = sum(here[n].file_size for n in weights)
            limit = float_parameter_count(shape) * 8 + _WEIGHT_SLACK
            if declared > limit:
                raise ModelError(f"{shown}: refused; its weights declare {declared} bytes, more than the "
                                 f"{limit} a {shape.layers}-layer, {shape.hidden}-wide model can need")
            free = shutil.disk_usage(target).free
            if declared > free:
                raise ModelError(f"{shown}: its weights need {declared} bytes and the cache's disk has {free} free")
            for name in [n for n in small if n != "config.json"] + weights:
                _copy(archive, here[name], target / name, shown)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, ValueError) as err:
        # damaged data, an unsupported compression method, an encrypted member
        raise InputError(f"{shown}: not a readable zip file ({str(err)[:120]})") from None
    return target


def shape_mismatch(shown: str, got: tuple[int, ...], want: tuple[int, ...], model: str) -> str:
    """The one line for a checkpoint whose shape is not the registry model's it is imported as."""
    return (f"{shown}: refused as {model}: its config describes {got[0]} layers x {got[1]} ({got[2]} heads, "
            f"{got[3]} inner), {model} has {want[0]} layers x {want[1]} ({want[2]} heads, {want[3]} inner); name "
            "the model it is, or pass --any-shape for a checkpoint of your own")

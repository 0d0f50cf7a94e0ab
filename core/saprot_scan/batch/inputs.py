"""What ``saprot-scan batch`` scores: structure files, folders (recursive), glob patterns, text files listing
paths, and tar archives as AlphaFold DB ships proteomes (members ``*.pdb.gz`` / ``*.cif.gz``), whose members
are read straight out of the archive, never unpacked to disk.

``discover(inputs)`` lists every structure once, in a stable order, each with its structure id (the file or
member name without its structure suffixes: ``AF-P69905-F1-model_v4.cif.gz`` -> ``AF-P69905-F1-model_v4``).
Only names are listed here; a structure's bytes are read when a worker is ready for it (``Loader``).
"""
from __future__ import annotations

import glob
import os
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from saprot_scan.encoding.files import check_regular_file, max_structure_bytes
from saprot_scan.errors import InputError

#: Structure file names (case-insensitive), plain or gzipped.
STRUCTURE_NAME = re.compile(r"\.(pdb|ent|cif|mmcif)(\.gz)?$", re.IGNORECASE)
#: Archives whose structure members are scored.
ARCHIVE_NAME = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz)$", re.IGNORECASE)
#: Text files listing one input per line (blank lines and ``#`` comments ignored).
LIST_NAME = re.compile(r"\.(txt|list|lst)$", re.IGNORECASE)
_GLOB_CHARS = re.compile(r"[*?\[]")


def printable(text: str) -> str:
    """``text`` as valid UTF-8: a file name byte that is no UTF-8 (held by Python as a lone surrogate) becomes
    ``\\xff``, so ids, sources and reasons can be printed and written to Parquet; the path itself is kept."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def structure_id(name: str) -> str:
    """The id of a structure file or archive member: its base name without ``.gz`` and the structure suffix."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if base.lower().endswith(".gz"):
        base = base[:-3]
    stem, dot, suffix = base.rpartition(".")
    if dot and suffix.lower() in ("pdb", "ent", "cif", "mmcif") and stem:
        return stem
    return base


@dataclass
class Source:
    """One structure to score: a file on disk, or a member of a tar archive."""

    structure_id: str
    source: str  #: what the manifest shows: the path, or ``archive::member``
    path: Path | None = None  #: the file (None for archive members)
    archive: Path | None = None
    member: tarfile.TarInfo | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.structure_id, self.source = printable(self.structure_id), printable(self.source)

    @property
    def name(self) -> str:
        """The file or member base name (error messages and the temporary copy keep it)."""
        if self.member is not None:
            return self.member.name.rsplit("/", 1)[-1]
        return self.path.name


@dataclass
class Discovery:
    sources: list[Source]
    duplicates: list[tuple[Source, Source]]  #: (later input dropped, the earlier one with the same id)


def _expand(arg: str, base: Path | None, depth: int) -> Iterator[Source]:
    path = Path(arg).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.exists() and _GLOB_CHARS.search(str(path)):
        matches = sorted(glob.glob(str(path), recursive=True))
        if not matches:
            raise InputError(f"{arg}: no files match this pattern")
        for match in matches:
            yield from _expand_path(Path(match), depth)
        return
    if not path.exists() and base is not None:  # a listed file that is gone: a failed row, not a usage error
        yield Source(structure_id(path.name), str(path), path=path)
        return
    if not path.exists():
        raise InputError(f"{arg}: no such file or folder")
    yield from _expand_path(path, depth)


def _expand_path(path: Path, depth: int) -> Iterator[Source]:
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if STRUCTURE_NAME.search(name):
                    yield Source(structure_id(name), str(Path(root) / name), path=Path(root) / name)
    elif ARCHIVE_NAME.search(path.name):
        yield from _archive_members(path)
    elif LIST_NAME.search(path.name) and not STRUCTURE_NAME.search(path.name):
        yield from _listed(path, depth)
    else:  # named explicitly: scored whatever its suffix (a bad file becomes a failed row)
        yield Source(structure_id(path.name), str(path), path=path)


def _archive_members(path: Path) -> Iterator[Source]:
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if member.isfile() and STRUCTURE_NAME.search(member.name):
                    yield Source(structure_id(member.name), f"{path}::{member.name}", archive=path, member=member)
    except (tarfile.TarError, OSError, EOFError) as err:
        raise InputError(f"{path.name}: not a readable tar archive ({err})") from None


def _listed(path: Path, depth: int) -> Iterator[Source]:
    if depth > 4:
        raise InputError(f"{path}: list files nested more than 4 deep")
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read the list ({err})") from None
    for line in lines:
        entry = line.strip()
        if entry and not entry.startswith("#"):
            yield from _expand(entry, path.parent, depth + 1)


def discover(inputs: Iterable[str]) -> Discovery:
    """Every structure the inputs name, once, in a stable order (arguments in order, folders sorted).

    Relative paths in a list file are read from the list file's folder. A second input with an id already
    taken is dropped (reported in ``duplicates``): ids key the output and the resume.
    """
    seen: dict[str, Source] = {}
    sources, duplicates = [], []
    for arg in inputs:
        for src in _expand(str(arg), None, 0):
            first = seen.get(src.structure_id)
            if first is None:
                seen[src.structure_id] = src
                sources.append(src)
            elif first.source != src.source:
                duplicates.append((src, first))
    if not sources:
        raise InputError("no structure files found in the inputs "
                         "(looked for *.pdb, *.cif, *.ent, *.mmcif, optionally .gz)")
    return Discovery(sources, duplicates)


class Loader:
    """Reads archive members in archive order through one open handle per archive (forward reads only)."""

    def __init__(self) -> None:
        self._open: tuple[Path, tarfile.TarFile] | None = None

    def member_bytes(self, src: Source) -> bytes:
        if self._open is None or self._open[0] != src.archive:
            self.close()
            self._open = (src.archive, tarfile.open(src.archive, "r:*"))
        handle = self._open[1].extractfile(src.member)
        if handle is None:
            raise OSError(f"{src.source}: not a regular file in the archive")
        with handle:
            data = handle.read(max_structure_bytes() + 1)
        if len(data) > max_structure_bytes():
            raise InputError(f"{src.source}: larger than any structure (more than {max_structure_bytes() >> 20} MiB)")
        return data

    def file_bytes(self, src: Source) -> bytes:
        """The file's raw bytes for a worker elsewhere (decompressed there, within the same caps); a FIFO, a
        device or a file larger than the cap is refused here, before anything is read."""
        info = check_regular_file(src.path)
        if info.st_size > max_structure_bytes():
            raise InputError(f"{src.source}: larger than any structure ({info.st_size >> 20} MiB; the cap is "
                             f"{max_structure_bytes() >> 20} MiB)")
        return src.path.read_bytes()

    def close(self) -> None:
        if self._open is not None:
            self._open[1].close()
            self._open = None

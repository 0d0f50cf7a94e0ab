"""A structure file's text, read within stated limits: what is not a regular file, not a format we read, or
larger than any structure is refused in one line naming what it is, before it can hang, flood memory or crash.

The caps (``docs/imperfect-files.md``): at most ``max_structure_bytes()`` of text after decompression
(512 MiB unless ``$SAPROT_SCAN_MAX_STRUCTURE_MB`` says otherwise), at most ``MAX_ATOMS`` atom records, and at
most ``READ_SECONDS`` spent reading and decompressing the bytes. gzip, bzip2, xz and a zip of one file are
read; zstd, tar and BinaryCIF are named in the refusal.
"""
from __future__ import annotations

import bz2
import errno
import gzip
import lzma
import os
import stat
import time
import zipfile
from pathlib import Path

from saprot_scan.errors import InputError

#: The environment variable that changes the decompressed-size cap (MiB); listed with the others in settings.py.
ENV_MAX_MB = "SAPROT_SCAN_MAX_STRUCTURE_MB"

DEFAULT_MAX_MB = 512
#: Atom records one file may hold; the largest PDB entries hold a few million atoms (the cap bounds memory:
#: biotite keeps ~100 bytes per atom, and every parser step is linear in it).
MAX_ATOMS = 3_000_000
#: Seconds reading and decompressing one file may take (a hung network mount, a slow device).
READ_SECONDS = 120.0
CHUNK = 1 << 20
NAME_MAX = 255

#: Leading bytes of formats that are not structure text: (magic, name, what to do).
_REFUSED_MAGIC = (
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first (zstd -d FILE)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "unpack it first"),
    (b"Rar!", "a RAR archive", "unpack it first"),
)


def max_structure_bytes() -> int:
    """The decompressed-size cap in bytes (``$SAPROT_SCAN_MAX_STRUCTURE_MB``, default 512 MiB)."""
    try:
        mb = float(os.environ.get(ENV_MAX_MB) or DEFAULT_MAX_MB)
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(max(mb, 0.001) * (1 << 20))


def _shown(path: Path) -> str:
    """The path as one printable line (a file name may hold any byte but / and NUL)."""
    return os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")


def check_regular_file(path: Path) -> os.stat_result:
    """The file's stat if it is a regular file we may open; else one InputError saying what it is."""
    where = _shown(path)
    try:
        info = os.stat(path)
    except OSError as err:
        raise InputError(_stat_failure(path, where, err)) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{where}: is a folder, not a structure file")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else "a character device" if
                stat.S_ISCHR(info.st_mode) else "a block device" if stat.S_ISBLK(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        raise InputError(f"{where}: {kind}, not a structure file; save the structure to a file and give that")
    return info


def _stat_failure(path: Path, where: str, err: OSError) -> str:
    if err.errno == errno.ELOOP:
        return f"{where}: a loop of symbolic links, no file at its end"
    if err.errno == errno.ENAMETOOLONG or any(len(os.fsencode(p)) > NAME_MAX for p in path.parts):
        longest = max(len(os.fsencode(p)) for p in path.parts)
        return f"{where[:80]}...: the file name is too long ({longest} bytes; file systems allow {NAME_MAX})"
    if err.errno in (errno.EACCES, errno.EPERM):
        return f"{where}: permission denied (the file or a folder above it cannot be read)"
    if err.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"{where}: a symbolic link to a file that does not exist"
        return f"{where}: no such file"
    return f"{where}: cannot be read ({err.strerror or err})"


def read_structure_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed where it is gzip, bzip2, xz or a zip of one file, within the caps."""
    info = check_regular_file(path)
    cap = max_structure_bytes()
    name = path.name
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
            handle.seek(0)
            opener = _decompressor(head, name)
            if opener is None:
                if info.st_size > cap:
                    raise InputError(_too_large(name, info.st_size, cap, ""))
                return _read_capped(handle, cap, name, "")
            return opener(handle, cap)
    except PermissionError:
        raise InputError(f"{_shown(path)}: permission denied (the file cannot be read)") from None
    except IsADirectoryError:
        raise InputError(f"{_shown(path)}: is a folder, not a structure file") from None
    except OSError as err:
        raise InputError(f"{name}: cannot be read ({err.strerror or err})") from None


def _too_large(name: str, size: int, cap: int, how: str) -> str:
    what = f"more than {cap / (1 << 20):,.0f} MiB" if size < 0 else f"{size / (1 << 20):,.0f} MiB"
    return (f"{name}: {what}{how}, larger than any structure (the cap is {cap / (1 << 20):,.0f} MiB; "
            f"${ENV_MAX_MB} raises it)")


def _read_capped(stream, cap: int, name: str, how: str) -> bytes:
    """Read ``stream`` to its end in chunks, refusing past ``cap`` bytes or ``READ_SECONDS``."""
    start, parts, total = time.monotonic(), [], 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return b"".join(parts)
        total += len(chunk)
        if total > cap:
            raise InputError(_too_large(name, -1, cap, how))
        if time.monotonic() - start > READ_SECONDS:
            raise InputError(f"{name}: reading took more than {READ_SECONDS:.0f} s; copy the file to a local disk")
        parts.append(chunk)


def _decompressor(head: bytes, name: str):
    """A function (handle, cap) -> bytes for a compressed file, None for plain text; refuses what we cannot read."""
    for magic, what, todo in _REFUSED_MAGIC:
        if head.startswith(magic):
            raise InputError(f"{name}: {what}, not a PDB or mmCIF file; {todo}")
    if len(head) >= 262 and head[257:262] == b"ustar":
        raise InputError(f"{name}: a tar archive, not one structure; unpack it, or give it to 'saprot-scan batch'")
    if _looks_like_binary_cif(head):
        raise InputError(f"{name}: BinaryCIF (MessagePack), not text mmCIF; download the .cif (text) file instead")
    if head.startswith(b"\x1f\x8b"):
        return lambda handle, cap: _stream(gzip.GzipFile(fileobj=handle), cap, name, "gzip")
    if head.startswith(b"BZh"):
        return lambda handle, cap: _stream(bz2.BZ2File(handle), cap, name, "bzip2")
    if head.startswith(b"\xfd7zXZ\x00"):
        return lambda handle, cap: _stream(lzma.LZMAFile(handle), cap, name, "xz")
    if head.startswith(b"PK\x03\x04"):
        return lambda handle, cap: _zip_member(handle, cap, name)
    return None


def _looks_like_binary_cif(head: bytes) -> bool:
    """BinaryCIF is a MessagePack map (first byte 0x80-0x8f, 0xde or 0xdf) with keys like ``dataBlocks``."""
    return bool(head) and (0x80 <= head[0] <= 0x8F or head[0] in (0xDE, 0xDF)) and b"dataBlocks" in head


def _stream(stream, cap: int, name: str, what: str) -> bytes:
    try:
        with stream:
            return _read_capped(stream, cap, name, f" once {what}-decompressed")
    except (OSError, EOFError, lzma.LZMAError, ValueError) as err:
        raise InputError(f"{name}: damaged {what} file ({err})") from None


def _zip_member(handle, cap: int, name: str) -> bytes:
    try:
        archive = zipfile.ZipFile(handle)
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) != 1:
            raise InputError(f"{name}: a zip archive of {len(members)} files; a structure zip holds exactly one "
                             "(unpack it, or give the files to 'saprot-scan batch')")
        return _stream(archive.open(members[0]), cap, name, "zip")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as err:
        raise InputError(f"{name}: damaged or unsupported zip archive ({err})") from None


def count_atom_records(text: str) -> int:
    """ATOM/HETATM lines (PDB records and mmCIF atom_site rows both start so)."""
    return text.count("\nATOM") + text.count("\nHETATM") + int(text.startswith(("ATOM", "HETATM")))


def check_atom_count(text: str, name: str) -> None:
    count = count_atom_records(text)
    if count > MAX_ATOMS:
        raise InputError(f"{name}: {count:,} atom records, more than the {MAX_ATOMS:,} any structure needs; "
                         "split the file (e.g. one assembly or model per file)")

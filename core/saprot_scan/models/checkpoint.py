"""Read a Hugging Face checkpoint's weights into numpy, without torch and without running pickled code.

Two formats, as SaProt's hub repos and our own training runs write them:

- ``model.safetensors``: an 8-byte header length, a JSON header (name -> dtype, shape, byte range), raw
  little-endian data. Read here directly rather than through the safetensors package because its numpy API
  copies every tensor and cannot give bfloat16; this reader reads one tensor at a time from the file.
- ``pytorch_model.bin`` (PyTorch's zip format): ``data.pkl`` describes the tensors, ``data/<key>`` holds each
  storage's raw bytes. Unpickling runs whatever functions the pickle names, so a plain ``pickle.load`` of a
  downloaded file runs its author's code. ``_TensorUnpickler.find_class`` allows only the few names a tensor
  state dict uses (PyTorch's tensor-rebuild functions, its storage types, OrderedDict), each mapped to a
  numpy stand-in defined here; anything else is refused before it is looked up.

Tensors are returned as ``LazyTensor``: shape and dtype known, bytes read only on ``.numpy()``, so a
converter can go through a 2.6 GB checkpoint holding one tensor at a time.

Crafted files (issue 27): every tensor's shape, offset and strides are checked against its storage's declared
size when the tensor is built (no negative strides, no span past the end), before any bytes are read; a
compressed storage is never inflated whole: a read inflates, streaming, only the bytes the tensor covers, after
the converter has checked the tensor's shape against the config; ``data.pkl`` and the header are capped.
"""
from __future__ import annotations

import io
import json
import math
import pickle
import struct
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from saprot_scan.errors import ModelError

SAFETENSORS = "model.safetensors"
PICKLED = "pytorch_model.bin"
_BFLOAT16 = "bfloat16"  # numpy has no bfloat16: its bits are the upper half of a float32

_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": _BFLOAT16, "I64": "<i8", "I32": "<i4",
                       "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
_TORCH_STORAGES = {"DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2", "BFloat16Storage": _BFLOAT16,
                   "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1",
                   "ByteStorage": "u1", "BoolStorage": "?"}
#: Caps on what a checkpoint may declare: far above SaProt 1.3B (66 layers, 1280 wide), far below a flood.
MAX_HEADER_BYTES = 100_000_000
MAX_PICKLE_BYTES = 16_000_000  # SaProt 650M's data.pkl is ~50 KB; what a pickle builds grows ~8x its size
MAX_DIMENSIONS = 8
MAX_ELEMENTS = 1 << 36  # elements of one tensor (a 1.3B model's largest has 1.6M x 4)
#: Bytes all reads of compressed storages may inflate in one process (seeks included): each read inflates its
#: member from the start, so many tensors far into one deflated storage would otherwise cost hours of CPU.
#: torch.save never compresses storages; a fully deflated 1.3B checkpoint read twice needs about 11 GB.
INFLATE_BUDGET = 32 << 30
_inflated = [0]
_TORCH_DTYPES = {"float64": "<f8", "float32": "<f4", "float16": "<f2", "bfloat16": _BFLOAT16, "int64": "<i8",
                 "int32": "<i4", "int16": "<i2", "int8": "i1", "uint8": "u1", "bool": "?"}


@dataclass(frozen=True)
class _Storage:
    """Where one storage's bytes are: a file and a byte offset (zip members stored uncompressed), or a compressed
    zip member of that file."""
    path: Path
    offset: int
    length: int  # bytes, as declared (the zip's central directory, the safetensors header)
    dtype: str
    member: str | None = None  # a compressed zip member: inflated on each read, only as far as needed

    @property
    def itemsize(self) -> int:
        return 2 if self.dtype == _BFLOAT16 else np.dtype(self.dtype).itemsize

    def read(self, first: int, count: int) -> np.ndarray:
        """``count`` elements from element ``first``, as the storage's numpy dtype (bfloat16 as uint16)."""
        raw = "<u2" if self.dtype == _BFLOAT16 else self.dtype
        size = self.itemsize
        if first < 0 or count < 0 or (first + count) * size > self.length:
            raise ModelError(f"{self.path.name}: a tensor reaches past the end of its data")
        if self.member is not None:
            return np.frombuffer(self._inflate(first * size, count * size), dtype=raw).copy()
        with open(self.path, "rb") as handle:
            handle.seek(self.offset + first * size)
            out = np.fromfile(handle, dtype=raw, count=count)
        if out.size != count:
            raise ModelError(f"{self.path.name}: truncated (a tensor's bytes are missing)")
        return out

    def _inflate(self, start: int, length: int) -> bytes:
        """Bytes [start, start + length) of the compressed member, inflated as a stream (zipfile stops at the
        declared size, so a member holding more than it declares cannot flood memory)."""
        _inflated[0] += start + length
        if _inflated[0] > INFLATE_BUDGET:
            raise ModelError(f"{self.path.name}: refused; its compressed storages would be inflated past "
                             f"{INFLATE_BUDGET >> 30} GB (many tensors far into one compressed storage)")
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as handle:
                handle.seek(start)
                data = handle.read(length)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
            raise ModelError(f"{self.path.name}: damaged storage {self.member} ({err})") from None
        if len(data) != length:
            raise ModelError(f"{self.path.name}: truncated (a tensor's bytes are missing)")
        return data


@dataclass(frozen=True)
class LazyTensor:
    """A tensor in a checkpoint file; ``numpy()`` reads it (bfloat16 widened to float32)."""
    storage: _Storage
    offset: int  # in elements
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    @property
    def dtype(self) -> np.dtype:
        return np.dtype("<f4") if self.storage.dtype == _BFLOAT16 else np.dtype(self.storage.dtype)

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    def numpy(self) -> np.ndarray:
        count = math.prod(self.shape)
        if not self.shape or _contiguous(self.shape, self.stride):
            flat = self.storage.read(self.offset, count)
            out = flat.reshape(self.shape)
        else:  # a view (rare in state dicts): read the span it covers, then take the strided elements
            span = _span(self.shape, self.stride)  # strides were checked non-negative when the tensor was made
            flat = self.storage.read(self.offset, span)
            out = np.lib.stride_tricks.as_strided(flat, self.shape, [s * flat.itemsize for s in self.stride]).copy()
        if self.storage.dtype == _BFLOAT16:
            out = (out.astype(np.uint32) << 16).view(np.float32)
        return out


def _span(shape: tuple[int, ...], stride: tuple[int, ...]) -> int:
    """Elements from a tensor's first to its last one, plus one (0 for an empty tensor)."""
    if 0 in shape:
        return 0
    return 1 + sum((n - 1) * s for n, s in zip(shape, stride))


def checked_tensor(storage: _Storage, offset, shape, stride, source: str) -> LazyTensor:
    """A LazyTensor whose every element lies inside its storage, or ModelError: sizes, offset and strides must be
    non-negative integers, few dimensions, and the span they cover must end within the storage's declared bytes
    (so ``as_strided`` never sees a stride that reaches outside the array it strides)."""
    values = [offset, *shape, *stride]
    if (not isinstance(shape, (tuple, list)) or not isinstance(stride, (tuple, list)) or len(shape) != len(stride)
            or len(shape) > MAX_DIMENSIONS
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values)):
        raise ModelError(f"{source}: refused; a tensor has a malformed shape, offset or stride "
                         f"(size {str(shape)[:60]}, stride {str(stride)[:60]}, offset {str(offset)[:20]})")
    shape, stride = tuple(shape), tuple(stride)
    if math.prod(shape) > MAX_ELEMENTS or (offset + _span(shape, stride)) * storage.itemsize > storage.length:
        raise ModelError(f"{source}: refused; a tensor of size {shape} (stride {stride}, offset {offset}) "
                         f"reaches past the end of its {storage.length}-byte storage")
    return LazyTensor(storage, offset, shape, stride)


def _contiguous(shape: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    expected = 1
    for n, s in zip(reversed(shape), reversed(stride)):
        if n != 1 and s != expected:
            return False
        expected *= n
    return True


def read_safetensors(path: str | Path) -> dict[str, LazyTensor]:
    """The tensors of a ``.safetensors`` file (nothing read but its header)."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise ModelError(f"{path.name}: not a safetensors file (too short)")
        (length,) = struct.unpack("<Q", head)
        if length > min(size - 8, MAX_HEADER_BYTES):
            raise ModelError(f"{path.name}: not a safetensors file (header length {length})")
        try:
            header = json.loads(handle.read(length))
        except (ValueError, RecursionError) as err:
            raise ModelError(f"{path.name}: not a safetensors file ({str(err)[:80]})") from None
    if not isinstance(header, dict):
        raise ModelError(f"{path.name}: not a safetensors file (its header is a JSON {type(header).__name__}, "
                         "not an object)")
    start = 8 + length
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = _SAFETENSORS_DTYPES[info["dtype"]]
            first, last = info["data_offsets"]
            shape = tuple(info["shape"])
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (first, last, *shape)):
                raise TypeError
        except (KeyError, TypeError, ValueError):
            raise ModelError(f"{path.name}: tensor {name!r} has an unsupported or malformed entry "
                             f"({str(info)[:80]})") from None
        if not 0 <= first <= last <= size - start:
            raise ModelError(f"{path.name}: tensor {name!r} lies outside the file")
        storage = _Storage(path, start + first, last - first, dtype)
        tensors[name] = checked_tensor(storage, 0, shape, _strides(shape), f"{path.name}: tensor {name!r}")
    return tensors


def _strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= n
    return tuple(reversed(out))


class _StorageType:
    """What ``torch.FloatStorage`` etc. unpickle to here: only its element type."""

    def __init__(self, dtype: str):
        self.dtype = dtype


def _rebuild_tensor(storage, storage_offset, size, stride, *rest):
    """Stand-in for torch._utils._rebuild_tensor_v2 / v3 (the trailing arguments: requires_grad, hooks,
    dtype for v3, metadata); the tensor is checked against its storage here, before anything reads it."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor without storage")
    dtype = next((r.dtype for r in rest if isinstance(r, _StorageType)), None)
    if dtype is not None and dtype != storage.dtype:
        storage = _Storage(storage.path, storage.offset, storage.length, dtype, storage.member)
    return checked_tensor(storage, storage_offset, size, stride, storage.path.name)


def _rebuild_parameter(data, *_):
    """Stand-in for torch._utils._rebuild_parameter: a parameter is its tensor."""
    return data


class _TensorUnpickler(pickle.Unpickler):
    """Unpickles a PyTorch state dict into LazyTensors; every other global is refused (see module doc)."""

    def __init__(self, handle, storages):
        super().__init__(handle)
        self._storages = storages

    def find_class(self, module: str, name: str):
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor_v3"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _TORCH_STORAGES:
            return _StorageType(_TORCH_STORAGES[name])
        if module == "torch" and name in _TORCH_DTYPES:
            return _StorageType(_TORCH_DTYPES[name])
        raise pickle.UnpicklingError(f"refused to load {module}.{name}: a weights file holds only tensors")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError("unexpected persistent record")
        return self._storages(str(pid[2]), pid[1].dtype)


def read_torch_zip(path: str | Path) -> dict[str, LazyTensor]:
    """The tensors of a PyTorch zip checkpoint (``torch.save`` since PyTorch 1.6), read without torch."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, OSError):
        with open(path, "rb") as handle:
            legacy = handle.read(2) == b"\x80\x02"
        raise ModelError(f"{path.name}: " + ("saved in PyTorch's pre-1.6 format, which is not read here; re-save it "
                                             "with a current PyTorch (or as safetensors)" if legacy
                                             else "neither a PyTorch zip checkpoint nor a pickle")) from None
    with archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise ModelError(f"{path.name}: not a PyTorch checkpoint (no single data.pkl)")
        root = str(PurePosixPath(pickles[0]).parent)
        prefix = "" if root == "." else root + "/"
        order = f"{prefix}byteorder"
        if order in names and archive.read(order).strip() not in (b"little", b""):
            raise ModelError(f"{path.name}: saved on a big-endian machine; not supported")

        seen: dict[tuple[str, str], _Storage] = {}

        def storage(key: str, dtype: str) -> _Storage:
            if (key, dtype) in seen:  # one storage named by many ids is one object, never read twice here
                return seen[key, dtype]
            member = f"{prefix}data/{key}"
            try:
                info = archive.getinfo(member)
            except KeyError:
                raise pickle.UnpicklingError(f"missing storage {member}") from None
            if info.compress_type == zipfile.ZIP_STORED:
                found = _Storage(path, _member_offset(path, info), info.file_size, dtype)
            else:
                found = _Storage(path, 0, info.file_size, dtype, member)
            seen[key, dtype] = found
            return found

        pickled = archive.getinfo(pickles[0])
        if pickled.file_size > MAX_PICKLE_BYTES:
            raise ModelError(f"{path.name}: refused; its data.pkl declares {pickled.file_size} bytes, more than a "
                             f"tensor index needs ({MAX_PICKLE_BYTES})")
        try:
            with archive.open(pickles[0]) as handle:
                data = handle.read(MAX_PICKLE_BYTES + 1)
            state = _TensorUnpickler(io.BytesIO(data), storage).load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
                RecursionError, OverflowError, zipfile.BadZipFile) as err:
            raise ModelError(f"{path.name}: refused; not a plain tensor checkpoint ({str(err)[:120]})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, LazyTensor) for v in state.values()):
        raise ModelError(f"{path.name}: refused; expected a dictionary of tensors")
    return dict(state)


def _member_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Byte offset of an uncompressed member's data: after its local header (whose extra field may differ
    from the central directory's)."""
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
    if local[:4] != b"PK\x03\x04":
        raise ModelError(f"{path.name}: damaged zip (bad local header for {info.filename})")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    return info.header_offset + 30 + name_length + extra_length


def read_checkpoint(folder: str | Path) -> dict[str, LazyTensor]:
    """All tensors of a checkpoint folder: its safetensors files if any, else its pickled ones (shards merged)."""
    folder = Path(folder)
    files = sorted(folder.glob("*.safetensors"))
    reader = read_safetensors
    if not files:
        files = sorted(p for p in folder.glob("pytorch_model*.bin"))
        reader = read_torch_zip
    if not files:
        raise ModelError(f"{folder.name}: no model weights ({SAFETENSORS} or {PICKLED})")
    tensors: dict[str, LazyTensor] = {}
    for file in files:
        tensors.update(reader(file))
    return tensors

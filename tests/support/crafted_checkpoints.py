"""Pickled PyTorch checkpoints written by hand, so tests can give a tensor any stride, offset or storage.

The pickle names tensors and storages exactly as ``torch.save`` does (torch._utils._rebuild_tensor_v2, a
``("storage", torch.FloatStorage, key, "cpu", numel)`` persistent id, ``archive/data/KEY`` members), and torch
itself loads the unchanged result, but nothing checks what the records say: that is what the crafted-file
tests (issue 27) need.
"""
from __future__ import annotations

import collections
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import torch

TOKENIZER = ("config.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")
EMBEDDING = "esm.embeddings.word_embeddings.weight"


class StorageRef:
    def __init__(self, key: str, numel: int):
        self.key, self.numel = key, numel


class TensorRecord:
    """Pickles as torch.save writes a tensor: _rebuild_tensor_v2(storage, offset, size, stride, ...)."""

    def __init__(self, storage: StorageRef, offset: int, size: tuple, stride: tuple):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, self.offset, tuple(self.size), tuple(self.stride), False, collections.OrderedDict()))


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None


def _strides(shape: tuple) -> tuple:
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= n
    return tuple(reversed(out))


def write_torch_zip(path: Path, records: dict, storages: dict[str, bytes], deflated: set[str] = frozenset()) -> None:
    """A PyTorch zip checkpoint: ``records`` name -> TensorRecord, ``storages`` key -> raw float32 bytes."""
    body = bytearray()
    _Pickler(_Sink(body), protocol=2).dump(collections.OrderedDict(records))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", bytes(body))
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")
        for key, data in storages.items():
            method = zipfile.ZIP_DEFLATED if key in deflated else zipfile.ZIP_STORED
            archive.writestr(zipfile.ZipInfo(f"archive/data/{key}"), data, compress_type=method)


class _Sink:
    def __init__(self, buffer: bytearray):
        self.buffer = buffer

    def write(self, data) -> int:
        self.buffer.extend(data)
        return len(data)


def crafted_checkpoint(folder: Path, source: Path, state: dict[str, np.ndarray], change=None,
                       extra=None) -> Path:
    """``source``'s config and tokenizer with a hand-pickled pytorch_model.bin of ``state``; ``change(records)``
    edits the tensor records, ``extra(records, storages, deflated)`` adds to them."""
    folder.mkdir(parents=True)
    for name in TOKENIZER:
        shutil.copy2(source / name, folder / name)
    records, storages, deflated = {}, {}, set()
    for index, (name, array) in enumerate(state.items()):
        ref = StorageRef(str(index), array.size)
        storages[str(index)] = np.ascontiguousarray(array).tobytes()
        records[name] = TensorRecord(ref, 0, array.shape, _strides(array.shape))
    if change:
        change(records)
    if extra:
        extra(records, storages, deflated)
    write_torch_zip(folder / "pytorch_model.bin", records, storages, deflated)
    return folder


def load_state(checkpoint: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a safetensors checkpoint folder, by name."""
    from safetensors.numpy import load_file

    return {k: v.astype(np.float32) for k, v in load_file(str(checkpoint / "model.safetensors")).items()}


def strided_embedding(records: dict) -> None:
    """The crafted change of issue 27 item 1: the embedding's strides reach far outside its storage."""
    records[EMBEDDING].stride = (-69631, 1000000)

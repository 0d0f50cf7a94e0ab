"""Scorers: the public ``Scorer`` protocol and ``load_scorer`` (base), and the ONNX Runtime one (onnx, with its
CPU threads, CUDA path, input feeding and fp16/int8 copies). Importing this package loads only ``base``."""
from saprot_scan.backends.base import (DEVICES, PRECISIONS, LogitsModel, ProgressFn, Scorer, load_scorer,  # noqa: F401
                                       register_scorer, scorer_kinds, unregister_scorer)

__all__ = ["DEVICES", "PRECISIONS", "LogitsModel", "ProgressFn", "Scorer", "load_scorer", "register_scorer",
           "scorer_kinds", "unregister_scorer"]

"""Scorer kinds by name: which loader builds the scorer a model spec names (``onnx``, ``structure``,
``ensemble``, and any kind a user registers), and the names each kind answers to.

A table of names and ``"module:function"`` strings, standard library only, so the model registry can list
every name in its messages and ``backends.base.load_scorer`` can dispatch, without either importing the other.
"""
from __future__ import annotations

import importlib
import os
from typing import Callable, Sequence

#: A scorer kind's loader: (spec, device, precision) -> Scorer. spec is None for "the default".
ScorerLoader = Callable[[str | None, str, str | None], object]

#: kind -> loader, or "module:function" imported on first use (keeps heavy imports out of start-up).
_KINDS: dict[str, ScorerLoader | str] = {"onnx": "saprot_scan.models.fast_copy:load_model_for_scans",
                                         "structure": "saprot_scan.backends.structure:load_structure_scorer",
                                         "learned": "saprot_scan.backends.learned:load_learned_scorer",
                                         "blend": "saprot_scan.backends.blend:load_structure_blend",
                                         "ensemble": "saprot_scan.backends.ensemble:load_ensemble"}
#: names a kind answers to (``load_scorer("structure")``), besides the ``kind:spec`` form.
_NAMES: dict[str, str] = {"structure": "structure", "burial-blosum": "structure",
                          "learned": "learned", "learned-structure": "learned",
                          "blend": "blend", "structure-blend": "blend"}
#: the scorer that runs when nothing is named, set, preferred or cached: the best measured offline one
#: (leave-assay-out on the dev assays; models/README.md).
OFFLINE_DEFAULT = "structure-blend"
DEFAULT_KIND = "onnx"


def register_scorer(kind: str, loader: ScorerLoader | str, names: Sequence[str] = ()) -> None:
    """Make ``load_scorer`` build scorers of ``kind``: for specs ``kind`` or ``kind:ARG`` and any of ``names``.

    ``loader`` may be a ``"module:function"`` string so the kind's module is imported only when used.
    """
    if ":" in kind or not kind:
        raise ValueError(f"a scorer kind is a plain word, not {kind!r}")
    _KINDS[kind] = loader
    for name in (kind, *names):
        _NAMES[name] = kind


def unregister_scorer(kind: str) -> None:
    """Forget a kind registered with ``register_scorer`` and the names it answered to (the ONNX kind stays)."""
    if kind == DEFAULT_KIND:
        raise ValueError("the ONNX scorer kind cannot be removed")
    _KINDS.pop(kind, None)
    for name in [n for n, k in _NAMES.items() if k == kind]:
        del _NAMES[name]


def scorer_kinds() -> dict[str, tuple[str, ...]]:
    """Every registered kind and the names it answers to."""
    return {kind: tuple(n for n, k in _NAMES.items() if k == kind) for kind in _KINDS}


def kind_loader(kind: str) -> ScorerLoader:
    """The loader of ``kind``, its module imported on first use."""
    found = _KINDS[kind]
    if isinstance(found, str):
        module, _, function = found.partition(":")
        found = getattr(importlib.import_module(module), function)
        _KINDS[kind] = found
    return found


def split_spec(spec: str | None) -> tuple[str, str | None]:
    """(kind, the spec that kind's loader gets) for a user's model spec."""
    if spec is None:
        return DEFAULT_KIND, None
    text = str(spec)
    if text in _NAMES:
        return _NAMES[text], text
    if "+" in text and not os.path.exists(text):
        return "ensemble", text
    kind, sep, rest = text.partition(":")
    if sep and kind in _KINDS and len(kind) > 1:  # "C:\\model.onnx" is a path, not kind "C"
        return kind, rest or None
    return DEFAULT_KIND, text


def scorer_names() -> list[str]:
    """Every name a registered kind answers to (``burial-blosum``, ``structure``, ...), for messages and menus:
    the offline default first, then the rest in alphabetical order."""
    return sorted(_NAMES, key=lambda name: (name != OFFLINE_DEFAULT, name))

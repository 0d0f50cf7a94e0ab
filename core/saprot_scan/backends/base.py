"""The scorer protocol every front end, the pipeline and the cache talk to, and ``load_scorer``, the one
entry point that turns a name or path into a scorer of a registered kind. Standard library + numpy only.

Two levels:

- ``Scorer``: what the pipeline needs from anything that scores substitutions of a chain, whatever it is
  built on. The ONNX SaProt models implement it (``backends.onnx.LoadedModel``); a scorer that needs no
  language model (for example one built from the structure alone) implements the same five methods and
  registers its kind with ``register_scorer``.
- ``LogitsModel``: what the SaProt scoring maths (``scoring``) needs from a masked language model:
  logits for a batch of token ids. ONNX sessions and the benchmarks' other back ends provide it.
"""
from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Callable, Protocol, Sequence, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # only for annotations: base stays importable without the rest of the core
    from saprot_scan.encoding.structure import Chain
    from saprot_scan.encoding.tokens import StructureTokens
    from saprot_scan.scoring.variants import Substitution

#: Devices a scorer may be asked for; "auto" is CUDA when onnxruntime has it, else the CPU.
DEVICES = ("auto", "cpu", "cuda")
#: Precisions of a model file; "auto" is the checked int8 copy on the CPU, the fp16 copy on CUDA, else fp32.
PRECISIONS = ("auto", "fp32", "fp16", "int8")
#: ``progress(done, total)`` callbacks, in residues.
ProgressFn = Callable[[int, int], None]


class LogitsModel(Protocol):
    """A SaProt-vocabulary masked language model, as the scoring maths uses it."""

    def logits(self, ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """float32 logits (B, R, 446) at ``rows`` (B, R), or (B, T, 446) for every row when ``rows`` is None."""

    def default_batch_size(self, length: int) -> int:
        """Sequences per run for sequences of ``length`` tokens."""


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores every substitution of a chain: the interface of the pipeline, cache, CLI and viewers.

    Scores are (L, 20) float arrays, columns in ``AMINO_ACIDS`` order, the wild type's column 0, NaN rows
    where the wild type is unknown; higher means more tolerated.

    Optional attributes the front ends read when present: ``kind`` ("language-model", "structure",
    "ensemble"), ``score_label`` (what the numbers are, for colour bars; default SaProt's log-ratio) and
    ``cacheable`` (False: never cache this scorer's results by tokens, e.g. when they depend on coordinates).
    """

    name: str  #: shown to the user ("saprot-35m", a file stem, a scorer's own name)
    sha256: str  #: what the numbers came from (a model file's SHA-256, or a scorer's own fingerprint)
    precision: str  #: "fp32", "fp16", "int8", or what a non-neural scorer reports
    device: str  #: "cpu" or "cuda"
    origin: str  #: why it was chosen (named, from SAPROT_SCAN_MODEL, saved preference, cached, offline default)

    def describe(self) -> str:
        """One line saying which scorer produced the numbers, and on what."""

    def cache_identity(self) -> Sequence[str]:
        """JSON-able values that change whenever the scores could change: part of the result-cache key."""

    def check(self) -> None:
        """Fail with one clear line (``ModelError``) now if the scorer cannot work, before any progress is shown."""

    def scan(self, chain: Chain, tokens: StructureTokens, method: str, batch_size: int | None = None,
             progress: ProgressFn | None = None, cancel=None) -> np.ndarray:
        """(L, 20) scores of every substitution; ``method`` is one of ``scoring.METHODS``; ``cancel`` is a
        threading.Event-like object whose ``is_set()`` stops the scan with ``ScanCancelled``."""

    def score_variants(self, chain: Chain, tokens: StructureTokens,
                       variants: Sequence[Sequence[Substitution]], batch_size: int | None = None) -> np.ndarray:
        """One score per variant (a list of sites from ``scoring.parse_variant``); a multi-mutant's score
        covers all its sites at once."""


#: A scorer kind's loader: (spec, device, precision) -> Scorer. spec is None for "the default".
ScorerLoader = Callable[[str | None, str, str | None], Scorer]

#: kind -> loader, or "module:function" imported on first use (keeps heavy imports out of start-up).
_KINDS: dict[str, ScorerLoader | str] = {"onnx": "saprot_scan.backends.onnx:load_model",
                                         "structure": "saprot_scan.backends.structure:load_structure_scorer",
                                         "learned": "saprot_scan.backends.learned:load_learned_scorer",
                                         "ensemble": "saprot_scan.backends.ensemble:load_ensemble"}
#: names a kind answers to (``load_scorer("structure")``), besides the ``kind:spec`` form.
_NAMES: dict[str, str] = {"structure": "structure", "burial-blosum": "structure",
                          "learned": "learned", "learned-structure": "learned"}
#: the scorer that runs when nothing is named, set, preferred or cached: the best measured offline one.
OFFLINE_DEFAULT = "burial-blosum"
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


def _loader(kind: str) -> ScorerLoader:
    loader = _KINDS[kind]
    if isinstance(loader, str):
        module, _, function = loader.partition(":")
        loader = getattr(importlib.import_module(module), function)
        _KINDS[kind] = loader
    return loader


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


def _saprot_cached() -> bool:
    from saprot_scan.models.registry import best_cached_saprot

    return best_cached_saprot() is not None


def load_scorer(spec=None, device: str = "auto", precision: str | None = "auto") -> Scorer:
    """The scorer for ``spec``: a registered kind's name or ``kind:ARG``, else an ONNX model by registry name
    or .onnx path; None picks the default (``$SAPROT_SCAN_MODEL``, the saved preference, the best cached
    SaProt model, the offline default ``OFFLINE_DEFAULT``), which may itself name a registered kind."""
    if spec is None:
        from saprot_scan.settings import default_model_spec

        chosen = default_model_spec()
        if chosen is None and not _saprot_cached():
            chosen = (OFFLINE_DEFAULT, "offline default")
        if chosen is not None and split_spec(chosen[0])[0] != DEFAULT_KIND:
            kind, arg = split_spec(chosen[0])
            scorer = _loader(kind)(arg, device, precision)
            scorer.origin = chosen[1] if kind != "ensemble" else scorer.origin
            return scorer
    kind, arg = split_spec(None if spec is None else str(spec))
    return _loader(kind)(arg, device, precision)

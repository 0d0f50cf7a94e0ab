"""The scorer protocol every front end, the pipeline and the cache talk to, and ``load_scorer``, the one
entry point that turns a name or path into a scorer of a registered kind. Standard library + numpy only.

Two levels:

- ``Scorer``: what the pipeline needs from anything that scores substitutions of a chain, whatever it is
  built on. The ONNX SaProt models implement it (``backends.onnx.LoadedModel``); a scorer that needs no
  language model (for example one built from the structure alone) implements the same five methods and
  registers its kind with ``register_scorer`` (the table of kinds and names is ``saprot_scan.kinds``).
- ``LogitsModel`` (defined in ``scoring.logits``, below this module): what the SaProt scoring maths needs
  from a masked language model: logits for a batch of token ids. ONNX sessions and the benchmarks' other
  back ends provide it.
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

import numpy as np

from saprot_scan.kinds import (DEFAULT_KIND, OFFLINE_DEFAULT, ScorerLoader, kind_loader,  # noqa: F401 (re-exported)
                               register_scorer, scorer_kinds, split_spec, unregister_scorer)
from saprot_scan.scoring.logits import LogitsModel, ProgressFn  # noqa: F401 (part of the scorer interface)

if TYPE_CHECKING:  # only for annotations: base stays importable without the rest of the core
    from saprot_scan.encoding.structure import Chain
    from saprot_scan.encoding.tokens import StructureTokens
    from saprot_scan.scoring.variants import Substitution

#: Devices a scorer may be asked for; "auto" is CUDA when onnxruntime has it, else the CPU.
DEVICES = ("auto", "cpu", "cuda")
#: Precisions of a model file; "auto" is the checked int8 copy on the CPU, the fp16 copy on CUDA, else fp32.
PRECISIONS = ("auto", "fp32", "fp16", "int8")


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores every substitution of a chain: the interface of the pipeline, cache, CLI and viewers.

    Scores are (L, 20) float arrays, columns in ``AMINO_ACIDS`` order, the wild type's column 0, NaN rows
    where the wild type is unknown; higher means more tolerated.

    Optional attributes the front ends read when present: ``kind`` ("language-model", "structure",
    "ensemble"), ``score_meaning`` (a ``scoring.meaning.ScoreMeaning``: what the numbers are, what their 0
    is and whether > 0 means "better than the wild type"; every label, legend and file header takes it from
    there; a scorer that declares none gets ``meaning.UNDECLARED``, which compares nothing with the wild type)
    ``methods`` (the ``scoring.METHODS`` it honours; default both: a scorer without a language model has
    only "masked", and ``--method wt`` is refused for it rather than ignored) and ``cacheable`` (False: never cache this scorer's results by tokens, e.g. when they depend on coordinates).
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


#: Saved preferences already warned about in this process: one warning each, however often the default loads.
_WARNED_PREFERENCES: set[str] = set()
#: What the user runs to forget a saved preference that no longer works.
FORGET_PREFERENCE = "saprot-scan models use auto"


def scorer_methods(scorer) -> tuple[str, ...]:
    """The scan methods a scorer honours: its ``methods``, else all of ``scoring.METHODS``."""
    from saprot_scan.scoring.marginals import METHODS

    return tuple(getattr(scorer, "methods", METHODS))


def _load(text: str, device: str, precision: str | None, origin: str = "") -> Scorer:
    """The scorer a spec names (``load_scorer`` with a spec); ``origin``, when given, says why it was chosen."""
    kind, arg = split_spec(text)
    scorer = kind_loader(kind)(arg, device, precision)
    if origin and kind != "ensemble":  # an ensemble's origin stays "ensemble"; its parts say theirs
        scorer.origin = origin
    return scorer


def unusable_preference_note(spec: str, reason: object) -> str:
    """The one line a user gets when the saved model preference cannot load: what, why, and the way out."""
    return (f"the saved model preference {spec} cannot be used ({reason}); scoring with the default instead. "
            f"'{FORGET_PREFERENCE}' forgets it (or pick '(automatic)' in a viewer's model list)")


def checked_preference(spec: str) -> str:
    """``spec`` as it is saved as the default model (a file as its absolute path), checked first: an unknown
    name, a model that is not cached or a missing file fails here (``ModelError``), so the CLI's ``models use``
    and the viewers' model choices never save a default that cannot score. A file is loaded once here (any
    file exists; only one onnxruntime can open is a model)."""
    from saprot_scan.models.registry import resolve_model

    if split_spec(spec)[0] != DEFAULT_KIND:
        return spec
    ref = resolve_model(spec)
    if ref.origin != "file":
        return spec
    path = str(ref.path.resolve())
    _load(path, "cpu", "auto")  # ModelError: not a loadable ONNX model
    return path


def load_scorer(spec=None, device: str = "auto", precision: str | None = "auto") -> Scorer:
    """The scorer for ``spec``: a registered kind's name or ``kind:ARG``, else an ONNX model by registry name
    or .onnx path; None picks the default (``$SAPROT_SCAN_MODEL``, the saved preference, the best cached
    SaProt model, the offline default ``OFFLINE_DEFAULT``), which may itself name a registered kind.

    A saved preference that cannot load (a model no longer cached, a moved file, a failed SHA-256 check) must
    not stop every scan: it is skipped with one ``SettingsWarning`` naming ``saprot-scan models use auto``.
    ``$SAPROT_SCAN_MODEL`` is set on purpose for the session, so its failure stays an error."""
    from saprot_scan.errors import ModelError, SettingsWarning
    from saprot_scan.models.registry import best_cached_saprot
    from saprot_scan.settings import PREFERENCE_ORIGIN, default_model_spec

    if spec is not None:
        return _load(str(spec), device, precision)
    chosen = default_model_spec()
    skipped = None
    if chosen is not None:
        try:
            return _load(chosen[0], device, precision, origin=chosen[1])
        except ModelError as err:
            if chosen[1] != PREFERENCE_ORIGIN:
                raise
            skipped = chosen[0]
            if skipped not in _WARNED_PREFERENCES:
                _WARNED_PREFERENCES.add(skipped)
                warnings.warn(unusable_preference_note(skipped, err), SettingsWarning, stacklevel=2)
    cached = best_cached_saprot()
    if cached is not None and cached.name != skipped:  # a damaged preferred model may also be the best cached
        return _load(cached.name, device, precision, origin=cached.origin)
    return _load(OFFLINE_DEFAULT, device, precision, origin="offline default")


def default_model_line() -> str:
    """Which scorer runs when none is named, and why: ``"name (origin)"``, or ``"none (reason)"``; a saved
    preference that cannot load is named with the way to forget it, after the scorer that runs instead."""
    from saprot_scan.errors import ModelError
    from saprot_scan.models.registry import best_cached_saprot, resolve_model
    from saprot_scan.settings import PREFERENCE_ORIGIN, default_model_spec

    chosen = default_model_spec()
    note = ""
    if chosen is not None:
        if split_spec(chosen[0])[0] != DEFAULT_KIND:
            return f"{chosen[0]} ({chosen[1]})"
        try:
            return f"{resolve_model(chosen[0]).name} ({chosen[1]})"
        except ModelError as err:
            if chosen[1] != PREFERENCE_ORIGIN:
                return f"none ({err})"
            note = f" [{unusable_preference_note(chosen[0], err)}]"
    cached = best_cached_saprot()
    if cached is not None:
        return f"{cached.name} ({cached.origin}){note}"
    return f"{OFFLINE_DEFAULT} (offline default; 'saprot-scan models fetch saprot-35m' gives SaProt itself){note}"

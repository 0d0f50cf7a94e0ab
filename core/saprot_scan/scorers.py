"""One entry point for every scorer kind: ONNX language models, the structure scorer, and ensembles of them.

A spec is a registry name, an .onnx path, the structure scorer's name, or two specs joined by ``+``
(an ensemble: per-chain z-scores of each part, averaged with equal weights unless written ``A*0.7+B*0.3``).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .errors import ModelError
from .structure_scorer import STRUCTURE_SCORER_NAME, StructureScorer
from .tokens import AMINO_ACIDS

STRUCTURE_ALIASES = (STRUCTURE_SCORER_NAME, "structure")


def _standardise(scores: np.ndarray, wt: str) -> np.ndarray:
    """Per-chain z-score over the substitutions (wild type excluded), wild type kept at 0."""
    cols = np.array([AMINO_ACIDS.find(a) for a in wt])
    subs = scores.copy()
    known = np.flatnonzero(cols >= 0)
    subs[known, cols[known]] = np.nan
    finite = subs[np.isfinite(subs)]
    if finite.size == 0:
        return scores.copy()
    sd = float(finite.std()) or 1.0
    out = (scores - float(finite.mean())) / sd
    out[known, cols[known]] = 0.0
    return out


@dataclass
class EnsembleScorer:
    """Two or more scorers combined by per-chain z-scores (documented weights, default equal)."""

    parts: list
    weights: list[float]
    origin: str = ""
    kind: str = "ensemble"
    device: str = "cpu"

    @property
    def name(self) -> str:
        return "+".join(p.name if w == 1.0 else f"{p.name}*{w:g}" for p, w in zip(self.parts, self.weights))

    @property
    def precision(self) -> str:
        return "+".join(p.precision for p in self.parts)

    @property
    def sha256(self) -> str:
        text = "|".join(f"{p.sha256}*{w!r}" for p, w in zip(self.parts, self.weights))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def score_label(self) -> str:
        return f"ensemble {self.name} (per-chain z units)"

    def describe(self) -> str:
        inner = "; ".join(p.describe() for p in self.parts)
        return f"ensemble {self.name} of per-chain z-scores [{inner}]"

    def chain_key(self, chain) -> str:
        return "|".join(getattr(p, "chain_key", lambda c: "")(chain) for p in self.parts)

    def score_chain(self, chain, tokens, method: str = "masked", progress: Callable[[int, int], None] | None = None,
                    cancel=None, batch_size: int | None = None) -> np.ndarray:
        total = None
        for part, weight in zip(self.parts, self.weights):
            z = _standardise(score_with(part, chain, tokens, method, batch_size, progress, cancel), chain.sequence)
            total = weight * z if total is None else total + weight * z
        return total / sum(self.weights)

    def score_sites(self, chain, tokens, variants: Sequence[Sequence]) -> np.ndarray:
        """Each part's per-chain standardisation applied to its variant scores, then averaged."""
        total = np.zeros(len(variants))
        for part, weight in zip(self.parts, self.weights):
            table = score_with(part, chain, tokens, "masked")
            subs = _standardise(table, chain.sequence)
            # the same affine map as the chain's substitutions: (x - mean) / sd, applied to the variant scores
            scale, shift = _affine(table, subs, chain.sequence)
            total += weight * (scale * sites_with(part, chain, tokens, variants) + shift * _site_counts(variants))
        return total / sum(self.weights)


def _affine(raw: np.ndarray, standard: np.ndarray, wt: str) -> tuple[float, float]:
    """(a, b) with standard = a * raw + b on the substitutions."""
    cols = np.array([AMINO_ACIDS.find(x) for x in wt])
    mask = np.isfinite(raw) & np.isfinite(standard)
    mask[np.flatnonzero(cols >= 0), cols[cols >= 0]] = False
    x, y = raw[mask], standard[mask]
    if x.size < 2 or float(x.std()) == 0:
        return 1.0, 0.0
    a = float(y.std() / x.std())
    return a, float(y.mean() - a * x.mean())


def _site_counts(variants) -> np.ndarray:
    return np.array([len(v) for v in variants], dtype=float)


def score_with(scorer, chain, tokens, method: str = "masked", batch_size: int | None = None,
               progress: Callable[[int, int], None] | None = None, cancel=None) -> np.ndarray:
    """(L, 20) scores of ``chain`` from any scorer kind."""
    if hasattr(scorer, "score_chain"):
        return scorer.score_chain(chain, tokens, method, progress, cancel, batch_size)
    from .scan import masked_marginal, wt_marginal

    ids = tokens.ids()
    if method == "masked":
        return masked_marginal(scorer, ids, tokens.struct, tokens.aa, batch_size, progress, cancel)
    return wt_marginal(scorer, ids, tokens.aa, progress, cancel)


def sites_with(scorer, chain, tokens, variants, batch_size: int | None = None) -> np.ndarray:
    """One score per parsed variant (lists of scan.Substitution) from any scorer kind."""
    if hasattr(scorer, "score_sites"):
        return scorer.score_sites(chain, tokens, variants)
    from .scan import score_variants

    return score_variants(scorer, tokens.ids(), tokens.struct, tokens.aa, variants, batch_size)


def check_scorer_runs(scorer) -> None:
    """Run every language model in ``scorer`` once, so a broken export fails in one line before any work."""
    from .scan import check_model_runs

    for part in getattr(scorer, "parts", [scorer]):
        if not hasattr(part, "score_chain"):
            check_model_runs(part)


def _parse_part(text: str) -> tuple[str, float]:
    name, _, weight = text.partition("*")
    try:
        value = float(weight) if weight else 1.0
    except ValueError:
        raise ModelError(f"bad ensemble weight in {text!r}: write NAME*0.5") from None
    if not value > 0:
        raise ModelError(f"ensemble weight in {text!r} must be positive")
    return name.strip(), value


def load_scorer(spec: str | os.PathLike | None = None, device: str = "auto", precision: str | None = "auto"):
    """The scorer for ``spec`` (see module doc); ``None`` follows the documented default order."""
    text = str(spec) if spec else ""
    if "+" in text and not os.path.exists(text):
        parts = [_parse_part(p) for p in text.split("+")]
        if len(parts) < 2 or any(not name for name, _ in parts):
            raise ModelError(f"bad ensemble {text!r}: write e.g. {STRUCTURE_SCORER_NAME}+saprot-35m")
        return EnsembleScorer([load_scorer(name, device, precision) for name, _ in parts],
                              [w for _, w in parts], origin="ensemble")
    if text in STRUCTURE_ALIASES:
        return StructureScorer(origin="named")
    if not text:
        from .registry import resolve_default_spec

        chosen, origin = resolve_default_spec()
        if chosen is None:
            return StructureScorer(origin=origin)
        scorer = load_scorer(chosen, device, precision)
        scorer.origin = origin
        return scorer
    from .runtime import load_model

    return load_model(text, device=device, precision=precision)

"""Ensembles (``--model A+B``): several scorers combined by their per-chain z-scores, with documented weights.

Each part's (L, 20) scores are standardised over the chain's substitutions (wild type excluded, kept at
0), then averaged with the weights (equal unless written ``A*0.7+B*0.3``). Variants get the same affine
map as the substitutions of their part, summed over their sites, so a single's variant score equals its
cell in the table.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.errors import ModelError
from saprot_scan.scoring.meaning import ScoreMeaning, chain_z


def _wt_mask(wt: str, shape: tuple[int, int]) -> np.ndarray:
    """True at each residue's wild-type cell."""
    mask = np.zeros(shape, dtype=bool)
    for i, aa in enumerate(wt):
        if aa in AMINO_ACIDS:
            mask[i, AMINO_ACIDS.index(aa)] = True
    return mask


def standardiser(scores: np.ndarray, wt: str) -> tuple[float, float]:
    """(a, b) such that a * score + b has mean 0 and SD 1 over the chain's substitutions."""
    subs = scores[~_wt_mask(wt, scores.shape) & np.isfinite(scores)]
    if subs.size < 2 or float(subs.std()) == 0:
        return 1.0, 0.0
    a = 1.0 / float(subs.std())
    return a, -a * float(subs.mean())


def standardise(scores: np.ndarray, wt: str) -> np.ndarray:
    """Per-chain z-scores of the substitutions; the wild type stays 0."""
    a, b = standardiser(scores, wt)
    out = a * scores + b
    out[_wt_mask(wt, scores.shape)] = 0.0
    return out


@dataclass
class EnsembleScorer:
    """A ``Scorer`` (backends.base) over two or more scorers. Not cached itself (its parts' costs dominate)."""

    parts: list
    weights: list[float]
    origin: str = ""
    kind: str = "ensemble"
    device: str = "cpu"
    cacheable: bool = False

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
    def methods(self) -> tuple[str, ...]:
        """The methods some part honours (a structure part scores the same under either)."""
        from saprot_scan.backends.base import scorer_methods

        return tuple(dict.fromkeys(m for p in self.parts for m in scorer_methods(p)))

    @property
    def score_meaning(self) -> ScoreMeaning:
        return chain_z(f"ensemble {self.name} (per-chain z units)")

    def describe(self) -> str:
        inner = "; ".join(p.describe() for p in self.parts)
        return f"ensemble {self.name} of per-chain z-scores [{inner}]"

    def cache_identity(self) -> Sequence[str]:
        return tuple(str(v) for p, w in zip(self.parts, self.weights) for v in (*p.cache_identity(), w))

    def check(self) -> None:
        for part in self.parts:
            part.check()

    def scan(self, chain, tokens, method: str, batch_size: int | None = None, progress=None, cancel=None
             ) -> np.ndarray:
        total = sum(w * standardise(p.scan(chain, tokens, method, batch_size=batch_size, progress=progress,
                                           cancel=cancel), chain.sequence)
                    for p, w in zip(self.parts, self.weights))
        return total / sum(self.weights)

    def score_variants(self, chain, tokens, variants: Sequence[Sequence], batch_size: int | None = None
                       ) -> np.ndarray:
        sites = np.array([len(v) for v in variants], dtype=float)
        total = np.zeros(len(variants))
        for part, weight in zip(self.parts, self.weights):
            a, b = standardiser(part.scan(chain, tokens, "masked", batch_size=batch_size), chain.sequence)
            total += weight * (a * part.score_variants(chain, tokens, variants, batch_size=batch_size) + b * sites)
        return total / sum(self.weights)


def _parse_part(text: str) -> tuple[str, float]:
    name, _, weight = text.partition("*")
    try:
        value = float(weight) if weight else 1.0
    except ValueError:
        raise ModelError(f"bad ensemble weight in {text!r}: write NAME*0.5") from None
    if not value > 0:
        raise ModelError(f"ensemble weight in {text!r} must be positive")
    return name.strip(), value


def load_ensemble(spec: str, device: str = "auto", precision: str | None = "auto") -> EnsembleScorer:
    """``A+B`` or ``A*0.7+B*0.3``: each part loaded by ``load_scorer``."""
    from saprot_scan.backends.base import load_scorer

    parts = [_parse_part(p) for p in spec.split("+")]
    if len(parts) < 2 or any(not name for name, _ in parts):
        raise ModelError(f"bad ensemble {spec!r}: write e.g. burial-blosum+saprot-35m")
    return EnsembleScorer([load_scorer(name, device, precision) for name, _ in parts], [w for _, w in parts],
                          origin="ensemble")

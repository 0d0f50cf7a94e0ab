"""``structure-blend``, the offline default: learned-structure and burial-blosum averaged as per-chain z-scores.

Neither structure scorer alone is the better one on the dev assays (leave-assay-out 0.413 each), but their
equal-weight mean is (0.430, better on 23 of 26 assays; models/README.md): the trees and the hand-made rule
make different mistakes. It is the ensemble ``learned-structure+burial-blosum`` (``backends.ensemble`` does the
averaging) under one name of its own, so labels, menus and the default order can say what runs.
"""
from __future__ import annotations

from dataclasses import dataclass

from saprot_scan.backends.ensemble import EnsembleScorer
from saprot_scan.scoring.meaning import ScoreMeaning, chain_z

BLEND_NAME = "structure-blend"
#: The two structure scorers blended, with equal weights.
BLEND_PARTS = ("learned-structure", "burial-blosum")
#: z units over the chain's substitutions, as burial-blosum's: 0 is the typical substitution, not the wild type.
SCORE_MEANING = chain_z("structure score (z units; learned trees + burial-blosum)")


@dataclass
class StructureBlend(EnsembleScorer):
    """A ``Scorer`` (backends.base): an equal-weight ensemble of the two structure scorers, named as one.

    ``kind`` is "structure": like its parts it has no language model, scores a multi-mutant as the sum of
    its single substitutions and honours only the masked method."""

    kind: str = "structure"

    @property
    def name(self) -> str:
        return BLEND_NAME

    @property
    def score_meaning(self) -> ScoreMeaning:
        return SCORE_MEANING

    def describe(self) -> str:
        why = f" ({self.origin})" if self.origin else ""
        return (f"structure scorer {BLEND_NAME}{why}: learned-structure + burial-blosum, not SaProt "
                "(models fetch saprot-35m for SaProt)")


def load_structure_blend(spec: str | None = None, device: str = "auto", precision: str | None = "auto"
                         ) -> StructureBlend:
    """``load_scorer``'s loader for the blend kind (device and precision do not apply to its parts)."""
    from saprot_scan.kinds import kind_loader, split_spec

    parts = [kind_loader(kind)(None, device, precision) for kind, _ in map(split_spec, BLEND_PARTS)]
    return StructureBlend(parts, [1.0] * len(parts), origin="named" if spec else "")

"""What a scorer's numbers mean: their unit, what their 0 is, and whether > 0 says "better than the wild type".

Every scorer declares one ``ScoreMeaning`` (attribute ``score_meaning``; ``meaning_of`` gives the default for a
scorer that declares none) and every ScanResult carries it, so colour bars, legends, log lines, suggestion
texts and file headers all say the same thing, taken from here. Standard library only.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ScoreMeaning:
    """The meaning of one scorer's numbers (higher = more tolerated for every scorer)."""

    label: str  #: what the numbers are, for colour bars, headings and the JSON's ``score_label``
    unit: str  #: the unit in a few words ("log-ratio", "z units", "assay units")
    zero: str  #: what a score of 0 is
    vs_wild_type: bool  #: True when > 0 means "predicted better than the wild type"

    @property
    def sign_text(self) -> str:
        """What a positive and a negative number say, in one clause."""
        if self.vs_wild_type:
            return f"> 0: predicted better than the wild type, < 0: worse ({self.unit}; 0 = {self.zero})"
        return (f"> 0: more tolerated than {self.zero}, < 0: less; not a comparison with the wild type "
                f"({self.unit})")

    def describe(self) -> str:
        """One line for logs and viewer summaries: what the numbers are and what their sign says."""
        return f"score = {self.label}; {self.sign_text}"

    @property
    def legend_text(self) -> str:
        """The colour legend's words for red and blue."""
        if self.vs_wild_type:
            return "red: predicted worse than the wild type (score < 0)  ·  blue: predicted better (score > 0)"
        return (f"red: less tolerated than {self.zero}  ·  blue: more tolerated  ·  "
                "(0 is not the wild type)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ScoreMeaning":
        return cls(label=str(data["label"]), unit=str(data["unit"]), zero=str(data["zero"]),
                   vs_wild_type=bool(data["vs_wild_type"]))


#: SaProt and every masked language model scored by ``scoring.marginals``.
LOG_RATIO = ScoreMeaning(label="SaProt log-ratio log P(mt)/P(wt)", unit="natural-log ratio",
                         zero="the wild type", vs_wild_type=True)
#: A fitted model applied to zero-shot scores (``design.fitting``).
FITTED = ScoreMeaning(label="fitted score (predicted assay value minus the wild type's)", unit="assay units",
                      zero="the wild type", vs_wild_type=True)
#: What a scorer that declares nothing is taken to mean: higher = more tolerated, nothing more.
UNDECLARED = ScoreMeaning(label="score (higher = more tolerated)", unit="the scorer's own units",
                          zero="no stated reference", vs_wild_type=False)


def chain_z(label: str) -> ScoreMeaning:
    """Per-chain z-scores: 0 is the chain's typical substitution, the wild type is not on the scale."""
    return ScoreMeaning(label=label, unit="z units, SDs of the chain's substitutions",
                        zero="the chain's typical substitution", vs_wild_type=False)


#: Labels of results saved before meanings were stored, and what they meant.
_KNOWN_LABELS = {LOG_RATIO.label: LOG_RATIO, "fitted score (assay units, relative to the wild type)": FITTED}


def meaning_of(scorer) -> ScoreMeaning:
    """The scorer's declared meaning, or ``UNDECLARED`` for one that declares none."""
    meaning = getattr(scorer, "score_meaning", None)
    return meaning if isinstance(meaning, ScoreMeaning) else UNDECLARED


def meaning_from_saved(data: dict) -> ScoreMeaning:
    """The meaning stored in a result's dict form, or the one its older ``score_label`` implies."""
    if isinstance(data.get("score_meaning"), dict):
        return ScoreMeaning.from_dict(data["score_meaning"])
    label = data.get("score_label") or LOG_RATIO.label
    if label in _KNOWN_LABELS:
        return _KNOWN_LABELS[label]
    return chain_z(label) if "z units" in label else ScoreMeaning(label, UNDECLARED.unit, UNDECLARED.zero, False)

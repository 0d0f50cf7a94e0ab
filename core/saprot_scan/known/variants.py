"""What is already known about a protein's substitutions, merged from every source the user gave.

Positions are those of the source's own sequence (UniProt numbering for the variation JSON and AlphaMissense;
a lab's list is read the same way when a sequence is known, see ``known.mapping``), never the structure's.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

#: ClinVar significances read as pathogenic / benign (lower case; anything else is kept as text only).
PATHOGENIC_TERMS = frozenset({"pathogenic", "likely pathogenic", "pathogenic/likely pathogenic", "p", "lp", "p/lp",
                              "deleterious", "damaging", "disease"})
BENIGN_TERMS = frozenset({"benign", "likely benign", "benign/likely benign", "b", "lb", "b/lb", "neutral",
                          "tolerated"})
#: The normalised labels the agreement uses.
PATHOGENIC, BENIGN, CONFLICTING = "pathogenic", "benign", "conflicting"
#: AlphaMissense's classes as its per-protein CSV writes them, and what they mean.
AM_CLASSES = {"LBen": "likely benign", "Amb": "ambiguous", "LPath": "likely pathogenic"}


def label_of(terms: list[str] | tuple[str, ...]) -> str:
    """One label from clinical significance terms: pathogenic or benign when every labelled term agrees,
    conflicting when they do not, else the first other term in lower case ('' when there is none)."""
    low = [t.strip().lower() for t in terms if t and t.strip()]
    sick = any(t in PATHOGENIC_TERMS for t in low)
    fine = any(t in BENIGN_TERMS for t in low)
    if sick and fine:
        return CONFLICTING
    if sick:
        return PATHOGENIC
    if fine:
        return BENIGN
    return low[0] if low else ""


@dataclass(frozen=True)
class KnownVariant:
    """One single substitution at ``position`` (1-based, in the source's sequence) and what is known of it."""

    position: int
    wt: str
    mt: str
    clinical: tuple[str, ...] = ()  # clinical significance terms as the source wrote them
    gnomad: bool = False  # seen in gnomAD (a population variant)
    am_pathogenicity: float | None = None
    am_class: str = ""  # LBen, Amb or LPath
    sources: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return label_of(self.clinical)

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.position, self.wt, self.mt)

    def merged(self, other: "KnownVariant") -> "KnownVariant":
        """This variant with what ``other`` (the same substitution from another source) adds."""
        return replace(self, clinical=tuple(dict.fromkeys(self.clinical + other.clinical)),
                       gnomad=self.gnomad or other.gnomad,
                       am_pathogenicity=self.am_pathogenicity if other.am_pathogenicity is None
                       else other.am_pathogenicity,
                       am_class=other.am_class or self.am_class,
                       sources=tuple(dict.fromkeys(self.sources + other.sources)))


@dataclass
class KnownVariants:
    """Known substitutions of one protein: ``accession`` (UniProt, '' when unknown), ``sequence`` (the sequence
    the positions refer to, '' when no source carried one), the variants by (position, wt, mt), and one line
    per source read."""

    accession: str = ""
    sequence: str = ""
    variants: dict[tuple[int, str, str], KnownVariant] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    skipped: int = 0  # entries that are no single substitution (stops, indels, multi-mutants)

    def __len__(self) -> int:
        return len(self.variants)

    def add(self, variant: KnownVariant) -> None:
        old = self.variants.get(variant.key)
        self.variants[variant.key] = variant if old is None else old.merged(variant)

    def merge(self, other: "KnownVariants") -> "KnownVariants":
        """Both sources together (the first accession and sequence win; a different accession is an error for
        the caller to report, see ``known.combine``)."""
        out = KnownVariants(self.accession or other.accession, self.sequence or other.sequence,
                            dict(self.variants), self.sources + other.sources, self.skipped + other.skipped)
        for variant in other.variants.values():
            out.add(variant)
        return out

    def counts(self) -> dict[str, int]:
        """How many variants carry each kind of knowledge."""
        values = list(self.variants.values())
        return {"variants": len(values), "pathogenic": sum(v.label == PATHOGENIC for v in values),
                "benign": sum(v.label == BENIGN for v in values), "gnomad": sum(v.gnomad for v in values),
                "alphamissense": sum(v.am_pathogenicity is not None for v in values)}

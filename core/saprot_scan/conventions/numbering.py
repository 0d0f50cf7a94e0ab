"""Which residue a user's number means: author numbering, 1-based index, or a reference sequence's numbering.

- ``author``: the author residue number plus insertion code, as PyMOL and ChimeraX show them (``57``, ``52A``).
  The default: every PDB/mmCIF chain has them.
- ``index``: the 1-based position in the scored chain (the residues with a CA atom, in file order), as in
  ProteinGym and SaProt files and in the ``position`` column of scan's CSV.
- ``reference``: the position in a reference sequence (``--reference SEQ.fasta``), through the chain's
  alignment to it (``conventions.reference``).

Variants and selections are parsed as text by ``conventions.notation`` and resolved to chain indices here,
checked against the chain's wild type before any model work.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from saprot_scan.conventions.notation import parse_selection, parse_variant_text, variant_text
from saprot_scan.conventions.reference import Reference, ReferenceAlignment, align_to_reference
from saprot_scan.encoding.structure import Chain
from saprot_scan.errors import InputError
from saprot_scan.scoring.variants import Substitution

#: How typed residue numbers are read (``--numbering``).
NUMBERINGS = ("author", "index", "reference")


def default_numbering(numbering: str | None, has_reference: bool) -> str:
    """``None`` -> reference when a reference is given, else author; checks the name."""
    if numbering is None:
        return "reference" if has_reference else "author"
    if numbering not in NUMBERINGS:
        raise InputError(f"numbering must be one of {', '.join(NUMBERINGS)}, not {numbering!r}")
    if numbering == "reference" and not has_reference:
        raise InputError("--numbering reference needs --reference SEQ.fasta")
    return numbering


class Numbering:
    """Turns residue numbers typed in one numbering into chain indices, and names residues in all of them."""

    def __init__(self, chain: Chain, kind: str = "author", alignment: ReferenceAlignment | None = None):
        if kind not in NUMBERINGS:
            raise InputError(f"numbering must be one of {', '.join(NUMBERINGS)}, not {kind!r}")
        if kind == "reference" and alignment is None:
            raise InputError("--numbering reference needs --reference SEQ.fasta")
        self.chain, self.kind, self.alignment = chain, kind, alignment
        self._author: dict[tuple[int, str], int] = {}
        self._duplicated: set[tuple[int, str]] = set()
        for i, rid in enumerate(chain.residue_ids):
            key = (rid.number, rid.icode.upper())
            if key in self._author:
                self._duplicated.add(key)
            self._author.setdefault(key, i)
        self._reference: dict[int, int] = {}
        if alignment is not None:
            self._reference = {p: i for i, p in enumerate(alignment.positions) if p is not None}

    # -- naming
    def author_label(self, index: int) -> str:
        return self.chain.residue_ids[index].label

    def reference_position(self, index: int) -> int | None:
        return self.alignment.positions[index] if self.alignment is not None else None

    def label(self, index: int) -> str:
        """The residue's name in this numbering (what the user typed)."""
        if self.kind == "index":
            return str(index + 1)
        if self.kind == "reference":
            return str(self.reference_position(index))
        return self.author_label(index)

    def others(self, index: int) -> str:
        """The residue in the numberings the user did not type, e.g. ``"index 45"`` or ``"author residue 57"``."""
        parts = []
        if self.kind != "author":
            parts.append(f"author residue {self.author_label(index)}")
        if self.kind != "index":
            parts.append(f"index {index + 1}")
        if self.kind != "reference" and self.alignment is not None:
            ref = self.reference_position(index)
            parts.append(f"reference {ref}" if ref is not None else "not in the reference")
        return ", ".join(parts)

    def _author_range(self) -> str:
        ids = self.chain.residue_ids
        return f"{ids[0].label}..{ids[-1].label}"

    # -- lookup
    def find(self, number: int, icode: str = "", kind: str | None = None) -> int | None:
        """Chain index of the residue typed as ``number`` + ``icode`` (in this numbering, or ``kind``), or None
        when there is none."""
        icode, kind = icode.upper(), kind or self.kind
        if kind == "index":
            return number - 1 if not icode and 1 <= number <= len(self.chain.sequence) else None
        if kind == "reference":
            return self._reference.get(number) if not icode else None
        key = (number, icode)
        if key in self._duplicated:
            raise InputError(f"chain {self.chain.chain_id} has author residue {number}{icode} more than once; "
                             "use --numbering index")
        return self._author.get(key)

    def missing(self, label: str, number: int, icode: str) -> str:
        """Why a typed residue is not in the chain, in one phrase."""
        chain_id = self.chain.chain_id
        if self.kind == "index":
            return f"position {label} is outside the chain (1..{len(self.chain.sequence)})"
        if self.kind == "reference":
            lo, hi = self.alignment.span()
            if icode:
                return f"reference positions have no insertion codes ({label})"
            if not 1 <= number <= len(self.alignment.reference.sequence):
                return (f"reference position {label} is outside reference {self.alignment.reference.name} "
                        f"(1..{len(self.alignment.reference.sequence)})")
            return (f"reference position {label} is not in the structure (chain {chain_id} covers reference "
                    f"{lo}..{hi}, with gaps where residues are unresolved)")
        return f"chain {chain_id} has no author residue {label} (author numbers {self._author_range()})"

    def index_of(self, number: int, icode: str = "", what: str = "") -> int:
        index = self.find(number, icode)
        if index is None:
            raise InputError(f"{what}{self.missing(f'{number}{icode}', number, icode)}")
        return index

    # -- variants
    def resolve(self, text: str) -> "ResolvedVariant":
        """A variant typed in this numbering, checked against the chain's wild type."""
        sites = parse_variant_text(text)
        canonical = variant_text(sites)
        out, synonymous = [], 0
        for site in sites:
            index = self.find(site.number, site.icode)
            if index is None:
                raise InputError(f"mutation {canonical}: {self.missing(site.label, site.number, site.icode)}"
                                 f"{self._hint(site)}")
            actual = self.chain.sequence[index]
            if actual != site.wt:
                raise InputError(f"mutation {canonical}: {self._wrong_wild_type(site, index, actual)}")
            if site.synonymous:
                synonymous += 1
                continue
            out.append(Substitution(index, site.wt, site.mt))
        return ResolvedVariant(canonical, tuple(out), synonymous)

    def _wrong_wild_type(self, site, index: int, actual: str) -> str:
        where = "reference residue" if self.kind == "reference" else "residue"
        text = (f"{where} {site.label} is {actual}, not {site.wt} (chain {self.chain.chain_id}, {self.kind} "
                f"numbering; {self.others(index)})")
        if self.kind == "reference":
            ref_letter = self.alignment.reference.sequence[int(site.number) - 1]
            if ref_letter != actual:
                text += f"; the reference has {ref_letter} there"
        return text + self._hint(site)

    def _hint(self, site) -> str:
        """When another numbering would put the typed wild type at the typed number, say so."""
        hints = []
        for kind in NUMBERINGS:
            if kind == self.kind or (kind == "reference" and self.alignment is None):
                continue
            try:
                index = self.find(site.number, site.icode, kind)
            except InputError:
                continue
            if index is not None and self.chain.sequence[index] == site.wt:
                hints.append(f"{kind} {site.label} is {site.wt}: use --numbering {kind}"
                             + (" for 1-based positions" if kind == "index" else ""))
        return f"; {hints[0]}" if hints else ""

    # -- selections
    def select(self, text: str) -> list[int]:
        """Chain indices of a selection such as ``40-120,150`` or ``52A,82A-82C`` (sorted, unique)."""
        chosen: set[int] = set()
        for (n1, i1), (n2, i2) in parse_selection(text):
            label1, label2 = f"{n1}{i1}", f"{n2}{i2}"
            if (n1, i1) == (n2, i2):
                chosen.add(self.index_of(n1, i1, what=f"--residues {label1}: "))
                continue
            if not i1 and not i2:  # plain numbers: every residue numbered within the range
                if n1 > n2:
                    raise InputError(f"--residues {label1}-{label2}: the range runs backwards")
                picked = [i for i in range(len(self.chain.sequence)) if self._number(i) is not None
                          and n1 <= self._number(i) <= n2]
                if not picked:
                    raise InputError(f"--residues {label1}-{label2}: no residue of chain {self.chain.chain_id} in "
                                     f"that range ({self.kind} numbering; {self._extent()})")
                chosen.update(picked)
                continue
            first = self.index_of(n1, i1, what=f"--residues {label1}-{label2}: ")
            last = self.index_of(n2, i2, what=f"--residues {label1}-{label2}: ")
            if last < first:
                raise InputError(f"--residues {label1}-{label2}: the range runs backwards")
            chosen.update(range(first, last + 1))
        return sorted(chosen)

    def _number(self, index: int) -> int | None:
        if self.kind == "index":
            return index + 1
        if self.kind == "reference":
            return self.reference_position(index)
        return self.chain.residue_ids[index].number

    def _extent(self) -> str:
        if self.kind == "index":
            return f"positions 1..{len(self.chain.sequence)}"
        if self.kind == "reference":
            lo, hi = self.alignment.span()
            return f"reference positions {lo}..{hi}"
        return f"author numbers {self._author_range()}"


@dataclass(frozen=True)
class ResolvedVariant:
    """A variant checked against the chain: its canonical text, the sites to mask (synonymous ones left out)."""

    text: str
    sites: tuple[Substitution, ...]
    synonymous: int = 0


def chain_numbering(chain: Chain, numbering: str | None = None, reference: Reference | None = None) -> Numbering:
    """The numbering a user asked for on ``chain``, aligning it to ``reference`` when one is given."""
    kind = default_numbering(numbering, reference is not None)
    alignment = align_to_reference(chain, reference) if reference is not None else None
    return Numbering(chain, kind, alignment)


def resolve_variants(texts: Sequence[str], numbering: Numbering) -> list[ResolvedVariant]:
    """Every variant checked against the chain (the first bad one fails in one line), before any model work."""
    return [numbering.resolve(text) for text in texts]

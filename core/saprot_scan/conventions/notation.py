"""How users write variants and residue selections, as text only.

Which residue a number means is ``conventions.numbering``'s job.

Variants (case-insensitive; shown back in upper-case one-letter form):

- ``A23G``: wild type, residue number, mutant (ProteinGym/SaProt style).
- ``G100AA``: residue ``100A`` (author number 100, insertion code A), G to A. The rule that makes this
  unambiguous: the first letter is always the wild type and the LAST letter always the mutant; one letter
  between the number and the mutant is the insertion code. So ``G100A`` is residue 100 (no insertion
  code) to A, and ``G100AA`` is residue 100A to A.
- HGVS protein notation: ``p.Arg175His``, ``p.R175H``, ``p.(R175H)`` (predicted), ``p.Arg175=`` (synonymous);
  three-letter codes in any case.
- Multi-mutants: ``R175H:G245S``, ``R175H,G245S`` or HGVS ``p.[R175H;G245S]``; all sites of one variant are
  masked together (SaProt's rule).
- Synonymous sites (``I44I``, ``p.Ile44=``) are accepted: they change nothing, so they are not masked and add
  0 to the score; a variant made only of synonymous sites scores exactly 0.
- Stop codons, deletions, insertions and frame shifts are not substitutions and are refused.

Residue selections (``scan --residues``): ``40-120,150`` or with insertion codes ``52A``, ``82A-82C``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.errors import InputError

#: HGVS three-letter amino-acid codes.
THREE_LETTER = {"Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G",
                "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S",
                "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V"}
EXAMPLE = "expected e.g. A23G, G100AA (insertion code A), p.Arg175His, p.(R175H) or R175H:G245S"

_ONE = re.compile(r"^([A-Z])(-?\d+)([A-Z]?)([A-Z]|=)$")
_THREE = re.compile(r"^([A-Z][a-z]{2})(-?\d+)([A-Za-z]?)([A-Z][a-z]{2}|=)$")
_NOT_SUBSTITUTION = re.compile(r"(ter|\*|del|ins|dup|fs|ext|_)", re.IGNORECASE)
_RESIDUE = re.compile(r"^(-?\d+)([A-Za-z]?)$")


@dataclass(frozen=True)
class Site:
    """One substitution as typed: wild type, residue number (+ insertion code), mutant (upper case)."""

    wt: str
    number: int
    icode: str
    mt: str

    @property
    def label(self) -> str:
        """Residue as typed: ``"100"`` or ``"100A"``."""
        return f"{self.number}{self.icode}"

    @property
    def synonymous(self) -> bool:
        return self.wt == self.mt

    def __str__(self) -> str:
        return f"{self.wt}{self.label}{self.mt}"


def _title(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def parse_site(text: str) -> Site:
    """One site (``A23G``, ``G100AA``, ``Arg175His``, ``R175=``); any case; no ``p.`` prefix."""
    item = text.strip()
    match = _ONE.match(item.upper())
    if match:
        wt, number, icode, mt = match.groups()
    else:
        # Three-letter codes: normalise each code's case, keep the insertion code as typed then upper-case it.
        loose = re.match(r"^([A-Za-z]{3})(-?\d+)([A-Za-z]?)([A-Za-z]{3}|=)$", item)
        match = _THREE.match(f"{_title(loose.group(1))}{loose.group(2)}{loose.group(3)}"
                             f"{_title(loose.group(4)) if loose.group(4) != '=' else '='}") if loose else None
        if not match or match.group(1) not in THREE_LETTER or (match.group(4) != "=" and
                                                                 match.group(4) not in THREE_LETTER):
            if _NOT_SUBSTITUTION.search(item):
                raise InputError(f"mutation {text.strip()!r}: only amino-acid substitutions can be scored "
                                 "(not stops, deletions, insertions or frame shifts)")
            raise InputError(f"bad mutation {text.strip()!r}: {EXAMPLE}")
        wt = THREE_LETTER[match.group(1)]
        number, icode = match.group(2), match.group(3).upper()
        mt = "=" if match.group(4) == "=" else THREE_LETTER[match.group(4)]
    if mt == "=":
        mt = wt
    if wt not in AMINO_ACIDS or mt not in AMINO_ACIDS:
        raise InputError(f"bad mutation {text.strip()!r}: {EXAMPLE}")
    return Site(wt, int(number), icode, mt)


def parse_variant_text(text: str) -> tuple[Site, ...]:
    """All sites of one variant, in the order typed; a residue may appear only once."""
    raw = str(text).strip()
    if not raw:
        raise InputError("empty mutation ''")
    if raw.count("[") != raw.count("]") or raw.count("(") != raw.count(")"):
        raise InputError(f"bad mutation {raw!r}: unbalanced brackets; {EXAMPLE}")
    sites = []
    for part in re.split(r"[:;,]", raw):
        item = part.strip()
        if item[:2].lower() == "p.":
            item = item[2:]
        item = item.strip("[]() ")
        if not item:
            continue
        sites.append(parse_site(item))
    if not sites:
        raise InputError(f"empty mutation {raw!r}")
    labels = [s.label for s in sites]
    if len(set(labels)) != len(labels):
        raise InputError(f"mutation {raw}: a position is mutated twice")
    return tuple(sites)


def variant_text(sites) -> str:
    """The canonical form: one-letter sites joined by ``:`` (``R175H:G245S``)."""
    return ":".join(str(s) for s in sites)


def parse_residue_label(text: str) -> tuple[int, str]:
    """``"52"`` -> (52, ""), ``"52a"`` -> (52, "A"), ``"-3"`` -> (-3, "")."""
    match = _RESIDUE.match(text.strip())
    if not match:
        raise InputError(f"bad residue {text.strip()!r}: expected a number, optionally with an insertion code "
                         "(e.g. 52 or 52A)")
    return int(match.group(1)), match.group(2).upper()


def parse_selection(text: str) -> list[tuple[tuple[int, str], tuple[int, str]]]:
    """``"40-120,150,52A"`` -> [((40,''), (120,'')), ((150,''), (150,'')), ((52,'A'), (52,'A'))].

    A range's ends are residues (``82A-82C``); negative numbers are written ``-5--1``.
    """
    spans = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        match = re.match(r"^(-?\d+[A-Za-z]?)(?:\s*-\s*(-?\d+[A-Za-z]?))?$", part)
        if not match:
            raise InputError(f"bad residue selection {part!r}: expected e.g. 40-120,150 or 52A")
        first = parse_residue_label(match.group(1))
        last = parse_residue_label(match.group(2)) if match.group(2) else first
        spans.append((first, last))
    if not spans:
        raise InputError(f"empty residue selection {text!r}")
    return spans

"""Mutations worth making: the best single substitutions under filters, and separated combinations of them.

The filters are the ones users need (a score threshold, no P/G/C unless asked, K per residue, a residue
set to keep away from and a radius around it); the combinations are scored together as multi-mutants.

Works on any ScanResult: zero-shot scores, or a fitted model's (``design.fitting.apply_fitted``). What a
suggestion's score claims comes from the result's ``ScoreMeaning``: "better than the wild type" only for a
scorer whose 0 is the wild type; otherwise "most tolerated". A fitted result that knows its measured sites
ranks every suggestion at a measured site before any at an unmeasured one (whose fitted score has no site
term: it rests on the zero-shot score and the amino-acid term alone), and says how many there are.
"""
from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from saprot_scan.encoding.structure import Chain, ResidueId
from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.errors import InputError
from saprot_scan.results import ScanResult

RISKY = "PGC"  # proline, glycine, cysteine: left out unless asked for
DEFAULT_SEPARATION = 8.0  # CA-CA distance (Å) above which sites are taken as roughly additive
#: ``mutant`` is in chain-index numbering (1-based, as scan's CSV and ProteinGym); ``mutant_author`` in the author
#: numbering the terminal table and the viewers show; ``per_site`` is a combination's joint score / its sites.
CSV_COLUMNS = ("kind", "rank", "chain", "mutant", "mutant_author", "residues", "score", "sum_of_singles", "per_site",
               "measured")


@dataclass(frozen=True)
class Suggestion:
    """One single substitution: chain, 0-based index in the scored chain, author residue id, letters, score."""

    chain: str
    index: int
    residue: ResidueId
    wt: str
    mt: str
    score: float
    measured: bool | None = None  # fitted scores: whether an assay label touched this site; None: not known

    @property
    def mutant(self) -> str:
        """ProteinGym form: wild type + 1-based index in the scored chain + mutant."""
        return f"{self.wt}{self.index + 1}{self.mt}"

    @property
    def author(self) -> str:
        """Author numbering: wild type + residue number and insertion code + mutant."""
        return f"{self.wt}{self.residue.label}{self.mt}"


@dataclass(frozen=True)
class Combination:
    """Several suggestions at separated sites, with their joint (multi-mutant) score."""

    parts: tuple[Suggestion, ...]
    score: float

    @property
    def chain(self) -> str:
        return self.parts[0].chain

    @property
    def mutant(self) -> str:
        return ":".join(p.mutant for p in self.parts)

    @property
    def author(self) -> str:
        return ":".join(p.author for p in self.parts)

    @property
    def per_site(self) -> float:
        """The joint score per site: what ranks combinations of different sizes on a scale whose sums are no gain."""
        return self.score / len(self.parts)

    @property
    def additive(self) -> float:
        return float(sum(p.score for p in self.parts))


# ---------------------------------------------------------------------------------------------- residue sets

def _split_label(text: str) -> tuple[int, str]:
    text = text.strip()
    digits = text.lstrip("-")
    number = "".join(itertools.takewhile(str.isdigit, digits))
    icode = digits[len(number):]
    if not number or len(icode) > 1 or (icode and not icode.isalpha()):
        raise ValueError(text)
    return int(text[:len(text) - len(digits)] + number), icode.upper()


def parse_residue_set(text: str, chains: Sequence[Chain]) -> set[ResidueId]:
    """Residues named like ``"A:45-50,B:12,52A"`` (author numbering; the chain may be left out when the
    structure has one chain). Ranges run in the chain's residue order, from one residue to the other."""
    by_chain = {c.chain_id: c for c in chains}
    picked: set[ResidueId] = set()
    for item in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        if ":" in item:
            chain_id, spec = (x.strip() for x in item.split(":", 1))
        elif len(by_chain) == 1:
            chain_id, spec = next(iter(by_chain)), item
        else:
            raise InputError(f"residue {item!r}: the structure has chains {', '.join(by_chain)}; write e.g. "
                             f"{next(iter(by_chain))}:{item}")
        chain = by_chain.get(chain_id)
        if chain is None:
            raise InputError(f"residue {item!r}: no protein chain {chain_id} (chains: {', '.join(by_chain)})")
        bounds = spec.split("-") if spec.count("-") == 1 and not spec.startswith("-") else [spec]
        try:
            keys = [_split_label(b) for b in bounds]
        except ValueError:
            raise InputError(f"residue {item!r}: expected a residue number like 45, 52A or a range 45-50") from None
        positions = []
        for number, icode in keys:
            found = [i for i, r in enumerate(chain.residue_ids) if (r.number, r.icode.upper()) == (number, icode)]
            if not found:
                raise InputError(f"residue {item!r}: chain {chain_id} has no residue {number}{icode}")
            positions.append(found[0])
        lo, hi = min(positions), max(positions)
        picked.update(chain.residue_ids[lo:hi + 1])
    return picked


def near_residues(chain: Chain, avoid: set[ResidueId], all_chains: Sequence[Chain], radius: float) -> np.ndarray:
    """Boolean mask over ``chain``: residues in ``avoid`` or with any atom (side chains included) within
    ``radius`` Å of an atom of a residue in ``avoid`` (in any chain)."""
    from saprot_scan.encoding.contacts import atoms_of, residues_near

    out = np.array([r in avoid for r in chain.residue_ids], dtype=bool)
    if radius <= 0 or not avoid:
        return out
    targets = [atoms_of(c, np.array([r in avoid for r in c.residue_ids], dtype=bool)) for c in all_chains]
    return out | residues_near(chain, np.concatenate(targets), radius)


# ---------------------------------------------------------------------------------------------- suggestions

def check_allow(letters: str) -> str:
    letters = letters.upper().replace(",", "").replace(" ", "")
    bad = [c for c in letters if c not in RISKY]
    if bad:
        raise InputError(f"--allow takes letters among {RISKY} (proline, glycine, cysteine), not {''.join(bad)!r}")
    return letters


def suggest_singles(results: Sequence[ScanResult], excluded: dict[str, np.ndarray] | None = None, top: int = 20,
                    per_position: int = 1, allow: str = "", min_score: float = 0.0) -> list[Suggestion]:
    """The ``top`` single substitutions scoring above ``min_score``, best first: at most ``per_position``
    per residue, none to P/G/C unless in ``allow``, none at residues masked True in ``excluded[chain]``."""
    if top < 1 or per_position < 1:
        raise InputError("--top and --per-position must be at least 1")
    banned = set(RISKY) - set(check_allow(allow))
    found = []
    for result in results:
        skip = (excluded or {}).get(result.chain_id)
        measured = result.measured or (None,) * len(result.wt)
        for i, wt in enumerate(result.wt):
            if wt not in AMINO_ACIDS or (skip is not None and skip[i]):
                continue
            here = []
            for k, mt in enumerate(AMINO_ACIDS):
                value = float(result.scores[i, k])
                if mt == wt or mt in banned or not np.isfinite(value) or value <= min_score:
                    continue
                here.append(Suggestion(result.chain_id, i, result.residue_ids[i], wt, mt, value, measured[i]))
            here.sort(key=lambda s: (-s.score, s.mt))
            found.extend(here[:per_position])
    found.sort(key=lambda s: (s.measured is False, -s.score, s.chain, s.index, s.mt))  # measured sites first
    return found[:top]


def heading(meaning, count: int, min_score: float) -> str:
    """What the list claims, from the scores' declared meaning: never "better than the wild type" for a
    scorer whose 0 is not the wild type."""
    if meaning.vs_wild_type:
        what = "predicted better than the wild type" if min_score >= 0 else f"scoring above {min_score:g}"
        return f"top {count} single substitutions {what} (score > {min_score:g}; {meaning.label})"
    return (f"top {count} most tolerated single substitutions by {meaning.label}, score > {min_score:g} (0 is "
            f"{meaning.zero}, not the wild type: none is claimed better than the wild type)")


def unmeasured_note(singles: Sequence[Suggestion]) -> str:
    """How many suggestions sit at sites without assay labels, and how they were ranked; "" when none."""
    known = [s for s in singles if s.measured is not None]
    missing = sum(1 for s in known if not s.measured)
    if not known:
        return ""
    if not missing:
        return f"all {len(known)} suggestions sit at residues with assay labels"
    return (f"{missing} of {len(known)} suggestions sit at residues without assay labels (marked 'no data'): "
            "their fitted score has no site term, so they are ranked after every suggestion at a measured residue")


def ca_distance(chain: Chain, i: int, j: int) -> float:
    d = chain.coords[i, 1] - chain.coords[j, 1]
    return float(np.linalg.norm(d)) if np.all(np.isfinite(d)) else float("nan")


def propose_combinations(singles: Sequence[Suggestion], chains: dict[str, Chain],
                         score: Callable[[str, list[str]], Sequence[float]], count: int = 5, max_size: int = 3,
                         min_separation: float = DEFAULT_SEPARATION, pool: int = 12,
                         by_site: bool = False) -> list[Combination]:
    """Up to ``count`` combinations of 2..``max_size`` suggestions in one chain whose sites are all more than
    ``min_separation`` Å apart (CA-CA; sites without a CA are never combined). Candidates are ranked by the
    sum of their singles' scores, then scored together by ``score(chain_id, mutants)`` (multi-mutants), and
    the best joint scores kept; ``by_site``: the best joint scores per site (a scale whose multi-site sums grow with
    the number of sites and say no gain over the wild type, ``ScoreMeaning.sums_are_gains`` False)."""
    if count <= 0 or max_size < 2:
        return []
    candidates: list[tuple[float, tuple[Suggestion, ...]]] = []
    for chain_id in dict.fromkeys(s.chain for s in singles):
        best: dict[int, Suggestion] = {}
        for s in singles:
            if s.chain == chain_id and s.index not in best:
                best[s.index] = s
        members = sorted(best.values(), key=lambda s: -s.score)[:pool]
        chain = chains[chain_id]
        for size in range(2, max_size + 1):
            for combo in itertools.combinations(members, size):
                if all(ca_distance(chain, a.index, b.index) > min_separation
                       for a, b in itertools.combinations(combo, 2)):
                    ordered = tuple(sorted(combo, key=lambda s: s.index))
                    candidates.append((sum(s.score for s in combo), ordered))
    candidates.sort(key=lambda c: -c[0])
    shortlist = [c for _, c in candidates[:max(3 * count, count)]]
    out = []
    for chain_id in dict.fromkeys(c[0].chain for c in shortlist):
        group = [c for c in shortlist if c[0].chain == chain_id]
        joint = score(chain_id, [":".join(s.mutant for s in c) for c in group])
        out.extend(Combination(c, float(v)) for c, v in zip(group, joint))
    out.sort(key=lambda c: (-(c.per_site if by_site else c.score), c.mutant))
    return out[:count]


# ---------------------------------------------------------------------------------------------- output

def _residues(parts: Sequence[Suggestion]) -> str:
    return " ".join(f"{p.chain}:{p.residue.label}" for p in parts)


def suggestions_csv(singles: Sequence[Suggestion], combos: Sequence[Combination], extra=None) -> str:
    """The suggestions as CSV; ``extra`` = (column names, function Suggestion -> their values) appends columns
    to the single substitutions (e.g. what is known of them), left empty on combinations."""
    names, values_of = extra if extra is not None else ((), lambda s: ())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((*CSV_COLUMNS, *names))
    for rank, s in enumerate(singles, 1):
        writer.writerow(("single", rank, s.chain, s.mutant, s.author, _residues([s]), f"{s.score:.6f}", "", "",
                         _measured_text(s.measured), *values_of(s)))
    for rank, c in enumerate(combos, 1):
        flags = [p.measured for p in c.parts]
        writer.writerow(("combination", rank, c.chain, c.mutant, c.author, _residues(c.parts), f"{c.score:.6f}",
                         f"{c.additive:.6f}", f"{c.per_site:.6f}", "" if None in flags else _measured_text(all(flags)),
                         *("",) * len(names)))
    return buffer.getvalue()


def _measured_text(flag: bool | None) -> str:
    return {True: "yes", False: "no", None: ""}[flag]


def suggestions_table(singles: Sequence[Suggestion], combos: Sequence[Combination], joint_rule: str = "",
                      meaning=None) -> str:
    """A plain-text table for the terminal; ``meaning`` (the scores' ``ScoreMeaning``) words the joint score."""
    lines = []
    if not singles:
        return "no substitution passes the filters (none scores above the threshold there)\n"
    site = any(s.measured is not None for s in singles)
    lines.append(f"{'rank':>4}  {'chain':<5}  {'residue':<8}  {'mutant':<8}  {'score':>9}"
                 + ("  site" if site else ""))
    for rank, s in enumerate(singles, 1):
        lines.append(f"{rank:>4}  {s.chain:<5}  {s.residue.label:<8}  {s.author:<8}  {s.score:>9.3f}"
                     + (f"  {'measured' if s.measured else 'no data'}" if site else ""))
    if combos:
        lines.append("")
        lines.append(f"combinations of separated suggestions{joint_rule}:")
        by_site = meaning is not None and not meaning.sums_are_gains
        if by_site:
            lines.append(f"(joint score: {meaning.multi_site}; {meaning.unit} against {meaning.zero}: a large joint "
                         "score is many tolerated sites, not a predicted gain over the wild type; ranked by the joint "
                         "score per site)")
        width = max(len(" + ".join(p.author for p in c.parts)) for c in combos)
        lines.append(f"{'rank':>4}  {'chain':<5}  {'mutations':<{width}}  {'joint':>9}  {'sum of singles':>14}"
                     + (f"  {'per site':>8}" if by_site else ""))
        for rank, c in enumerate(combos, 1):
            text = " + ".join(p.author for p in c.parts)
            lines.append(f"{rank:>4}  {c.chain:<5}  {text:<{width}}  {c.score:>9.3f}  {c.additive:>14.3f}"
                         + (f"  {c.per_site:>8.3f}" if by_site else ""))
    return "\n".join(lines) + "\n"

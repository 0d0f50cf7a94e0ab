"""A reference sequence (e.g. the UniProt entry) and how a chain sits on it: read the FASTA, align, report.

The chain is aligned to the reference globally with free end gaps (biotite's aligner, BLOSUM62, gap open
-10, extend -1). The alignment is reported (identity over aligned pairs and over the whole chain, and the
chain's coverage), and a chain below 50% identity by either measure is refused, so a short chance overlap
of unrelated sequences cannot pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from saprot_scan.encoding.structure import Chain
from saprot_scan.errors import InputError

#: The least identity (over aligned pairs and over the whole chain) a chain needs to be read on a reference.
MIN_IDENTITY = 0.5

@dataclass(frozen=True)
class Reference:
    """A reference sequence read from a FASTA file."""

    name: str
    sequence: str


@dataclass(frozen=True)
class ReferenceAlignment:
    """How one chain sits on a reference: ``positions[i]`` is chain index i's 1-based reference position
    (None where the chain residue is not aligned to a reference residue)."""

    reference: Reference
    chain_id: str
    positions: tuple[int | None, ...]
    identical: int
    aligned: int

    @property
    def identity(self) -> float:
        return self.identical / self.aligned if self.aligned else 0.0

    @property
    def chain_identity(self) -> float:
        """Identical residues over all of the chain's residues: low when only a short stretch aligns."""
        return self.identical / len(self.positions) if self.positions else 0.0

    @property
    def coverage(self) -> float:
        """Fraction of the chain's residues aligned to a reference residue."""
        return self.aligned / len(self.positions) if self.positions else 0.0

    def span(self) -> tuple[int, int]:
        placed = [p for p in self.positions if p is not None]
        return (min(placed), max(placed)) if placed else (0, 0)

    def describe(self) -> str:
        lo, hi = self.span()
        return (f"chain {self.chain_id} on reference {self.reference.name} ({len(self.reference.sequence)} residues): "
                f"identity {100 * self.identity:.1f}% over {self.aligned} aligned residues "
                f"({100 * self.chain_identity:.1f}% over the whole chain); coverage "
                f"{self.aligned} of {len(self.positions)} chain residues ({100 * self.coverage:.1f}%), "
                f"reference positions {lo}..{hi}")


def read_reference(path: str | Path) -> Reference:
    """The first sequence of a FASTA file (a bare sequence without a header line also works)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such reference sequence file")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise InputError(f"{path}: cannot read the reference ({err.strerror})") from None
    name, letters, records = path.stem, [], 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith(">"):
            records += 1
            if records > 1:
                break
            name = line[1:].split()[0] if line[1:].split() else path.stem
            continue
        letters.append(line)
    sequence = "".join("".join(letters).split()).upper().replace("-", "").replace(".", "").rstrip("*")
    if not sequence:
        raise InputError(f"{path}: no sequence found; expected a FASTA file")
    bad = sorted({c for c in sequence if not c.isalpha()})
    if bad:
        raise InputError(f"{path}: not a protein sequence (found {''.join(bad)!r}); expected a FASTA file")
    return Reference(name, sequence)


def align_to_reference(chain: Chain, reference: Reference, min_identity: float = MIN_IDENTITY) -> ReferenceAlignment:
    """Align ``chain`` to ``reference``; refuse (InputError) below ``min_identity``."""
    from biotite.sequence import ProteinSequence
    from biotite.sequence.align import SubstitutionMatrix, align_optimal

    known = set(ProteinSequence.alphabet.get_symbols())
    chain_seq = ProteinSequence("".join(c if c in known else "X" for c in chain.sequence))
    ref_seq = ProteinSequence("".join(c if c in known else "X" for c in reference.sequence))
    matrix = SubstitutionMatrix.std_protein_matrix()
    alignment = align_optimal(chain_seq, ref_seq, matrix, gap_penalty=(-10, -1), terminal_penalty=False,
                              max_number=1)[0]
    positions: list[int | None] = [None] * len(chain.sequence)
    identical = aligned = 0
    for i, j in alignment.trace:
        if i < 0 or j < 0:
            continue
        positions[int(i)] = int(j) + 1
        aligned += 1
        identical += chain.sequence[i] == reference.sequence[j] and chain.sequence[i] != "X"
    result = ReferenceAlignment(reference, chain.chain_id, tuple(positions), identical, aligned)
    if min(result.identity, result.chain_identity) < min_identity:
        raise InputError(f"chain {chain.chain_id} does not match reference {reference.name}: "
                         f"{100 * result.identity:.1f}% identity over {aligned} aligned residues, "
                         f"{100 * result.chain_identity:.1f}% over the chain's {len(positions)} residues "
                         f"(at least {100 * min_identity:.0f}% needed); is it the right sequence and chain?")
    return result

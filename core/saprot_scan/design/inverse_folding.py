"""SaProt's inverse-folding reading of a structure (every amino acid hidden, every 3Di letter kept), and its files.

One pass per window over the fully masked sequence ("#" + 3Di letter at every residue) gives, per
position, P(aa | structure): the probability of the native amino acid (how well it fits the
structure), the most likely amino acid (the designed sequence) and native sequence recovery.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from saprot_scan.scoring.logits import LogitsModel, ProgressFn
from saprot_scan.encoding.structure import ResidueId
from saprot_scan.encoding.tokens import AMINO_ACIDS, StructureTokens
from saprot_scan.errors import InputError
from saprot_scan.models.registry import DEFAULT_MODEL_NAME
from saprot_scan.results import ScanResult
from saprot_scan.scoring.marginals import masked_token, unmasked_log_probs
from saprot_scan.scoring.meaning import ScoreMeaning

CSV_COLUMNS = ("chain", "position", "residue", "wt", "p_native", "designed", "p_designed")
DESIGN_MEANING = ScoreMeaning(label="log P(aa) - log P(native), every amino acid hidden", unit="natural-log ratio",
                              zero="the native amino acid", vs_wild_type=True)
DEFAULT_MODEL_NOTE = ("the embedded default model is small and not SaProt: SaProt models give far better designs "
                      "(saprot-scan models fetch saprot-650m)")


def check_designs(model) -> None:
    """A SaProt-format language model, or one clear InputError: a scorer without an amino-acid distribution
    (the structure scorer, an ensemble) scores substitutions but cannot propose a sequence."""
    if getattr(model, "kind", "language-model") != "language-model" or not hasattr(model, "logits"):
        raise InputError(f"design needs a SaProt-format language model; {model.name} scores substitutions but cannot "
                         f"propose a sequence. Offline: --model {DEFAULT_MODEL_NAME} (the small embedded model); "
                         "better: saprot-35m or saprot-650m (saprot-scan models fetch), or an .onnx file")


def design_log_probs(model: LogitsModel, tokens: StructureTokens, progress: ProgressFn | None = None) -> np.ndarray:
    """(L, 20) log P(aa) with every amino acid hidden (3Di kept); windows as in a scan for long chains."""
    masked = np.array([0] + [masked_token(s) for s in tokens.struct] + [2], dtype=np.int64)
    return unmasked_log_probs(model, masked, len(tokens.aa), progress)


@dataclass
class DesignResult:
    """Per-position amino-acid probabilities of one chain given only its structure."""

    chain_id: str
    residue_ids: tuple[ResidueId, ...]
    wt: str
    log_probs: np.ndarray
    model_name: str
    notes: list[str] = field(default_factory=list)

    @property
    def p_native(self) -> np.ndarray:
        """P(native aa | structure) per residue; NaN where the native residue is unknown."""
        out = np.full(len(self.wt), np.nan)
        for i, aa in enumerate(self.wt):
            if aa in AMINO_ACIDS:
                out[i] = float(np.exp(self.log_probs[i, AMINO_ACIDS.index(aa)]))
        return out

    @property
    def designed(self) -> str:
        """The most likely amino acid at every position."""
        return "".join(AMINO_ACIDS[int(k)] for k in np.argmax(self.log_probs, axis=1))

    @property
    def recovery(self) -> float:
        """Fraction of positions (with a known native amino acid) where the designed one is the native."""
        known = [i for i, aa in enumerate(self.wt) if aa in AMINO_ACIDS]
        return float(np.mean([self.designed[i] == self.wt[i] for i in known])) if known else float("nan")

    def as_scan_result(self) -> ScanResult:
        """log P(aa) - log P(native) as a ScanResult, so heatmaps and viewer colouring work unchanged."""
        wt_cols = np.array([AMINO_ACIDS.find(a) for a in self.wt])
        scores = np.full_like(self.log_probs, np.nan)
        ok = wt_cols >= 0
        scores[ok] = self.log_probs[ok] - self.log_probs[ok, wt_cols[ok]][:, None]
        return ScanResult(chain_id=self.chain_id, residue_ids=self.residue_ids, wt=self.wt, scores=scores,
                          method="design (all amino acids hidden)", model_name=self.model_name, notes=self.notes,
                          meaning=DESIGN_MEANING)

    def describe(self) -> str:
        return (f"chain {self.chain_id}: {len(self.wt)} residues, every amino acid hidden (3Di kept), "
                f"native sequence recovery {100 * self.recovery:.1f}%")


def design_chain(chain, model: LogitsModel, tokens: StructureTokens) -> DesignResult:
    """The inverse-folding reading of one chain (``tokens`` from ``chain_tokens``)."""
    check_designs(model)
    return DesignResult(chain_id=chain.chain_id, residue_ids=chain.residue_ids, wt=chain.sequence,
                        log_probs=design_log_probs(model, tokens), model_name=model.name)


def design_csv(results) -> str:
    """chain,position,residue,wt,p_native,designed,p_designed per residue of every result."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in results:
        p_native, designed = r.p_native, r.designed
        best = np.exp(np.max(r.log_probs, axis=1))
        for i, rid in enumerate(r.residue_ids):
            writer.writerow((r.chain_id, i + 1, rid.label, r.wt[i],
                             f"{p_native[i]:.6f}" if np.isfinite(p_native[i]) else "", designed[i], f"{best[i]:.6f}"))
    return buffer.getvalue()


def design_fasta(results, source: str = "") -> str:
    """The designed sequence of every result, with its native sequence recovery in the header."""
    return "".join(f">{source or 'structure'} chain {r.chain_id} designed (recovery {100 * r.recovery:.1f}%)\n"
                   f"{r.designed}\n" for r in results)

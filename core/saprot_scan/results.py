"""A chain's scan result: L x 20 scores keyed by residue id, per-residue summaries, CSV and JSON.

CSV columns are the public contract (DESIGN.md): chain,position,residue,wt,mt,mutant,score.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .atomic import write_text_atomic
from .errors import InputError
from .structure import ResidueId
from .tokens import AMINO_ACIDS

CSV_COLUMNS = ("chain", "position", "residue", "wt", "mt", "mutant", "score")
SUMMARIES = ("mean", "min", "max")


def check_summary(kind: str) -> str:
    """Validate a summary name: mean, min, max or one amino-acid letter."""
    kind = str(kind).strip()
    if kind.lower() in SUMMARIES:
        return kind.lower()
    if len(kind) == 1 and kind.upper() in AMINO_ACIDS:
        return kind.upper()
    raise InputError(f"summary must be mean, min, max or one amino-acid letter, not {kind!r}")


LOG_RATIO_LABEL = "SaProt log-ratio log P(mt)/P(wt)"


@dataclass
class ScanResult:
    """Scores of every substitution of one chain (columns in AMINO_ACIDS order; wild type = 0)."""

    chain_id: str
    residue_ids: tuple[ResidueId, ...]
    wt: str
    scores: np.ndarray
    method: str
    model_name: str
    model_sha256: str = ""
    struct: str = ""
    plddt_mask_applied: bool = False
    plddt_masked_count: int = 0
    windows: int = 1
    source: str = ""
    notes: list[str] = field(default_factory=list)
    score_label: str = LOG_RATIO_LABEL  # what the numbers are; the structure scorer and ensembles say theirs

    def __len__(self) -> int:
        return len(self.wt)

    def summary(self, kind: str = "mean") -> np.ndarray:
        """Per-residue number for colouring: mean/min/max over the 19 substitutions, or one target aa's score.

        Residues with an unknown wild type give NaN; a target equal to the wild type gives 0.
        """
        kind = check_summary(kind)
        if kind in AMINO_ACIDS:
            return self.scores[:, AMINO_ACIDS.index(kind)].copy()
        others = self.scores.copy()
        for i, aa in enumerate(self.wt):
            if aa in AMINO_ACIDS:
                others[i, AMINO_ACIDS.index(aa)] = np.nan
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return {"mean": np.nanmean, "min": np.nanmin, "max": np.nanmax}[kind](others, axis=1)

    def index_of(self, residue: ResidueId | str | int) -> int:
        """Index of a residue given as ResidueId, author label ("52A") or int author number."""
        if isinstance(residue, ResidueId):
            matches = [i for i, r in enumerate(self.residue_ids) if r == residue]
        else:
            label = str(residue).strip()
            matches = [i for i, r in enumerate(self.residue_ids) if r.label == label]
        if not matches:
            raise InputError(f"residue {residue} was not scored in chain {self.chain_id}")
        return matches[0]

    def substitutions(self, index: int) -> list[tuple[str, float]]:
        """The 19 substitutions at ``index``, best tolerated first."""
        wt = self.wt[index]
        pairs = [(aa, float(self.scores[index, k])) for k, aa in enumerate(AMINO_ACIDS) if aa != wt]
        return sorted(pairs, key=lambda p: (-p[1] if np.isfinite(p[1]) else np.inf, p[0]))

    def rows(self) -> list[tuple]:
        """CSV rows: one per substitution of every residue whose wild type is known."""
        out = []
        for i, (rid, wt) in enumerate(zip(self.residue_ids, self.wt)):
            if wt not in AMINO_ACIDS:
                continue
            for k, mt in enumerate(AMINO_ACIDS):
                if mt != wt:
                    out.append((self.chain_id, i + 1, rid.label, wt, mt, f"{wt}{i + 1}{mt}",
                                f"{self.scores[i, k]:.6f}"))
        return out

    @property
    def method_text(self) -> str:
        """How the numbers were made, as a person reads it ("masked marginal", or the scorer's own label)."""
        if self.score_label != LOG_RATIO_LABEL:
            return self.score_label
        return {"masked": "masked marginal", "wt": "wild-type marginal"}.get(self.method, self.method)

    def describe(self) -> str:
        """One line on what was scored and how (masking, windows)."""
        how = f"{self.method}-marginal" if self.score_label == LOG_RATIO_LABEL else self.score_label
        parts = [f"chain {self.chain_id}: {len(self)} residues, {how}, model {self.model_name}"]
        if self.plddt_mask_applied:
            parts.append(f"pLDDT masking applied to {self.plddt_masked_count} residues")
        else:
            parts.append("no pLDDT masking")
        if self.windows > 1:
            parts.append(f"scored in {self.windows} overlapping windows of up to 1022 residues")
        return "; ".join(parts)

    def write_csv(self, path: str | os.PathLike) -> None:
        write_csv([self], path)

    def write_json(self, path: str | os.PathLike) -> None:
        write_json([self], path)

    def to_dict(self) -> dict:
        return {
            "chain": self.chain_id, "method": self.method, "model": self.model_name,
            "model_sha256": self.model_sha256, "source": self.source, "sequence": self.wt,
            "structure_3di": self.struct, "plddt_mask_applied": self.plddt_mask_applied,
            "plddt_masked_residues": self.plddt_masked_count, "windows": self.windows,
            "amino_acids": AMINO_ACIDS, "notes": self.notes, "score_label": self.score_label,
            "residues": [
                {"position": i + 1, "residue": rid.label, "wt": self.wt[i],
                 "scores": [None if not np.isfinite(v) else round(float(v), 6) for v in self.scores[i]],
                 "mean": _finite(self.summary("mean")[i]), "min": _finite(self.summary("min")[i]),
                 "max": _finite(self.summary("max")[i])}
                for i, rid in enumerate(self.residue_ids)
            ],
        }


def _finite(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None


def csv_text(results: Sequence[ScanResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in results:
        writer.writerows(result.rows())
    return buffer.getvalue()


def write_csv(results: Sequence[ScanResult], path: str | os.PathLike) -> None:
    """All chains' substitutions in one CSV, written all-or-nothing."""
    write_text_atomic(path, csv_text(results))


def write_json(results: Sequence[ScanResult], path: str | os.PathLike) -> None:
    write_text_atomic(path, json.dumps({"chains": [r.to_dict() for r in results]}, indent=1))


def summary_csv_text(results: Sequence[ScanResult]) -> str:
    """Per-residue summary table: chain, position, residue, wt, mean, min, max over the 19 substitutions."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("chain", "position", "residue", "wt", "mean", "min", "max"))
    for r in results:
        mean, low, high = r.summary("mean"), r.summary("min"), r.summary("max")
        for i, rid in enumerate(r.residue_ids):
            writer.writerow((r.chain_id, i + 1, rid.label, r.wt[i],
                             *(f"{v:.6f}" if np.isfinite(v) else "" for v in (mean[i], low[i], high[i]))))
    return buffer.getvalue()


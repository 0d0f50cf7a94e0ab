"""``ScanResult``: one chain's L x 20 scores keyed by residue id, its per-residue summaries, and its dict form.

Files are written by ``outputs`` (CSV, JSON, heatmap); ``to_dict``/``from_dict`` are the one way a result
is saved and restored (the JSON output, the viewers' sessions).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from saprot_scan.encoding.structure import ResidueId
from saprot_scan.encoding.tokens import AMINO_ACIDS, MAX_RESIDUES
from saprot_scan.errors import InputError
from saprot_scan.scoring.meaning import LOG_RATIO, ScoreMeaning, meaning_from_saved, meaning_of_named

#: Per-residue summaries over the 19 substitutions; a single amino-acid letter is also accepted.
SUMMARIES = ("mean", "min", "max")
_LABEL = re.compile(r"^(-?\d+)(.*)$")


def check_summary(kind: str) -> str:
    """Validate a summary name: mean, min, max or one amino-acid letter."""
    kind = str(kind).strip()
    if kind.lower() in SUMMARIES:
        return kind.lower()
    if len(kind) == 1 and kind.upper() in AMINO_ACIDS:
        return kind.upper()
    raise InputError(f"summary must be mean, min, max or one amino-acid letter, not {kind!r}")


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
    meaning: ScoreMeaning = LOG_RATIO  # what the numbers are and what 0 is: colour bars, logs and files say it
    #: 1-based chain positions of the rows when only some residues were scanned (empty: all, in order).
    positions: tuple[int, ...] = ()
    #: per row, whether assay labels touched the residue (fitted scores only; empty: not known / not fitted).
    measured: tuple[bool, ...] = ()
    #: per row, whether the residue has a heavy atom within 5 A of another chain of the file (empty: no other
    #: chain was read: a single-chain file, or a viewer's chain on its own).
    interface: tuple[bool, ...] = ()
    #: whether the structure scorer saw the file's other chains as context ("on"/"off"; "" when not asked).
    partner_context: str = ""
    #: (L, 20) percentiles kept from the whole chain when this result is a selection of it (None: compute).
    ranks: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: the "known_variants" block (``saprot_scan.known``): known variants placed on this chain, the agreement.
    known: dict | None = field(default=None, repr=False, compare=False)
    #: per row, whether its masked marginal was computed, when a stopped scan left some undone (empty: all were);
    #: undone rows are NaN, and every output marks the result partial (``partial``).
    scanned: tuple[bool, ...] = ()

    @property
    def partial(self) -> bool:
        """True for a stopped scan's result: some residues were never scored (a rerun resumes from the rest)."""
        return bool(self.scanned) and not all(self.scanned)

    @property
    def scanned_count(self) -> int:
        """How many residues carry scores (all of them unless ``partial``)."""
        return sum(self.scanned) if self.scanned else len(self)

    def partial_text(self) -> str:
        """What a partial result holds, in one phrase every output uses ('' for a complete one)."""
        if not self.partial:
            return ""
        return (f"partial: {self.scanned_count} of {len(self)} residues scored before the scan was stopped "
                "(run the scan again to complete it; the scored residues are reused)")

    @property
    def score_label(self) -> str:
        """What the numbers are, in a few words (the meaning's label)."""
        return self.meaning.label

    def __len__(self) -> int:
        return len(self.wt)

    def position(self, index: int) -> int:
        """The 1-based position in the scored chain of row ``index``."""
        return self.positions[index] if self.positions else index + 1

    def subset(self, indices: Sequence[int]) -> "ScanResult":
        """The rows at ``indices`` (0-based rows of this result); positions stay positions in the chain."""
        indices = [int(i) for i in indices]
        return replace(self, residue_ids=tuple(self.residue_ids[i] for i in indices),
                       wt="".join(self.wt[i] for i in indices), scores=np.asarray(self.scores)[indices],
                       struct="".join(self.struct[i] for i in indices) if self.struct else "",
                       positions=tuple(self.position(i) for i in indices), notes=list(self.notes),
                       measured=tuple(self.measured[i] for i in indices) if self.measured else (),
                       interface=tuple(self.interface[i] for i in indices) if self.interface else (),
                       ranks=self.percentiles()[indices],
                       scanned=tuple(self.scanned[i] for i in indices) if self.scanned else ())

    def summary(self, kind: str = "mean") -> np.ndarray:
        """Per-residue number for colouring: mean/min/max over the 19 substitutions, or one target aa's score.

        Residues with an unknown wild type give NaN; a target equal to the wild type gives 0.
        """
        return _summarise(self.scores, self.wt, kind)

    def percentile_summary(self, kind: str = "mean") -> np.ndarray:
        """The same per-residue summary over the substitutions' percentiles within the chain (a viewer's
        ``saprot_percentile``): the same meaning for every scorer. NaN at unknown wild types and for a target
        equal to the wild type."""
        return _summarise(self.percentiles(), self.wt, kind)

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
        """CSV rows: one per substitution of every residue whose wild type is known: the seven contract
        columns, then the percentile within the chain and its class (``scoring.percentiles``). A residue a
        stopped scan did not reach has an empty score (``partial``)."""
        from saprot_scan.scoring.percentiles import class_of

        percentile = self.percentiles()
        out = []
        for i, (rid, wt) in enumerate(zip(self.residue_ids, self.wt)):
            if wt not in AMINO_ACIDS:
                continue
            position = self.position(i)
            for k, mt in enumerate(AMINO_ACIDS):
                if mt != wt:
                    p = percentile[i, k]
                    value = self.scores[i, k]
                    out.append((self.chain_id, position, rid.label, wt, mt, f"{wt}{position}{mt}",
                                f"{value:.6f}" if np.isfinite(value) or not self.scanned else "", f"{p:.2f}" if np.isfinite(p) else "", class_of(p)))
        return out

    def percentiles(self) -> np.ndarray:
        """(L, 20) percentile of each substitution among the chain's scored substitutions (0-100, higher = more
        tolerated; NaN at the wild type and unscored cells): the same meaning whatever the scorer. A selection
        (``subset``) keeps the percentiles of the result it was cut from."""
        from saprot_scan.scoring.percentiles import chain_percentiles

        if self.ranks is not None:
            return np.array(self.ranks, dtype=float)
        return chain_percentiles(self.scores, self.wt)

    @property
    def method_text(self) -> str:
        """How the numbers were made, as a person reads it: "masked marginal", or the scorer's own label."""
        if self.meaning != LOG_RATIO:
            return self.score_label
        return {"masked": "masked marginal", "wt": "wild-type marginal"}.get(self.method, self.method)

    def describe(self) -> str:
        """One line on what was scored and how (masking, windows)."""
        how = f"{self.method}-marginal" if self.meaning == LOG_RATIO else self.score_label
        parts = [f"chain {self.chain_id}: {len(self)} residues, {how}, model {self.model_name}"]
        if self.plddt_mask_applied:
            parts.append(f"pLDDT masking applied to {self.plddt_masked_count} residues")
        else:
            parts.append("no pLDDT masking")
        if self.windows > 1:
            parts.append(f"scored in {self.windows} overlapping windows of up to {MAX_RESIDUES} residues")
        if self.interface:
            parts.append(self.interface_text())
        if self.partial:
            parts.append(self.partial_text())
        return "; ".join(parts)

    def interface_text(self) -> str:
        """How many residues touch another chain and whether the scores saw it."""
        return f"{sum(self.interface)} interface residues (an atom within 5 Å of another chain; {self.partners_seen()})"

    def partners_seen(self) -> str:
        """Whether the scores saw the other chains of the structure (every route says it in these words)."""
        if self.partner_context == "on":
            return "the structure scorer counted the partner chains in burial (partner context on); SaProt reads one chain"
        if self.meaning == LOG_RATIO:
            return "SaProt reads this chain alone"
        return "scored without the partner chains (partner context off)"

    def to_dict(self, rounded: bool = True) -> dict:
        """JSON-able form (the ``--json`` output); ``rounded=False`` keeps every score exactly, for sessions."""
        def number(value: float) -> float | None:
            if not np.isfinite(value):
                return None
            return round(float(value), 6) if rounded else float(value)

        mean, low, high = self.summary("mean"), self.summary("min"), self.summary("max")
        percentile = self.percentiles()
        return {
            "chain": self.chain_id, "method": self.method, "model": self.model_name,
            "model_sha256": self.model_sha256, "source": self.source, "sequence": self.wt,
            "structure_3di": self.struct, "plddt_mask_applied": self.plddt_mask_applied,
            "plddt_masked_residues": self.plddt_masked_count, "windows": self.windows,
            "amino_acids": AMINO_ACIDS, "notes": self.notes, "score_label": self.score_label,
            "score_meaning": self.meaning.to_dict(),
            **({"partner_context": self.partner_context} if self.partner_context else {}),
            **({"partial": True, "scanned_residues": self.scanned_count, "partial_note": self.partial_text()}
               if self.partial else {}),
            "residues": [
                {"position": self.position(i), "residue": rid.label, "wt": self.wt[i],
                 "scores": [number(v) for v in self.scores[i]],
                 "percentiles": [None if not np.isfinite(v) else round(float(v), 2) for v in percentile[i]],
                 "mean": number(mean[i]), "min": number(low[i]), "max": number(high[i]),
                 **({"measured": self.measured[i]} if self.measured else {}),
                 **({"interface": self.interface[i]} if self.interface else {}),
                 **({"scanned": self.scanned[i]} if self.partial else {})}
                for i, rid in enumerate(self.residue_ids)
            ],
            **({"known_variants": self.known} if self.known else {}),
        }


    @classmethod
    def from_dict(cls, data: dict) -> "ScanResult":
        """The result ``to_dict`` described (scores as stored there: rounded unless saved with rounded=False)."""
        order = data.get("amino_acids", AMINO_ACIDS)
        columns = [order.index(aa) for aa in AMINO_ACIDS]
        ids, scores = [], np.full((len(data["residues"]), 20), np.nan)
        positions = tuple(int(r.get("position", i + 1)) for i, r in enumerate(data["residues"]))
        for i, residue in enumerate(data["residues"]):
            number, icode = _LABEL.match(str(residue["residue"])).groups()
            ids.append(ResidueId(data["chain"], int(number), icode))
            scores[i] = [np.nan if residue["scores"][k] is None else residue["scores"][k] for k in columns]
        return cls(chain_id=data["chain"], residue_ids=tuple(ids), wt=data["sequence"], scores=scores,
                   method=data["method"], model_name=data["model"], model_sha256=data.get("model_sha256", ""),
                   struct=data.get("structure_3di", ""), plddt_mask_applied=bool(data.get("plddt_mask_applied")),
                   plddt_masked_count=int(data.get("plddt_masked_residues", 0)), windows=int(data.get("windows", 1)),
                   source=data.get("source", ""), notes=list(data.get("notes", [])),
                   meaning=_saved_meaning(data),
                   positions=() if positions == tuple(range(1, len(positions) + 1)) else positions,
                   measured=tuple(bool(r["measured"]) for r in data["residues"])
                   if data["residues"] and all("measured" in r for r in data["residues"]) else (),
                   interface=tuple(bool(r["interface"]) for r in data["residues"])
                   if data["residues"] and all("interface" in r for r in data["residues"]) else (),
                   partner_context=str(data.get("partner_context", "")),
                   ranks=_saved_ranks(data["residues"], columns), known=data.get("known_variants"),
                   scanned=tuple(bool(r["scanned"]) for r in data["residues"])
                   if data.get("partial") and all("scanned" in r for r in data["residues"]) else ())


def _saved_meaning(data: dict) -> ScoreMeaning:
    """The meaning a saved result carried, or the one its label or model name settles; else one clear error
    (a file from before meanings were stored, by a scorer this installation cannot name)."""
    found = meaning_from_saved(data, meaning_of_named)
    if found is None:
        raise InputError(f"saved scores of model {data.get('model')!r} do not say what they mean (written before "
                         "meanings were stored) and the model name does not settle it; scan again")
    return found


def _saved_ranks(residues: list, columns: list[int]) -> np.ndarray | None:
    """The percentiles a saved result carried (None when it carried none: they are computed again)."""
    if not residues or not all("percentiles" in r for r in residues):
        return None
    return np.array([[np.nan if r["percentiles"][k] is None else r["percentiles"][k] for k in columns]
                     for r in residues], dtype=float)


def _summarise(matrix: np.ndarray, wt: str, kind: str) -> np.ndarray:
    """mean/min/max over each row's 19 substitutions (the wild type's cell left out), or one column."""
    kind = check_summary(kind)
    if kind in AMINO_ACIDS:
        return np.array(matrix[:, AMINO_ACIDS.index(kind)], dtype=float)
    others = np.array(matrix, dtype=float)
    for i, aa in enumerate(wt):
        if aa in AMINO_ACIDS:
            others[i, AMINO_ACIDS.index(aa)] = np.nan
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return {"mean": np.nanmean, "min": np.nanmin, "max": np.nanmax}[kind](others, axis=1)

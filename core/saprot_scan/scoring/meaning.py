"""What a scorer's numbers mean: their unit, what their 0 is, and whether > 0 says "better than the wild type".

Every scorer declares one ``ScoreMeaning`` (attribute ``score_meaning``; ``meaning_of`` gives the default for a
scorer that declares none) and every ScanResult carries it, so colour bars, legends, log lines, suggestion
texts and file headers all say the same thing, taken from here. Standard library only (scorer kinds are
looked up by name through ``kinds``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class ScoreMeaning:
    """The meaning of one scorer's numbers (higher = more tolerated for every scorer)."""

    label: str  #: what the numbers are, for colour bars, headings and the JSON's ``score_label``
    unit: str  #: the unit in a few words ("log-ratio", "z units", "assay units")
    zero: str  #: what a score of 0 is
    vs_wild_type: bool  #: True when > 0 means "predicted better than the wild type"
    #: how a variant with several sites gets its one number
    multi_site: str = "the scorer's own multi-site rule (not stated)"
    #: what a synonymous site (the wild type kept) gets; ``synonymous_score`` is that number, or None: no score
    synonymous: str = "not stated"
    synonymous_score: float | None = None

    @property
    def sums_are_gains(self) -> bool:
        """Whether a multi-site score reads as a predicted gain over the wild type (only where 0 is the wild
        type): a sum of per-chain z-scores counts tolerated sites, it is no gain."""
        return self.vs_wild_type

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
        """The meaning ``to_dict`` wrote; a dict written before the multi-site and synonymous fields gets
        those of the known meaning with the same label (or "not stated")."""
        base = cls(label=str(data["label"]), unit=str(data["unit"]), zero=str(data["zero"]),
                   vs_wild_type=bool(data["vs_wild_type"]))
        if base.label == FITTED.label and "multi_site" not in data:
            return FITTED_INTERCEPT  # fitted before the wild type was measured: relative to the intercept
        known = next((m for m in _KNOWN_LABELS.values() if (m.label, m.unit, m.zero, m.vs_wild_type)
                      == (base.label, base.unit, base.zero, base.vs_wild_type)), None)
        if known is None and base.unit == _Z_UNIT:
            known = chain_z(base.label)
        fields = {"multi_site": data.get("multi_site"), "synonymous": data.get("synonymous")}
        out = replace(base, **{k: str(v) for k, v in fields.items() if v is not None})
        if known is not None:
            out = replace(out, **{k: getattr(known, k) for k, v in fields.items() if v is None})
            if "synonymous_score" not in data:
                out = replace(out, synonymous_score=known.synonymous_score)
        if "synonymous_score" in data:
            value = data["synonymous_score"]
            out = replace(out, synonymous_score=None if value is None else float(value))
        return out

    def synonymous_text(self) -> str:
        """What a variant made only of synonymous sites is, for a table cell: its score, or "" (no score)."""
        return "" if self.synonymous_score is None else f"{self.synonymous_score:.6f}"


_WILD_TYPE_ITSELF = "0: it is the wild type"
#: SaProt and every masked language model scored by ``scoring.marginals``.
LOG_RATIO = ScoreMeaning(label="SaProt log-ratio log P(mt)/P(wt)", unit="natural-log ratio",
                         zero="the wild type", vs_wild_type=True,
                         multi_site="masked marginal: all sites masked in one pass and their log-ratios added "
                                    "(wild-type marginal: the sum of the single scores); a log-ratio against "
                                    "the wild type like a single's",
                         synonymous=f"{_WILD_TYPE_ITSELF} (log P(wt)/P(wt)); it adds nothing to a multi-site "
                                    "score", synonymous_score=0.0)
_FITTED_MULTI = ("the model's prediction for the whole variant: zero-shot weight x the variant's zero-shot score "
                 "+ each site's learnt effect")
#: A fitted model anchored to the measured wild type (``design.fitting``; labels with a wild-type row).
FITTED = ScoreMeaning(label="fitted score (predicted assay value minus the wild type's)", unit="assay units",
                      zero="the wild type", vs_wild_type=True,
                      multi_site=_FITTED_MULTI + ", minus the measured wild type",
                      synonymous=f"{_WILD_TYPE_ITSELF} (its measured value is the reference)", synonymous_score=0.0)
#: A fitted model whose labels held no wild type: relative to the mean label, no claim about the wild type.
FITTED_MEAN = ScoreMeaning(label="fitted score (predicted assay value minus the average measured variant's)",
                           unit="assay units", zero="the average measured variant", vs_wild_type=False,
                           multi_site=_FITTED_MULTI + ", minus the mean of the labels",
                           synonymous="no score: the labels hold no wild-type measurement (add a WT row or "
                                      "--wild-type-score to anchor the fit)")
#: A fitted model saved before the reference was recorded: relative to its intercept (near the mean label).
FITTED_INTERCEPT = ScoreMeaning(label="fitted score (assay units, relative to the model's intercept)",
                                unit="assay units", zero="the fitted model's intercept (near the average measured "
                                "variant)", vs_wild_type=False, multi_site=_FITTED_MULTI,
                                synonymous="no score: this fitted-model file does not record the wild type (fit "
                                           "it again to anchor it)")
#: What a scorer that declares nothing is taken to mean: higher = more tolerated, nothing more.
UNDECLARED = ScoreMeaning(label="score (higher = more tolerated)", unit="the scorer's own units",
                          zero="no stated reference", vs_wild_type=False)
_Z_UNIT = "z units, SDs of the chain's substitutions"


def chain_z(label: str) -> ScoreMeaning:
    """Per-chain z-scores: 0 is the chain's typical substitution, the wild type is not on the scale."""
    return ScoreMeaning(label=label, unit=_Z_UNIT, zero="the chain's typical substitution", vs_wild_type=False,
                        multi_site="the sum of the sites' z-scores: it grows with the number of sites, so it "
                                   "ranks variants of the same size only and is no predicted gain",
                        synonymous="no score: the wild type is not on this scale (0 is the chain's typical "
                                   "substitution); a synonymous site adds nothing to a multi-site sum")


#: Labels of results saved before meanings were stored, and what they meant.
_KNOWN_LABELS = {LOG_RATIO.label: LOG_RATIO, FITTED.label: FITTED, FITTED_MEAN.label: FITTED_MEAN,
                 FITTED_INTERCEPT.label: FITTED_INTERCEPT,
                 "fitted score (assay units, relative to the wild type)": FITTED_INTERCEPT}


def meaning_of(scorer) -> ScoreMeaning:
    """The scorer's declared meaning, or ``UNDECLARED`` for one that declares none."""
    meaning = getattr(scorer, "score_meaning", None)
    return meaning if isinstance(meaning, ScoreMeaning) else UNDECLARED


def meaning_of_named(name: str) -> ScoreMeaning | None:
    """The meaning of the scores the scorer called ``name`` makes, for results saved without one (batch folders
    and JSON written before meanings were stored); None when the name does not settle it (a fitted or unknown
    scorer), so the reader refuses rather than guesses. An ONNX model always gives SaProt's log-ratio."""
    from saprot_scan.kinds import DEFAULT_KIND, kind_loader, split_spec

    name = str(name or "").strip()
    if not name or " " in name:
        return None
    kind, spec = split_spec(name)
    if kind == DEFAULT_KIND:
        return LOG_RATIO
    try:
        return meaning_of(kind_loader(kind)(spec, "cpu", "auto"))
    except Exception:  # noqa: BLE001 - a scorer (or part) that no longer loads: the name settles nothing
        return None


def meaning_from_saved(data: dict, by_model=None) -> ScoreMeaning | None:
    """The meaning stored in a result's dict form, or the one its older ``score_label`` implies, or (a file
    written before labels were stored) ``by_model(model name)``; None when nothing says: the caller refuses
    to guess rather than take SaProt's meaning for numbers that may be z-scores."""
    if isinstance(data.get("score_meaning"), dict):
        return ScoreMeaning.from_dict(data["score_meaning"])
    label = data.get("score_label")
    if not label:
        return by_model(str(data.get("model", ""))) if by_model is not None else None
    if label in _KNOWN_LABELS:
        return _KNOWN_LABELS[label]
    return chain_z(label) if "z units" in label else ScoreMeaning(label, UNDECLARED.unit, UNDECLARED.zero, False)


#: Who makes numbers of each meaning, for the table in docs/scores.md (``meanings_markdown``).
_TABLE_ROWS = (("SaProt models (`saprot-35m`, `saprot-650m`, `saprot-scan-default`, .onnx files)", LOG_RATIO),
               ("`structure-blend` (offline default), `burial-blosum`, `learned-structure`, ensembles (`A+B`)",
                chain_z("")),
               ("fitted model, labels with a wild type (a `WT`/`_wt`/`_sy` row, a synonymous variant or "
                "`fit --wild-type-score`)", FITTED),
               ("fitted model, labels without a wild type", FITTED_MEAN),
               ("fitted-model file saved before the reference was recorded", FITTED_INTERCEPT))


def meanings_markdown() -> str:
    """The table of docs/scores.md: per scorer, the unit, what 0 is, what > 0 says, how a multi-site score is
    formed and what a synonymous site gets, from the meanings themselves (a test keeps the page in step)."""
    lines = ["| scorer | unit | 0 is | > 0 says | a multi-site score is | a synonymous site gets |",
             "|---|---|---|---|---|---|"]
    for who, m in _TABLE_ROWS:
        says = "predicted better than the wild type" if m.vs_wild_type else \
            f"more tolerated than {m.zero}; nothing against the wild type"
        lines.append(f"| {who} | {m.unit} | {m.zero} | {says} | {m.multi_site} | {m.synonymous} |")
    return "\n".join(lines)

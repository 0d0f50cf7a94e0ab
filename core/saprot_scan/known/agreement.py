"""How well a scorer's numbers agree with what is known about this one protein.

- ROC AUC of the scores separating ClinVar pathogenic/likely pathogenic from benign/likely benign variants
  (low score = predicted damaging, so the AUC is the chance that a benign variant scores above a pathogenic
  one; 1 = perfect, 0.5 = chance). It is the Mann-Whitney U over the two groups (mid-ranks for ties), the same
  number as scikit-learn's ``roc_auc_score(is_pathogenic, -score)``. The 95% interval comes from a stratified
  bootstrap (``BOOTSTRAP`` resamples of each group, fixed seed). Below ``MIN_PER_CLASS`` variants in either
  group it says "too few to say" instead of a number.
- Spearman's rho between the scores and AlphaMissense's -am_pathogenicity over every substitution both
  score (positive = they agree), as scipy's ``spearmanr``; below ``MIN_SPEARMAN`` pairs, too few to say.
- The substitutions where the two disagree most: the largest gaps between their percentile ranks.
"""
from __future__ import annotations

import numpy as np

from saprot_scan.scoring.agreement import average_ranks

#: The fewest variants of each group (pathogenic, benign) the ROC AUC is given for.
MIN_PER_CLASS = 5
#: The fewest substitutions scored by both that a Spearman rho is given for.
MIN_SPEARMAN = 10
BOOTSTRAP = 2000
CONFIDENCE = 0.95
SEED = 0
#: How many of the most disagreeing substitutions are listed.
DISAGREEMENTS = 10


def roc_auc(pathogenic_scores, benign_scores) -> float:
    """The chance that a benign variant scores above a pathogenic one (ties count half): Mann-Whitney U / n1 n0."""
    sick, fine = np.asarray(pathogenic_scores, float), np.asarray(benign_scores, float)
    ranks = average_ranks(np.concatenate([fine, sick]))  # benign high scores should rank high
    u = ranks[:len(fine)].sum() + len(fine) - len(fine) * (len(fine) + 1) / 2  # 0-based ranks: + n
    return float(u / (len(fine) * len(sick)))


def _bootstrap(sick: np.ndarray, fine: np.ndarray) -> tuple[float, float]:
    """Percentile interval of the AUC over stratified resamples (each group resampled within itself)."""
    rng = np.random.default_rng(SEED)
    values = np.empty(BOOTSTRAP)
    for b in range(BOOTSTRAP):
        values[b] = roc_auc(sick[rng.integers(0, len(sick), len(sick))], fine[rng.integers(0, len(fine), len(fine))])
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def spearman(a, b) -> float:
    """Spearman's rho (Pearson's r over mid-ranks); NaN when either side is constant."""
    x, y = average_ranks(np.asarray(a, float)), average_ranks(np.asarray(b, float))
    x, y = x - x.mean(), y - y.mean()
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denom) if denom > 0 else float("nan")


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def auc_block(variants: list[dict]) -> dict:
    """The ROC AUC entry of the agreement (see the package docstring for its fields)."""
    sick = np.array([v["score"] for v in variants if v["label"] == "pathogenic" and v["score"] is not None])
    fine = np.array([v["score"] for v in variants if v["label"] == "benign" and v["score"] is not None])
    block = {"value": None, "low": None, "high": None, "pathogenic": int(len(sick)), "benign": int(len(fine)),
             "minimum": MIN_PER_CLASS, "enough": bool(min(len(sick), len(fine)) >= MIN_PER_CLASS),
             "bootstrap": BOOTSTRAP, "confidence": CONFIDENCE}
    groups = f"{len(sick)} pathogenic/likely pathogenic vs {len(fine)} benign/likely benign"
    if not block["enough"]:
        block["text"] = f"ROC AUC: too few to say ({groups}; at least {MIN_PER_CLASS} of each needed)"
        return block
    low, high = _bootstrap(sick, fine)
    block.update(value=_rounded(roc_auc(sick, fine)), low=_rounded(low), high=_rounded(high))
    block["text"] = (f"ROC AUC {block['value']:.3f} ({100 * CONFIDENCE:.0f}% CI {block['low']:.3f}-"
                     f"{block['high']:.3f}; {groups})")
    return block


def _paired(variants: list[dict]) -> list[dict]:
    return [v for v in variants if v["score"] is not None and v["am_pathogenicity"] is not None]


def spearman_block(variants: list[dict]) -> dict:
    """The Spearman entry: scores against -am_pathogenicity over the substitutions both score."""
    pairs = _paired(variants)
    block = {"value": None, "n": len(pairs), "minimum": MIN_SPEARMAN, "enough": len(pairs) >= MIN_SPEARMAN,
             "against": "-am_pathogenicity"}
    if not block["enough"]:
        block["text"] = (f"Spearman: too few to say ({len(pairs)} substitutions with an AlphaMissense score; "
                         f"at least {MIN_SPEARMAN} needed)")
        return block
    block["value"] = _rounded(spearman([v["score"] for v in pairs], [-v["am_pathogenicity"] for v in pairs]))
    block["text"] = (f"Spearman {block['value']:.3f} with AlphaMissense over {len(pairs)} substitutions"
                     if block["value"] is not None else f"Spearman: undefined over {len(pairs)} substitutions "
                     "(constant scores)")
    return block


def disagreements(variants: list[dict], count: int = DISAGREEMENTS) -> list[dict]:
    """The substitutions whose percentile rank under the scorer and under AlphaMissense (as -pathogenicity)
    differ most; ``gap`` > 0: the scorer tolerates what AlphaMissense calls pathogenic."""
    pairs = _paired(variants)
    if len(pairs) < 2:
        return []
    n = len(pairs)
    ours = (average_ranks(np.array([v["score"] for v in pairs])) + 0.5) / n
    theirs = (average_ranks(-np.array([v["am_pathogenicity"] for v in pairs])) + 0.5) / n
    gaps = ours - theirs
    order = sorted(range(n), key=lambda k: (-abs(gaps[k]), pairs[k]["mutant"]))[:count]
    return [{"mutant": pairs[k]["mutant"], "residue": pairs[k]["residue"],
             "reference_position": pairs[k]["reference_position"], "score": pairs[k]["score"],
             "am_pathogenicity": pairs[k]["am_pathogenicity"], "am_class": pairs[k]["am_class"],
             "score_rank": _rounded(100 * ours[k], 1), "alphamissense_rank": _rounded(100 * theirs[k], 1),
             "gap": _rounded(100 * gaps[k], 1),
             "direction": "scored tolerated, AlphaMissense: pathogenic" if gaps[k] > 0
             else "scored damaging, AlphaMissense: benign"} for k in order]


def measure(variants: list[dict], chain: str = "", accession: str = "") -> dict:
    """The whole agreement block for one chain's mapped variants (``known.mapping.annotate``'s rows)."""
    auc, rho = auc_block(variants), spearman_block(variants)
    who = ", ".join(p for p in (f"chain {chain}" if chain else "", accession) if p)
    return {"roc_auc": auc, "spearman": rho, "disagreements": disagreements(variants),
            "line": f"known variants{f' ({who})' if who else ''}: {auc['text']}; {rho['text']}"}

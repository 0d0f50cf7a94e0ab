"""Few-shot fitting to the user's assay data: the augmented ridge, its cross-validation, the saved model.

The model is the "augmented" regression of Hsu et al. (Nat Biotech 2022): ridge regression on one-hot
site x amino-acid features plus the zero-shot score as one more feature. Beside the site x aa
indicators it has one indicator per site and one per mutant amino acid, so that measured substitutions
inform unmeasured ones at the same site (see ``_features``). The one-hot weights are
regularised (alpha chosen by efficient leave-one-out cross-validation, in closed form: ``RidgeKernel``);
the zero-shot feature is scaled up so that its own penalty is smaller (the paper leaves the density
feature almost unregularised; here the same leave-one-out CV picks how much smaller, which keeps a
weak zero-shot score from being trusted blindly on few labels). A variant's prediction is

    fitted = intercept + zs_coef * zero_shot(variant) + sum over its sites of onehot[site, mt]

The model's own "wild type" is its intercept, near the mean label, not the measured wild type. So every score
the product shows is the predicted assay value minus a reference the labels name (``FittedModel.reference``):
the measured wild type when the labels hold it (a ``WT``/``_wt``/``_sy`` row, synonymous variants, or
``fit --wild-type-score``), > 0 = predicted better than the wild type (meaning ``FITTED``); else the mean of the
labels, > 0 = predicted better than the average measured variant, with no claim about the wild type
(``FITTED_MEAN``). A file saved before the reference was recorded stays relative to its intercept
(``FITTED_INTERCEPT``).

The fitted model is saved as plain JSON (never pickle) and applied to a zero-shot ScanResult with
``apply_fitted`` (``saprot-scan scan --fitted F``).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from saprot_scan.design.labels import Labels
from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.errors import InputError
from saprot_scan.results import ScanResult
from saprot_scan.scoring.meaning import FITTED, FITTED_INTERCEPT, FITTED_MEAN, ScoreMeaning
from saprot_scan.scoring.variants import Substitution

FIT_FORMAT = 1
FIT_KIND = "saprot-scan fitted model"
#: Ridge penalties tried by cross-validation (on one-hot weights; the zero-shot feature is near-unpenalised).
ALPHAS = tuple(float(a) for a in np.logspace(-2, 4, 13))
#: The standardised zero-shot column is multiplied by one of these (chosen with alpha by the same
#: leave-one-out CV), so its penalty is alpha / boost**2: from like a one-hot weight's to almost none.
ZS_BOOSTS = (1.0, 10.0, 100.0)


def _need_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise InputError("fitting needs scikit-learn: pip install 'saprot-scan[fit]'") from None


# ---------------------------------------------------------------------------------------------- features


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rho (average ranks for ties); NaN when either side is constant or too short."""
    from scipy.stats import rankdata

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(rankdata(a), rankdata(b))[0, 1])


def _features(site: Substitution) -> tuple:
    """Feature keys of one site: the substitution itself (site x aa, Hsu et al.), its site, and its
    mutant amino acid; a synonymous site has none. The site and amino-acid keys let a measured
    substitution inform the others at its site (single-mutant assays never repeat a site x aa pair
    between training and held-out variants, so site x aa alone could not)."""
    if site.mt == site.wt:
        return ()
    k = AMINO_ACIDS.index(site.mt)
    return (("sa", site.index, k), ("s", site.index), ("a", k))


def _onehot(sites: Sequence[Sequence[Substitution]], columns: dict[tuple, int]):
    """Sparse (CSR) one-hot matrix: three non-zeros per site of a variant in a few thousand columns."""
    from scipy.sparse import csr_matrix

    rows, cols = [], []
    for row, variant in enumerate(sites):
        for site in variant:
            for key in _features(site):
                col = columns.get(key)
                if col is not None:
                    rows.append(row)
                    cols.append(col)
    return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(sites), len(columns)))


@dataclass
class RidgeFit:
    """One fitted regression, in raw feature units (zs_coef per unit zero-shot score)."""

    intercept: float
    zs_coef: float
    weights: dict[tuple, float]  # feature key (see _features) -> weight
    alpha: float
    zs_boost: float = 0.0  # the zero-shot column's scale chosen by CV (0: no zero-shot feature)

    def effect(self, site: Substitution) -> float:
        """The one-hot part of one site's prediction."""
        return sum(self.weights.get(key, 0.0) for key in _features(site))

    def effect_matrix(self, sequence: str) -> np.ndarray:
        """(L, 20) one-hot part of every single substitution of ``sequence`` (0 at the wild type)."""
        out = np.zeros((len(sequence), 20))
        for key, value in self.weights.items():
            if key[0] == "sa":
                out[key[1], key[2]] += value
            elif key[0] == "s":
                out[key[1], :] += value
            else:
                out[:, key[1]] += value
        for i, wt in enumerate(sequence):
            if wt in AMINO_ACIDS:
                out[i, AMINO_ACIDS.index(wt)] = 0.0
        return out

    def predict(self, sites: Sequence[Sequence[Substitution]], zero_shot: Sequence[float] | None = None) -> np.ndarray:
        """Absolute predictions (intercept included)."""
        out = np.full(len(sites), self.intercept)
        if zero_shot is not None:
            out += self.zs_coef * np.asarray(zero_shot, dtype=float)
        for row, variant in enumerate(sites):
            out[row] += sum(self.effect(s) for s in variant)
        return out


class RidgeKernel:
    """Ridge with an unpenalised intercept and efficient leave-one-out CV, solved in the dual.

    The labels' centred one-hot Gram matrix K (n x n) is diagonalised once; every penalty alpha and every
    zero-shot scale is then O(n^2) or less: the zero-shot column is a rank-one update (Sherman-Morrison), and
    the leave-one-out residuals come from the hat matrix, e_i / (1 - H_ii), exactly as scikit-learn's RidgeCV
    computes them (the tests check both agree). The one-hot and the augmented model share one kernel.

    K's spectrum is kept as ``q`` (n x m orthonormal), ``values`` (m) and one eigenvalue ``rest`` for the
    orthogonal complement of ``q``. In a single-mutant assay where no substitution is labelled twice, the site x
    amino-acid part of K is the identity, so K = C + Zc Zc' (C the centring projector, Zc the centred site
    and amino-acid indicators, a few dozen columns): a thin SVD of Zc gives the spectrum with m ~ 100 and
    rest = 1, and a 1,500-label fit takes well under a second. Otherwise K is eigendecomposed in full.
    """

    def __init__(self, sites: Sequence[Sequence[Substitution]], y: Sequence[float]):
        self.y = np.asarray(y, dtype=float)
        self.used = sorted({key for v in sites for s in v for key in _features(s)})
        self.x = _onehot(sites, {c: k for k, c in enumerate(self.used)})
        self.q, self.values, self.rest = self._spectrum()
        self.q2 = self.q ** 2
        self.yc = self.y - self.y.mean()

    def _spectrum(self) -> tuple[np.ndarray, np.ndarray, float]:
        n = self.x.shape[0]
        pairs = np.array([c[0] == "sa" for c in self.used], dtype=bool)
        x_pairs = self.x[:, np.flatnonzero(pairs)]
        if n and np.all(x_pairs.sum(axis=1) == 1) and np.all(x_pairs.sum(axis=0) == 1):
            z = self.x[:, np.flatnonzero(~pairs)].toarray()
            u, s, _ = np.linalg.svd(z - z.mean(axis=0), full_matrices=False)
            q = np.hstack([u, np.full((n, 1), 1.0 / np.sqrt(n))])
            return q, np.r_[1.0 + s ** 2, 0.0], 1.0
        gram = (self.x @ self.x.T).toarray()
        gram = gram - gram.mean(axis=0) - gram.mean(axis=1)[:, None] + gram.mean()
        values, q = np.linalg.eigh(gram)
        return q, np.clip(values, 0.0, None), 1.0

    def _apply(self, vector: np.ndarray, w: np.ndarray, r: float) -> np.ndarray:
        """(K + alpha I)^-1 vector, with w = 1 / (values + alpha) and r = 1 / (rest + alpha)."""
        qv = self.q.T @ vector
        return self.q @ (w * qv) + r * (vector - self.q @ qv)

    def _solve(self, alpha: float, zc: np.ndarray | None, beta: float) -> tuple[np.ndarray, np.ndarray]:
        """(G y_c, diag G) for G = (K + beta z_c z_c' + alpha I)^-1."""
        w, r = 1.0 / (self.values + alpha), 1.0 / (self.rest + alpha)
        gy = self._apply(self.yc, w, r)
        diag = self.q2 @ w + r * (1.0 - self.q2.sum(axis=1))
        if zc is not None and beta > 0:
            gz = self._apply(zc, w, r)
            c = beta / (1.0 + beta * float(zc @ gz))
            gy = gy - c * gz * float(zc @ gy)
            diag = diag - c * gz ** 2
        return gy, diag

    def fit(self, zero_shot: Sequence[float] | None = None, alphas: Sequence[float] = ALPHAS,
            zs_boosts: Sequence[float] = ZS_BOOSTS) -> RidgeFit:
        """The fit whose (alpha, zero-shot scale) gives the least leave-one-out squared error."""
        n = len(self.y)
        if not self.used:  # only synonymous variants: nothing to learn but the mean
            return RidgeFit(float(np.mean(self.y)), 0.0, {}, float(alphas[0]))
        spread = float(np.std(zero_shot)) if zero_shot is not None else 0.0
        zc = np.asarray(zero_shot, dtype=float) - float(np.mean(zero_shot)) if spread > 0 else None
        best = None
        for boost in (zs_boosts if zc is not None else (0.0,)):
            scale = boost / spread if zc is not None else 0.0
            for alpha in alphas:
                gy, diag = self._solve(float(alpha), zc, scale ** 2)
                error = float(np.mean((alpha * gy / (alpha * diag - 1.0 / n)) ** 2))
                if best is None or error < best[0]:
                    best = (error, float(alpha), scale, float(boost), gy)
        _, alpha, scale, boost, dual = best
        weights = np.asarray(self.x.T @ dual).ravel()  # centring drops out: the dual sums to 0
        means = np.asarray(self.x.mean(axis=0)).ravel()
        zs_coef = scale ** 2 * float(zc @ dual) if zc is not None else 0.0
        intercept = float(self.y.mean() - means @ weights
                          - (zs_coef * float(np.mean(zero_shot)) if zc is not None else 0.0))
        return RidgeFit(intercept=intercept, zs_coef=zs_coef, weights=dict(zip(self.used, map(float, weights))),
                        alpha=alpha, zs_boost=boost)


def fit_ridge(sites: Sequence[Sequence[Substitution]], y: Sequence[float], zero_shot: Sequence[float] | None = None,
              alphas: Sequence[float] = ALPHAS, zs_boosts: Sequence[float] = ZS_BOOSTS) -> RidgeFit:
    """Ridge on one-hot site x aa, site and amino-acid features, plus the zero-shot score when given.

    The one-hot penalty alpha, and how much less the standardised zero-shot feature is penalised
    (``zs_boosts``), are chosen together by leave-one-out cross-validation (``RidgeKernel``).
    """
    _need_sklearn()
    return RidgeKernel(sites, y).fit(zero_shot, alphas, zs_boosts)


def cross_validate(sites: Sequence[Sequence[Substitution]], y: Sequence[float], zero_shot: Sequence[float],
                   folds: int = 5, seed: int = 0, progress: Callable[[int, int], None] | None = None) -> dict:
    """Spearman on held-out folds of the augmented model, the one-hot model and the zero-shot score
    itself, all on the same folds (mean over folds, and of the pooled out-of-fold predictions);
    ``progress(fold, folds)`` after each fold."""
    _need_sklearn()
    from sklearn.model_selection import KFold

    y, zs = np.asarray(y, dtype=float), np.asarray(zero_shot, dtype=float)
    folds = max(2, min(folds, len(y) // 4))
    per = {"fitted": [], "onehot": [], "zero_shot": []}
    pooled = {k: np.zeros(len(y)) for k in per}
    for fold, (train, test) in enumerate(KFold(folds, shuffle=True, random_state=seed).split(y), 1):
        tr_sites, te_sites = [sites[i] for i in train], [sites[i] for i in test]
        kernel = RidgeKernel(tr_sites, y[train])
        preds = {"fitted": kernel.fit(zs[train]).predict(te_sites, zs[test]),
                 "onehot": kernel.fit().predict(te_sites),
                 "zero_shot": zs[test]}
        for key, p in preds.items():
            # constant predictions (e.g. one-hot weights for none of the held-out variants) rank nothing: 0
            per[key].append(spearman(p, y[test]) if np.ptp(p) > 0 else 0.0)
            pooled[key][test] = p
        if progress is not None:
            progress(fold, folds)
    out = {"folds": folds, "seed": seed, "labels": len(y)}
    for key, values in per.items():
        arr = np.array(values)
        ok = arr[np.isfinite(arr)]
        out[key] = {"spearman_mean": float(ok.mean()) if len(ok) else None,
                    "spearman_sd": float(ok.std()) if len(ok) else None,
                    "spearman_pooled": _none_if_nan(spearman(pooled[key], y)),
                    "per_fold": [_none_if_nan(v) for v in values]}
    return out


def _none_if_nan(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


# ---------------------------------------------------------------------------------------------- model


@dataclass
class FittedModel:
    """A fitted augmented model for one chain, as saved to JSON."""

    chain_id: str
    sequence: str
    residue_labels: list[str]
    zero_shot: dict  # model name, sha256, method, pLDDT settings of the zero-shot scores it was fitted on
    alpha: float
    intercept: float
    zs_coef: float
    weights: np.ndarray  # (L, 20) one-hot part of each substitution (site x aa + site + aa); 0 at the wild type
    n_labels: int
    cv: dict = field(default_factory=dict)
    labels_source: str = ""
    #: 0-based positions some label touched (the site term was learnt there); None: unknown (an older file)
    measured: tuple[int, ...] | None = None
    #: what the scores are relative to: {"kind": "wild type" | "mean of the labels", "value", "source"};
    #: None: an older file, relative to the intercept
    reference: dict | None = None

    @property
    def anchored(self) -> bool:
        """Whether scores are relative to the measured wild type."""
        return bool(self.reference) and self.reference.get("kind") == "wild type"

    @property
    def meaning(self) -> ScoreMeaning:
        if self.reference is None:
            return FITTED_INTERCEPT
        return FITTED if self.anchored else FITTED_MEAN

    @property
    def offset(self) -> float:
        """Added to ``zs_coef * zero_shot + one-hot`` to make it relative to the reference: intercept - reference."""
        return 0.0 if self.reference is None else self.intercept - float(self.reference["value"])

    def reference_text(self) -> str:
        """One line: what the scores are relative to and where that came from."""
        ref = self.reference
        if ref is None:
            return "relative to the model's intercept (an older fitted-model file: no wild type recorded)"
        if self.anchored:
            return f"relative to the measured wild type ({ref['value']:.4g}, {ref.get('source', '')})"
        return (f"relative to the average measured variant (mean label {ref['value']:.4g}): the labels hold no "
                "wild type (add a WT row or --wild-type-score to compare with the wild type)")

    def measured_mask(self) -> tuple[bool, ...]:
        """Per residue, whether an assay label touched it (empty when the file does not say)."""
        if self.measured is None:
            return ()
        where = set(self.measured)
        return tuple(i in where for i in range(len(self.sequence)))

    def predict_matrix(self, zero_shot: np.ndarray) -> np.ndarray:
        """(L, 20) fitted scores relative to the reference from (L, 20) zero-shot scores; the wild type's own
        cell stays 0 (the matrix convention: it is not a substitution)."""
        zero_shot = np.asarray(zero_shot, dtype=float)
        if zero_shot.shape != self.weights.shape:
            raise InputError(f"zero-shot scores of shape {zero_shot.shape} do not fit a model of "
                             f"{len(self.sequence)} residues")
        out = self.zs_coef * zero_shot + self.weights + self.offset
        for i, wt in enumerate(self.sequence):
            if wt in AMINO_ACIDS:
                out[i, AMINO_ACIDS.index(wt)] = 0.0
        return out

    def predict_variants(self, sites: Sequence[Sequence[Substitution]], zero_shot: Sequence[float]) -> np.ndarray:
        """Fitted scores relative to the reference for variants and their (multi-site) zero-shot scores; a variant
        of synonymous sites only is the wild type: 0 when anchored to it, NaN (no score) otherwise."""
        out = self.zs_coef * np.asarray(zero_shot, dtype=float) + self.offset
        for row, variant in enumerate(sites):
            if all(s.mt == s.wt for s in variant):
                out[row] = 0.0 if self.anchored else np.nan
                continue
            out[row] += sum(self.weights[s.index, AMINO_ACIDS.index(s.mt)] for s in variant)
        return out

    def describe(self) -> str:
        return (f"fitted augmented ridge ({self.n_labels} labels, alpha {self.alpha:g}, "
                f"zero-shot weight {self.zs_coef:.4g}) on {self.zero_shot.get('model', '?')} "
                f"{self.zero_shot.get('method', 'masked')}-marginal scores")

    def to_dict(self) -> dict:
        weights = [[i + 1, aa, round(float(self.weights[i, k]), 10)]
                   for i in range(len(self.sequence)) for k, aa in enumerate(AMINO_ACIDS)
                   if self.weights[i, k] != 0.0]
        return {"kind": FIT_KIND, "format": FIT_FORMAT, "chain": self.chain_id, "sequence": self.sequence,
                "residues": self.residue_labels, "zero_shot": self.zero_shot,
                "model": {"type": "augmented ridge (one-hot site x aa + zero-shot score), Hsu et al. 2022",
                          "alpha": self.alpha, "intercept": self.intercept, "zero_shot_coef": self.zs_coef,
                          "onehot_weights": weights,
                          "prediction": "zero_shot_coef * zero_shot + sum of onehot_weights[position, mt] "
                                        "over the sites + intercept = the absolute assay value; the scores "
                                        "shown subtract reference.value (the measured wild type, or the mean "
                                        "label when the labels hold no wild type)",
                          **({} if self.reference is None else {"reference": self.reference})},
                "labels": {"count": self.n_labels, "source": self.labels_source,
                           **({} if self.measured is None else
                              {"measured_positions": [i + 1 for i in self.measured]})},
                "cross_validation": self.cv}

    def save(self, path: str | os.PathLike) -> None:
        from saprot_scan.outputs.files import write_text_atomic

        data = self.to_dict()  # one key per line, each value compact: readable and diffable
        text = "{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in data.items()) + "\n}\n"
        write_text_atomic(path, text)

    @classmethod
    def from_dict(cls, data: dict, name: str = "fitted model") -> "FittedModel":
        if not isinstance(data, dict) or data.get("kind") != FIT_KIND:
            raise InputError(f"{name}: not a saprot-scan fitted model (made by 'saprot-scan fit --save')")
        if data.get("format") != FIT_FORMAT:
            raise InputError(f"{name}: fitted-model format {data.get('format')!r}; this version reads {FIT_FORMAT}")
        try:
            sequence = str(data["sequence"])
            model = data["model"]
            weights = np.zeros((len(sequence), 20))
            for position, aa, value in model["onehot_weights"]:
                weights[_site(position, len(sequence)), AMINO_ACIDS.index(aa)] = _finite(value, "a one-hot weight")
            return cls(chain_id=str(data["chain"]), sequence=sequence, residue_labels=list(data["residues"]),
                       zero_shot=dict(data["zero_shot"]), alpha=_finite(model["alpha"], "alpha"),
                       intercept=_finite(model["intercept"], "the intercept"),
                       zs_coef=_finite(model["zero_shot_coef"], "the zero-shot weight"),
                       weights=weights, n_labels=int(data["labels"]["count"]),
                       cv=dict(data.get("cross_validation") or {}), labels_source=str(data["labels"].get("source", "")),
                       measured=_measured_from(data["labels"].get("measured_positions"), len(sequence)),
                       reference=_reference_from(model.get("reference")))
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise InputError(f"{name}: damaged fitted-model file ({type(err).__name__}: {err})") from None


def _reference_from(data) -> dict | None:
    if data is None:
        return None
    kind = str(data["kind"])
    if kind not in ("wild type", "mean of the labels"):
        raise ValueError(f"unknown reference kind {kind!r}")
    return {"kind": kind, "value": _finite(data["value"], "the reference value"), "source": str(data.get("source", ""))}


def _site(position, length: int) -> int:
    """0-based index of a 1-based position, refused outside 1..length (0 or -5 would index from the end)."""
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= length:
        raise ValueError(f"position {position!r} lies outside the sequence (1..{length})")
    return position - 1


def _finite(value, what: str) -> float:
    """A number that is finite (JSON as Python reads it allows NaN and Infinity, which would poison every score)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ValueError(f"{what} is {value!r}, not a finite number")
    return float(value)


def _measured_from(positions, length: int) -> tuple[int, ...] | None:
    if positions is None:
        return None
    return tuple(sorted({_site(p, length) for p in positions}))


def load_fitted(path: str | os.PathLike) -> FittedModel:
    """Read a fitted model saved by ``FittedModel.save`` (plain JSON)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such fitted-model file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{path}: not a fitted-model JSON file") from None
    return FittedModel.from_dict(data, path.name)


def fit_model(result: ScanResult, labels: Labels, multi_zero_shot: dict[str, float] | None = None,
              folds: int = 5, seed: int = 0, zero_shot_info: dict | None = None,
              labels_source: str = "", progress: Callable[[str], None] | None = None,
              wild_type_score: float | None = None) -> FittedModel:
    """Fit the augmented model to ``labels`` on the zero-shot scores of ``result``.

    Scores are made relative to the measured wild type: ``wild_type_score`` when given, else the labels' own
    wild-type rows (``Labels.wild_type``); with neither, relative to the mean label (no wild-type claim).

    Singles take their zero-shot score from the scan matrix; multi-mutants from ``multi_zero_shot``
    (SaProt's multi-site rule, see ``pipeline.score_mutations``), keyed by the normalised mutant.
    ``progress(text)`` hears each step (cross-validation folds, the final fit).
    """
    zs = label_zero_shot(result, labels, multi_zero_shot)
    if not np.all(np.isfinite(zs)):
        bad = labels.mutants[int(np.flatnonzero(~np.isfinite(zs))[0])]
        raise InputError(f"variant {bad}: no zero-shot score (unknown residue in the structure?)")
    say = progress or (lambda text: None)
    cv = cross_validate(labels.sites, labels.scores, zs, folds=folds, seed=seed,
                        progress=lambda k, n: say(f"cross-validation fold {k}/{n} done"))
    say(f"fitting on all {len(labels)} labels")
    fit = fit_ridge(labels.sites, labels.scores, zs)
    # the one-hot part of every single substitution, folded together; rounded as saved, so a saved and
    # reloaded model gives exactly the scores of the one that wrote it
    weights = np.round(fit.effect_matrix(result.wt), 10)
    info = {"model": result.model_name, "sha256": result.model_sha256, "method": result.method,
            "plddt_mask_applied": result.plddt_mask_applied}
    info.update(zero_shot_info or {})
    if wild_type_score is not None:
        reference = {"kind": "wild type", "value": float(wild_type_score), "source": "--wild-type-score"}
    elif labels.wild_type is not None:
        reference = {"kind": "wild type", "value": labels.wild_type,
                     "source": f"{labels.wild_type_rows} wild-type/synonymous row(s) of the labels"}
    else:
        reference = {"kind": "mean of the labels", "value": float(np.mean(labels.scores)), "source": "the labels"}
    return FittedModel(chain_id=result.chain_id, sequence=result.wt, residue_labels=[r.label for r in result.residue_ids],
                       zero_shot=info, alpha=fit.alpha, intercept=fit.intercept, zs_coef=fit.zs_coef,
                       weights=weights, n_labels=len(labels), cv=cv, labels_source=labels_source,
                       measured=tuple(sorted({s.index for v in labels.sites for s in v if s.mt != s.wt})),
                       reference=reference)


def label_zero_shot(result: ScanResult, labels: Labels, multi_zero_shot: dict[str, float] | None = None) -> np.ndarray:
    """The zero-shot score of every labelled variant (singles from the scan matrix)."""
    out = np.zeros(len(labels))
    for k, (mutant, sites) in enumerate(zip(labels.mutants, labels.sites)):
        real = [s for s in sites if s.mt != s.wt]
        if len(real) == 1:
            s = real[0]
            out[k] = result.scores[s.index, AMINO_ACIDS.index(s.mt)]
        elif len(real) > 1:
            if multi_zero_shot is None or mutant not in multi_zero_shot:
                raise InputError(f"variant {mutant}: its multi-site zero-shot score was not computed")
            out[k] = multi_zero_shot[mutant]
    return out


def check_applies(fitted: FittedModel, result: ScanResult, name: str = "the fitted model") -> None:
    """The fitted model belongs to this chain and these zero-shot scores, or one clear InputError."""
    if fitted.sequence != result.wt:
        raise InputError(f"{name} was fitted on chain {fitted.chain_id} of another sequence "
                         f"({len(fitted.sequence)} residues); chain {result.chain_id} differs ({len(result)} residues)")
    sha = fitted.zero_shot.get("sha256")
    if sha and result.model_sha256 and sha != result.model_sha256:
        raise InputError(f"{name} was fitted on scores of model {fitted.zero_shot.get('model')} "
                         f"(sha256 {sha[:12]}), not {result.model_name} (sha256 {result.model_sha256[:12]}); "
                         "scan with that --model")
    method = fitted.zero_shot.get("method")
    if method and method != result.method:
        raise InputError(f"{name} was fitted on {method}-marginal scores, not {result.method}-marginal; "
                         f"use --method {method}")


def apply_fitted(result: ScanResult, fitted: FittedModel, name: str = "fitted model") -> ScanResult:
    """A ScanResult whose scores are the fitted model's (assay units, relative to its reference: the measured
    wild type, or the average measured variant; ``FittedModel.meaning``)."""
    check_applies(fitted, result, name)
    scores = fitted.predict_matrix(np.nan_to_num(result.scores, nan=0.0))
    scores[~np.isfinite(result.scores)] = np.nan
    notes = list(result.notes) + [f"scores from {fitted.describe()}; {fitted.reference_text()}, in assay units"]
    measured = fitted.measured_mask()
    if measured and not all(measured):
        notes.append(f"{len(measured) - sum(measured)} of {len(measured)} residues had no assay label: their "
                     "fitted scores rest on the zero-shot score and the amino-acid term only")
    return ScanResult(chain_id=result.chain_id, residue_ids=result.residue_ids, wt=result.wt, scores=scores,
                      method=result.method, model_name=f"{result.model_name} + fitted {name}",
                      meaning=fitted.meaning,
                      model_sha256=result.model_sha256, struct=result.struct,
                      plddt_mask_applied=result.plddt_mask_applied, plddt_masked_count=result.plddt_masked_count,
                      windows=result.windows, source=result.source, notes=notes, measured=measured,
                      interface=result.interface, partner_context=result.partner_context)


def describe_cv(cv: dict) -> str:
    """One line comparing the fitted model's cross-validated Spearman with the zero-shot score's."""
    def fmt(key):
        d = cv.get(key) or {}
        m, sd = d.get("spearman_mean"), d.get("spearman_sd")
        return "n/a" if m is None else f"{m:.3f} +/- {sd:.3f}"
    return (f"cross-validated Spearman ({cv.get('folds')} folds, {cv.get('labels')} labels): "
            f"fitted {fmt('fitted')}, zero-shot {fmt('zero_shot')} on the same folds, one-hot alone {fmt('onehot')}")

"""How long `saprot-scan fit` takes on a real assay: the closed-form leave-one-out ridge against the previous
way (scikit-learn RidgeCV on the dense one-hot matrix, once per fold and zero-shot scale), same labels,
same folds, same process.

    python bench/fit_speed.py --data ../shared/data/dms_dev --assay RL401_YEAST_Roscoe_2014 --write

Both fits must choose the same penalties and give the same cross-validated Spearman (checked here);
--write replaces the fit-speed block of BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from machine import cpu_name
from report import replace_block

REPO = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- fit-speed:begin -->", "<!-- fit-speed:end -->"


def ridgecv_fit(sites, y, zero_shot=None):
    """The previous fit: RidgeCV (scikit-learn's efficient LOO) on the dense one-hot matrix plus the scaled
    zero-shot column, once per zero-shot scale."""
    from sklearn.linear_model import RidgeCV

    from saprot_scan.design.fitting import ALPHAS, ZS_BOOSTS, RidgeFit, _features, _onehot

    used = sorted({key for v in sites for s in v for key in _features(s)})
    x = _onehot(sites, {c: k for k, c in enumerate(used)}).toarray()
    if zero_shot is None or np.std(zero_shot) == 0:
        model = RidgeCV(alphas=list(ALPHAS)).fit(x, y)
        return RidgeFit(float(model.intercept_), 0.0, dict(zip(used, map(float, model.coef_))), float(model.alpha_))
    best = None
    for boost in ZS_BOOSTS:
        scale = boost / float(np.std(zero_shot))
        model = RidgeCV(alphas=list(ALPHAS)).fit(np.hstack([x, (np.asarray(zero_shot) * scale)[:, None]]), y)
        if best is None or model.best_score_ > best[0].best_score_:
            best = (model, scale, boost)
    model, scale, boost = best
    return RidgeFit(float(model.intercept_), float(model.coef_[-1] * scale),
                    dict(zip(used, map(float, model.coef_[:-1]))), float(model.alpha_), float(boost))


def ridgecv_cross_validate(sites, y, zs, folds=5, seed=0):
    """The previous cross-validation: three RidgeCV fits per fold (augmented) plus one (one-hot)."""
    from sklearn.model_selection import KFold

    from saprot_scan.design.fitting import spearman

    out = []
    for train, test in KFold(folds, shuffle=True, random_state=seed).split(y):
        tr, te = [sites[i] for i in train], [sites[i] for i in test]
        fitted = ridgecv_fit(tr, y[train], zs[train]).predict(te, zs[test])
        ridgecv_fit(tr, y[train])
        out.append(spearman(fitted, y[test]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "dms_dev")
    parser.add_argument("--assay", default="RL401_YEAST_Roscoe_2014")
    parser.add_argument("--model", default="burial-blosum")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    from saprot_scan import read_structure, scan_chain
    from saprot_scan.design.fitting import cross_validate, fit_model, label_zero_shot
    from saprot_scan.design.labels import read_labels

    chain = read_structure(args.data / "structures" / f"{args.assay}.pdb", chains=["A"])[0]
    labels = read_labels(args.data / "assays" / f"{args.assay}.csv", chain.sequence,
                         [r.label for r in chain.residue_ids], "index")
    result = scan_chain(chain, args.model, plddt_mask="on", use_cache=False)
    zs = label_zero_shot(result, labels)
    import scipy.sparse, sklearn.linear_model, sklearn.model_selection  # noqa: E401,F401 (imports out of the timing)
    start, cpu = time.perf_counter(), time.process_time()
    fitted = fit_model(result, labels)
    new, new_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    old_folds = ridgecv_cross_validate(labels.sites, labels.scores, zs)
    old_final = ridgecv_fit(labels.sites, labels.scores, zs)
    old, old_cpu = time.perf_counter() - start, time.process_time() - cpu
    same = cross_validate(labels.sites, labels.scores, zs)["fitted"]["per_fold"]
    if not np.allclose(old_folds, same, atol=1e-9) or old_final.alpha != fitted.alpha:
        print(f"bench/fit_speed.py: the two fits disagree ({old_folds} vs {same})", file=sys.stderr)
        return 1
    machine = (f"{cpu_name()}, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end: shared "
               f"with other jobs when above {os.cpu_count()}), {platform.system()}, Python {platform.python_version()}")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "python bench/fit_speed.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text = (f"{BEGIN}\n## Fitting speed (issue 19)\n\n`fit_model` (5-fold cross-validation, then the final fit) on "
            f"{args.assay}: {len(labels)} labels at {len(set(fitted.measured))} residues, zero-shot scores from "
            f"{args.model}. Machine: {machine}; {stamp}; command: `{command}`.\n\n"
            "| fit | wall seconds | CPU seconds | CPU ratio |\n|---|---|---|---|\n"
            f"| closed-form leave-one-out ridge (`RidgeKernel`: one spectrum per fold) | {new:.1f} | {new_cpu:.1f} | "
            "1.0 |\n"
            f"| previous: scikit-learn RidgeCV per fold and zero-shot scale, dense one-hot | {old:.1f} | "
            f"{old_cpu:.1f} | {old_cpu / new_cpu:.1f} |\n\nBoth choose the same penalty and give the same per-fold Spearman "
            f"(checked by the script).\n{END}")
    print(text)
    if args.write:
        replace_block(REPO / "BENCHMARKS.md", BEGIN, END, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

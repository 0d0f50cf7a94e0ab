"""``python bench/fit_dms.py``: few-shot fitting (``saprot-scan fit``) on the DMS development assays.

For each assay in ../shared/data/dms_dev and each number of labelled variants (24, 48, 96, 192) and
seed, the labelled variants are drawn at random and the Spearman on all the remaining variants is
measured for (a) the zero-shot score, (b) ridge on one-hot features alone, (c) the augmented model
(one-hot + zero-shot score), all fitted by the product's own code (``saprot_scan.fit_ridge``, which
``saprot-scan fit`` runs).

Zero-shot scores come through the product's own path (read_structure -> scan_chain, masked marginal,
chain A, pLDDT masking on) with ``--model`` (default: the product's default model). Everything is
cached under bench/_work/fit_dms/<model sha256>/, per assay, so a rerun only computes what is missing
(a new default model has a new SHA-256, hence a fresh folder). ``--markdown`` rewrites the block
between the ``fit-dms:begin NAME``/``fit-dms:end NAME`` markers of BENCHMARKS.md (one block per
zero-shot scorer, so runs with different scorers sit side by side).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from machine import cpu_name
from report import replace_block

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "dms_dev"
WORK = HERE / "_work" / "fit_dms"
SIZES = (24, 48, 96, 192)
MIN_TEST = 30  # a size is used for an assay only when at least this many variants remain to test on
METHODS = ("zero_shot", "onehot", "augmented")
#: Bump when the fitting changes, so cached per-assay results are computed again (zero-shot scans are kept).
FIT_VERSION = 2
BEGIN, END = "<!-- fit-dms:begin {} -->", "<!-- fit-dms:end {} -->"  # one block per zero-shot scorer name


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the dms_dev folder (default ../shared/data/dms_dev)")
    p.add_argument("--model", default=None, help="zero-shot model: registry name or .onnx (default: the product's)")
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--assays", nargs="*", default=None, help="assay names (default: all)")
    p.add_argument("--markdown", type=Path, default=None, help="write the table into this file (BENCHMARKS.md)")
    return p.parse_args(argv)


def _assay_scores(path: Path) -> tuple[list[str], np.ndarray]:
    import csv

    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["mutant"] for r in rows], np.array([float(r["score"]) for r in rows])


def zero_shot_matrix(name: str, data: Path, model, folder: Path):
    """The product's masked-marginal scan of the assay's structure (chain A, pLDDT masking on), cached."""
    from saprot_scan import read_structure, scan_chain

    path = folder / f"{name}.zs.npy"
    (chain,) = read_structure(data / "structures" / f"{name}.pdb", chains=["A"])
    if path.is_file():
        return chain.sequence, np.load(path, allow_pickle=False)
    result = scan_chain(chain, model, method="masked", plddt_mask="on")
    tmp = folder / f".{name}.{os.getpid()}.npy"
    np.save(tmp, result.scores, allow_pickle=False)
    os.replace(tmp, path)
    return chain.sequence, result.scores


def run_assay(name: str, data: Path, model, folder: Path, sizes, seeds: int) -> dict:
    """Spearman per (size, seed, method) for one assay; earlier results are reused."""
    from saprot_scan import AMINO_ACIDS, fit_ridge, normalise_variant, spearman

    out_path = folder / f"{name}.json"
    done = json.loads(out_path.read_text()) if out_path.is_file() else {}
    if done.get("fit_version") != FIT_VERSION:
        done = {"fit_version": FIT_VERSION, "runs": {}}
    wanted = [(n, s) for n in sizes for s in range(seeds) if f"{n}/{s}" not in done["runs"]]
    if not wanted:
        return done
    sequence, zs_matrix = zero_shot_matrix(name, data, model, folder)
    mutants, y = _assay_scores(data / "assays" / f"{name}.csv")
    sites = [normalise_variant(m, sequence)[1] for m in mutants]
    index = np.array([s[0].index for s in sites])
    column = np.array([AMINO_ACIDS.index(s[0].mt) for s in sites])
    zs = zs_matrix[index, column]
    done["variants"] = len(y)
    done["zero_shot_all"] = spearman(zs, y)
    for n, seed in wanted:
        key = f"{n}/{seed}"
        if len(y) - n < MIN_TEST:
            done["runs"][key] = None
            continue
        rng = np.random.default_rng([seed, n])
        train = np.zeros(len(y), dtype=bool)
        train[rng.choice(len(y), n, replace=False)] = True
        test = ~train
        tr_sites = [sites[i] for i in np.flatnonzero(train)]
        onehot = fit_ridge(tr_sites, y[train])
        augmented = fit_ridge(tr_sites, y[train], zs[train])
        preds = {
            "zero_shot": zs[test],
            "onehot": onehot.intercept + onehot.effect_matrix(sequence)[index[test], column[test]],
            "augmented": augmented.intercept + augmented.zs_coef * zs[test]
            + augmented.effect_matrix(sequence)[index[test], column[test]],
        }
        # constant predictions (nothing learnt) rank nothing: 0
        done["runs"][key] = {m: (spearman(p, y[test]) if np.ptp(p) > 0 else 0.0) for m, p in preds.items()}
        done["runs"][key]["alpha_augmented"] = augmented.alpha
        done["runs"][key]["zs_boost"] = augmented.zs_boost
    tmp = out_path.with_suffix(".part")
    tmp.write_text(json.dumps(done, indent=1))
    os.replace(tmp, out_path)
    return done


def summarise(results: dict[str, dict], sizes, seeds: int) -> dict:
    """Per size: mean over assays of the per-assay mean over seeds; assays where augmented wins."""
    table = {}
    for n in sizes:
        per_assay = {}
        for name, res in results.items():
            runs = [res["runs"].get(f"{n}/{s}") for s in range(seeds)]
            runs = [r for r in runs if r]
            if runs:
                per_assay[name] = {m: float(np.mean([r[m] for r in runs])) for m in METHODS}
        if not per_assay:
            continue
        table[n] = {
            "assays": len(per_assay),
            **{m: float(np.mean([v[m] for v in per_assay.values()])) for m in METHODS},
            "aug_beats_zs": sum(v["augmented"] > v["zero_shot"] for v in per_assay.values()),
            "aug_beats_onehot": sum(v["augmented"] > v["onehot"] for v in per_assay.values()),
            "not_beating_zs": sorted(k for k, v in per_assay.items() if v["augmented"] <= v["zero_shot"]),
            "per_assay": per_assay,
        }
    return table


def markdown(table: dict, meta: dict) -> str:
    lines = [BEGIN.format(meta["scorer_name"]), "",
             f"### Few-shot fitting on the DMS development assays, zero-shot scorer {meta['scorer_name']}", "",
             f"Command: `{meta['command']}`  ", f"Date: {meta['date']}; machine: {meta['machine']}; "
             f"wall time of this run {meta['seconds']:.0f} s (zero-shot scans and fits cached under "
             "bench/_work/fit_dms are reused).  ",
             f"Zero-shot scorer: {meta['scorer']}.", "",
             f"{meta['assays']} assays of `../shared/data/dms_dev` (chain A, pLDDT masking on), {meta['seeds']} seeds "
             f"per size; Spearman on all variants not drawn for training (a size is skipped for an assay "
             f"with fewer than {MIN_TEST} variants left), mean over seeds, then over assays. "
             "(a) zero-shot score alone; (b) ridge on one-hot features alone (site x aa, site, mutant aa); "
             "(c) augmented = the same plus the zero-shot score (`saprot-scan fit`). The ridge penalty (and, for (c), "
             "how much less the zero-shot feature is penalised) by leave-one-out CV on the labelled variants.", "",
             "| labelled variants | assays | (a) zero-shot | (b) one-hot ridge | (c) augmented | (c) > (a) | (c) > (b) |",
             "|---|---|---|---|---|---|---|"]
    for n, row in table.items():
        lines.append(f"| {n} | {row['assays']} | {row['zero_shot']:.3f} | {row['onehot']:.3f} | "
                     f"{row['augmented']:.3f} | {row['aug_beats_zs']}/{row['assays']} | "
                     f"{row['aug_beats_onehot']}/{row['assays']} |")
    zs_all = meta.get("zero_shot_all_mean")
    if zs_all is not None:
        lines += ["", f"Zero-shot Spearman over all variants of each assay, mean over assays: {zs_all:.3f}."]
        if zs_all < 0.2:
            lines += ["This zero-shot scorer knows little about these assays, so the augmented model can add "
                      "little to the one-hot ridge and tracks it (the zero-shot feature's penalty is chosen by CV, "
                      "so a weak score is not trusted). Rerun with a better scorer "
                      "(`make bench-fit FIT_MODEL=saprot-35m`, or the new default) for the intended comparison."]
    lines += ["", "Where the augmented model does not beat the zero-shot score (mean over seeds):", ""]
    for n, row in table.items():
        names = ", ".join(row["not_beating_zs"]) or "none"
        lines.append(f"- {n} labels: {names}")
    lines += ["", "Per assay at 96 labels (mean over seeds): zero-shot / one-hot / augmented", ""]
    row96 = table.get(96) or table.get(max(table)) if table else None
    if row96:
        for name, v in sorted(row96["per_assay"].items()):
            lines.append(f"- {name}: {v['zero_shot']:.3f} / {v['onehot']:.3f} / {v['augmented']:.3f}")
    lines += ["", END.format(meta["scorer_name"])]
    return "\n".join(lines)


def write_markdown(path: Path, block: str, name: str) -> None:
    """Replace this scorer's block (other scorers' blocks and the prose around them are kept)."""
    replace_block(path, BEGIN.format(name), END.format(name), block)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not (args.data / "assays").is_dir() or not (args.data / "structures").is_dir():
        print(f"fit_dms: needs the DMS development assays in {args.data} (assays/, structures/; they ship in "
              "../shared/data/dms_dev beside this checkout, or pass --data)", file=sys.stderr)
        return 2
    from saprot_scan import load_scorer

    model = load_scorer(args.model, device="cpu")
    folder = WORK / model.sha256[:16]
    folder.mkdir(parents=True, exist_ok=True)
    names = args.assays or sorted(p.stem for p in (args.data / "assays").glob("*.csv"))
    start = time.time()
    results = {}
    for name in names:
        t0 = time.time()
        results[name] = run_assay(name, args.data, model, folder, args.sizes, args.seeds)
        print(f"{name}: {results[name]['variants']} variants, zero-shot rho (all) "
              f"{results[name]['zero_shot_all']:.3f} ({time.time() - t0:.1f} s)", file=sys.stderr, flush=True)
    table = summarise(results, args.sizes, args.seeds)
    meta = {"command": "python bench/fit_dms.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{cpu_name()}, {os.cpu_count()} cores", "seconds": time.time() - start,
            "scorer": model.describe(), "scorer_name": model.name, "assays": len(names), "seeds": args.seeds,
            "zero_shot_all_mean": float(np.nanmean([r.get("zero_shot_all", np.nan) for r in results.values()]))}
    print(markdown(table, meta))
    (folder / "summary.json").write_text(json.dumps({"meta": meta, "table": table}, indent=1))
    if args.markdown:
        write_markdown(args.markdown, markdown(table, meta), model.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Zero-shot accuracy on deep mutational scans: Spearman of any scorer against measured fitness, per assay.

Every assay is scored through the product's own path (read_structure -> scan_chain with the scorer
loaded once), with the settings the issue fixes: chain A, pLDDT masking on. The table puts each scorer
beside BLOSUM62(wt, mt) (computed here) and the published ProteinGym v1 anchors of the same assays,
with means over all assays and over those marked comparable.

    python bench/dms.py --model burial-blosum --model saprot-scan-default --split dev
    python bench/dms.py --model burial-blosum --write      # also rewrite the block in BENCHMARKS.md

Beside Spearman it measures the precision of the three percentile classes (``saprot_scan.scoring.percentiles``):
of the substitutions a scorer calls "likely damaging", the share in the assay's most damaging quarter, and of
those it calls "likely tolerated", the share in its most tolerated quarter (random: 25% each).

Results go to bench/results/dms-<split>-<stamp>.json; --write renders the newest run per scorer, and writes
the class precision to models/class_precision.json (read by the heatmap legend and the viewers) and to the
docs/scores.md ("Reading the scores").
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from machine import cpu_name
from report import replace_block

REPO = Path(__file__).resolve().parents[1]
DATA = {"dev": REPO.parent / "shared" / "data" / "dms_dev"}
RESULTS = REPO / "bench" / "results"
ARCHIVE = REPO / "models" / "training" / "data" / "dms_dev.tar.xz"  # the same 26 assays, shipped
BEGIN, END = "<!-- dms:begin -->", "<!-- dms:end -->"
CLASSES_BEGIN, CLASSES_END = "<!-- classes:begin -->", "<!-- classes:end -->"
ANCHOR_COLUMNS = ("ESM2 (8M)", "ProteinMPNN", "ESM2 (35M)", "SaProt (35M)", "SaProt (650M)")
#: scorers fitted on the dev assays: their rows here are in-sample, the honest figure is leave-assay-out.
_IN_SAMPLE = ("trained on these 26 assays, so this row is in-sample (fit, not prediction); its leave-assay-out "
              "numbers are in models/README.md")
#: Scorers whose rows here are fits, not predictions (their learned part saw these assays).
TRAINED_ON_DEV = {"learned-structure": _IN_SAMPLE, "structure-blend": _IN_SAMPLE}


def unpacked_archive() -> Path:
    """The dev assays from the repository's own copy (the learned scorer's training data), unpacked once."""
    import tarfile
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="dms-dev-"))
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(scratch, filter="data")
    return scratch / "dms_dev"


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).correlation)


def read_assay(path: Path) -> tuple[list[str], np.ndarray]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    return [r["mutant"] for r in rows], np.array([float(r["score"]) for r in rows])


def read_anchors(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "anchors.tsv").open() as handle:
        return {row["assay"]: row for row in csv.DictReader(handle, delimiter="\t")}


def lookup(scores: np.ndarray, mutants: list[str]) -> np.ndarray:
    """Scores of single substitutions written wt + 1-based position + mt (multi-mutants summed)."""
    from saprot_scan import AMINO_ACIDS

    out = np.empty(len(mutants))
    for k, mutant in enumerate(mutants):
        out[k] = sum(scores[int(m[1:-1]) - 1, AMINO_ACIDS.index(m[-1])] for m in mutant.split(":"))
    return out


def class_counts(percentiles: np.ndarray, mutants: list[str], measured: np.ndarray) -> dict:
    """Flagged and correct counts of both classes over the assay's single substitutions."""
    from saprot_scan.scoring.percentiles import DAMAGING_AT, TOLERATED_AT

    singles = [k for k, m in enumerate(mutants) if ":" not in m]
    ranks = lookup(percentiles, [mutants[k] for k in singles])
    values = measured[singles]
    keep = np.isfinite(ranks)
    ranks, values = ranks[keep], values[keep]
    low, high = np.quantile(values, 0.25), np.quantile(values, 0.75)
    damaging, tolerated = ranks <= DAMAGING_AT, ranks >= TOLERATED_AT
    return {"damaging_flagged": int(damaging.sum()), "damaging_right": int((damaging & (values <= low)).sum()),
            "tolerated_flagged": int(tolerated.sum()), "tolerated_right": int((tolerated & (values >= high)).sum())}


def precision_summary(run: dict) -> dict:
    """Per scorer: pooled precision of both classes over the assays, and the mean of the per-assay precisions."""
    out = {}
    for spec in run["names"]:
        rows = [row[spec] for row in (run.get("classes") or {}).values() if spec in row]
        if not rows:
            continue
        total = {k: sum(r[k] for r in rows) for k in rows[0]}
        per = {c: [r[f"{c}_right"] / r[f"{c}_flagged"] for r in rows if r[f"{c}_flagged"]]
               for c in ("damaging", "tolerated")}
        out[run["names"][spec]] = {
            "damaging_precision": round(total["damaging_right"] / max(total["damaging_flagged"], 1), 4),
            "tolerated_precision": round(total["tolerated_right"] / max(total["tolerated_flagged"], 1), 4),
            "damaging_precision_mean_per_assay": round(float(np.mean(per["damaging"])), 4),
            "tolerated_precision_mean_per_assay": round(float(np.mean(per["tolerated"])), 4),
            "damaging_flagged": total["damaging_flagged"], "tolerated_flagged": total["tolerated_flagged"]}
        if any(trained in spec for trained in TRAINED_ON_DEV):
            out[run["names"][spec]]["in_sample"] = True  # the product says so beside the figures
    return out


def blosum_scores(sequence: str) -> np.ndarray:
    from saprot_scan import AMINO_ACIDS, blosum62

    matrix = blosum62()
    return np.array([matrix[AMINO_ACIDS.index(a)] if a in AMINO_ACIDS else np.full(20, np.nan) for a in sequence])


def score_split(folder: Path, specs: list[str], method: str, only: list[str] | None) -> dict:
    from saprot_scan import load_scorer, read_structure, scan_chain

    scorers = {spec: load_scorer(spec, device="cpu") for spec in specs}
    names = sorted(p.stem for p in (folder / "assays").glob("*.csv"))
    if only:
        names = [n for n in names if any(o in n for o in only)]
    per_assay: dict[str, dict[str, float]] = {}
    seconds = {spec: 0.0 for spec in specs}
    timing: dict[str, dict] = {}
    classes: dict[str, dict] = {}
    for name in names:
        mutants, measured = read_assay(folder / "assays" / f"{name}.csv")
        chain = read_structure(folder / "structures" / f"{name}.pdb", chains=["A"])[0]
        row = {"BLOSUM62": spearman(lookup(blosum_scores(chain.sequence), mutants), measured)}
        for spec, scorer in scorers.items():
            start = time.perf_counter()
            result = scan_chain(chain, scorer, method=method, plddt_mask="on", use_cache=False)
            took = time.perf_counter() - start
            seconds[spec] += took
            timing.setdefault(name, {"residues": len(chain)})[spec] = took
            row[spec] = spearman(lookup(result.scores, mutants), measured)
            classes.setdefault(name, {})[spec] = class_counts(result.percentiles(), mutants, measured)
        per_assay[name] = row
        print(name, " ".join(f"{k}={v:+.3f}" for k, v in row.items()), file=sys.stderr, flush=True)
    described = {spec: s.describe() for spec, s in scorers.items()}
    names_used = {spec: s.name for spec, s in scorers.items()}
    return {"per_assay": per_assay, "seconds": seconds, "timing": timing, "describe": described, "names": names_used,
            "classes": classes}


def merge_runs(runs: list[dict]) -> dict:
    """One run from several of the same split: scorers of later runs are added (or replace earlier ones)."""
    merged = json.loads(json.dumps(runs[0]))
    for run in runs[1:]:
        for name, row in run["per_assay"].items():
            merged["per_assay"].setdefault(name, {}).update(row)
        for key in ("seconds", "describe", "names"):
            merged[key].update(run[key])
        for key in ("timing", "classes"):
            for name, row in (run.get(key) or {}).items():
                merged.setdefault(key, {}).setdefault(name, {}).update(row)
        merged["command"] = " ; ".join(filter(None, (merged.get("command"), run.get("command"))))
        merged["date"] = run["date"]
    return merged


def render(run: dict, anchors: dict[str, dict[str, str]]) -> str:
    """Markdown: per-assay table with the scorers, BLOSUM62 and the anchors, then the two means."""
    specs = list(run["names"])
    columns = [*specs, "BLOSUM62", *ANCHOR_COLUMNS]
    head = "| assay | variants | comparable | " + " | ".join(columns) + " |"
    lines = [head, "|" + "---|" * (3 + len(columns))]
    table = {c: [] for c in columns}
    comparable = {c: [] for c in columns}
    for name, row in run["per_assay"].items():
        anchor = anchors.get(name, {})
        values = {**row, **{c: float(anchor[c]) for c in ANCHOR_COLUMNS if anchor.get(c)}}
        cells = []
        for c in columns:
            v = values.get(c)
            cells.append("" if v is None else f"{v:.3f}")
            if v is not None:
                table[c].append(v)
                if anchor.get("comparable") == "yes":
                    comparable[c].append(v)
        lines.append(f"| {name} | {anchor.get('n_single_mutants', '')} | {anchor.get('comparable', '')} | "
                     + " | ".join(cells) + " |")
    lines.append("| **mean, all assays** | | | " + " | ".join(f"**{np.mean(table[c]):.3f}**" for c in columns) + " |")
    lines.append("| **mean, comparable** | | | " + " | ".join(f"**{np.mean(comparable[c]):.3f}**" for c in columns)
                 + " |")
    return "\n".join(lines)


def _longest(run: dict, spec: str) -> str:
    """The time for the longest chain, the number a user scanning a big protein waits for."""
    timing = run.get("timing") or {}
    if not timing:
        return ""
    name, row = max(timing.items(), key=lambda item: item[1]["residues"])
    if spec not in row:
        return ""
    return f" (the longest chain, {row['residues']} residues: {row[spec]:.2f} s)"


def write_benchmarks(run: dict, text: str, command: str) -> None:
    path = REPO / "BENCHMARKS.md"
    doc = path.read_text()
    stamp = run["date"]
    scorers = "\n".join(f"- `{spec}`: {desc}" + "".join(f" **({note})**" for name, note in TRAINED_ON_DEV.items()
                                                       if name in spec) for spec, desc in run["describe"].items())
    block = (f"{BEGIN}\n## Zero-shot accuracy on the dev deep mutational scans\n\n"
             f"{run['split']} split, {len(run['per_assay'])} ProteinGym assays (AlphaFold2 structures, chain A, "
             f"pLDDT masking on, method {run['method']}); Spearman per assay against the measured fitness. "
             f"Anchors: published ProteinGym v1 numbers (`anchors.tsv`); BLOSUM62 is computed by the benchmark. "
             f"Machine: {run['machine']}; {stamp}; command: `{command}`.\n\n{scorers}\n\n"
             + "\n".join(f"- `{spec}`: {sec:.1f} s for all assays{_longest(run, spec)}"
                         for spec, sec in run["seconds"].items())
             + f"\n\n{text}\n\n{classes_markdown(run)}\n{END}")
    replace_block(path, BEGIN, END, block)


def classes_markdown(run: dict) -> str:
    """The class-precision table for BENCHMARKS.md."""
    summary = precision_summary(run)
    if not summary:
        return ""
    lines = ["Percentile classes (likely damaging: bottom 25% of the chain's substitutions; likely tolerated: "
             "top 25%): the share of each class in the assay's most damaging / most tolerated quarter of its "
             "single substitutions, pooled over the assays (mean of the per-assay shares in brackets); random = "
             "25%.", "", "| scorer | likely damaging | likely tolerated | flagged (damaging / tolerated) |",
             "|---|---|---|---|"]
    for name, row in summary.items():
        shown = f"{name} (in-sample)" if row.get("in_sample") else name
        lines.append(f"| {shown} | {row['damaging_precision']:.1%} ({row['damaging_precision_mean_per_assay']:.1%}) | "
                     f"{row['tolerated_precision']:.1%} ({row['tolerated_precision_mean_per_assay']:.1%}) | "
                     f"{row['damaging_flagged']} / {row['tolerated_flagged']} |")
    return "\n".join(lines)


def write_class_precision(run: dict) -> None:
    """models/class_precision.json (the one place the product reads the figures from) and the block of docs/scores.md
    generated from it."""
    from saprot_scan.scoring.percentiles import PRECISION_FILE, precision_text, class_precision

    summary = precision_summary(run)
    if not summary:
        return
    data = {"measured_by": "bench/dms.py (make bench-dms)", "split": run["split"], "assays": len(run["per_assay"]),
            "date": run["date"], "method": run["method"], "random": 0.25, "scorers": summary}
    PRECISION_FILE.write_text(json.dumps(data, indent=1) + "\n")
    class_precision.cache_clear()
    block = f"{CLASSES_BEGIN}\n{precision_text()}\n{CLASSES_END}"
    replace_block(REPO / "docs" / "scores.md", CLASSES_BEGIN, CLASSES_END, block)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=None,
                        help="scorer spec (repeatable): registry name, .onnx path, burial-blosum, A+B")
    parser.add_argument("--split", default="dev", choices=sorted(DATA))
    parser.add_argument("--data", type=Path, default=None, help="folder with assays/, structures/, anchors.tsv")
    parser.add_argument("--method", default="masked", choices=["masked", "wt"])
    parser.add_argument("--only", action="append", help="substring of assay names to keep (repeatable)")
    parser.add_argument("--write", action="store_true", help="rewrite the DMS block of BENCHMARKS.md")
    parser.add_argument("--from-json", type=Path, action="append",
                        help="render saved runs (bench/results/dms-*.json; repeatable: later runs add or replace "
                             "scorers), no scoring")
    args = parser.parse_args(argv)
    if args.from_json:
        run = merge_runs([json.loads(path.read_text()) for path in args.from_json])
        text = render(run, read_anchors(args.data or DATA[run["split"]]))
        print(text)
        if args.write:
            write_benchmarks(run, text, run.get("command", ""))
            write_class_precision(run)
        return 0
    folder = args.data or DATA[args.split]
    if not (folder / "anchors.tsv").is_file() and args.data is None and ARCHIVE.is_file():
        folder = unpacked_archive()
    if not (folder / "anchors.tsv").is_file():
        print(f"bench/dms.py: the {args.split} assays are not at {folder} (they ship in ../shared/data/dms_dev)",
              file=sys.stderr)
        return 2
    specs = args.model or ["burial-blosum"]
    run = score_split(folder, specs, args.method, args.only)
    command = "python bench/dms.py " + " ".join(sys.argv[1:] if argv is None else argv)
    run.update(command=command, split=args.split, method=args.method, date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               machine=f"{cpu_name()}, {os.cpu_count()} cores, {platform.system()}, Python {platform.python_version()}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M")
    (RESULTS / f"dms-{args.split}-{stamp}.json").write_text(json.dumps(run, indent=1))
    text = render(run, read_anchors(folder))
    print(text)
    if args.write:
        write_benchmarks(run, text, command)
        write_class_precision(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())

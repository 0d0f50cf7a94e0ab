"""SaProt 35M and 650M at their real size (issue 18): time and peak memory of each step a user runs. Not a test.

    python bench/fullsize.py                       # both sizes, prints the table
    python bench/fullsize.py --markdown            # and writes it into BENCHMARKS.md (between the fullsize markers)
    python bench/fullsize.py --sizes saprot-35m    # one size

Per size: a random-weight checkpoint with the exact config (650M pickled, as SaProt's hub repos ship it; made
with torch, not timed as a product step), then through the command line, each step in its own process with GNU
time's peak resident memory: ``models export`` (fp32), ``models export --fp16``, ``models quantize`` (int8),
``scan`` of 1AKI residues 1-8 (masked marginal) with the fp32 and int8 files, and ``batch`` (wt marginal, one
worker) over 20 real structures (bench/batch.py's set) for structures per hour. Steps already measured for a size
are kept in bench/_work/fullsize/results.json and skipped on a rerun (``--fresh`` starts over).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "_work" / "fullsize"
MARK_START, MARK_END = "<!-- fullsize:begin -->", "<!-- fullsize:end -->"
sys.path.insert(0, str(REPO / "bench"))
from machine import cpu_name  # noqa: E402
from report import replace_block  # noqa: E402

#: What the torch exporter did (issue 18's measurements, same machine class), for the "before" column.
BEFORE = {("saprot-650m", "export fp32"): "3:25, 5.95 GB (torch export)",
          ("saprot-650m", "export fp16"): "failed after 5:29, 12.75 GB (EncodeError: proto > 2 GB)",
          ("saprot-650m", "int8 copy"): "5:22, 8.03 GB",
          ("saprot-35m", "export fp32"): "~88 s inside a 90.6 s fetch (torch export)"}
BATCH_STRUCTURES = 20
STEPS = ("export fp32", "export fp16", "int8 copy", "scan fp32", "scan int8", "batch int8")
WANTED = set(STEPS)  # --steps runs fewer (the rest keep what results.json recorded)


CLI_PYTHON = [sys.executable]


def _cli(*args) -> list[str]:
    return [*CLI_PYTHON, "-m", "saprot_scan", *map(str, args)]


def measured(command: list[str], env: dict) -> dict:
    """Wall seconds and peak resident memory (GNU time's %M) of one command; its exit status."""
    stats = WORK / "time.txt"
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(stats), *command], capture_output=True,
                          text=True, env=env)
    wall = time.monotonic() - start
    peak_kb = int(stats.read_text().strip().splitlines()[-1]) if stats.is_file() else 0
    return {"seconds": round(wall, 1), "peak_gb": round(peak_kb / 1e6, 2), "rc": proc.returncode,
            "stderr_tail": proc.stderr.strip().splitlines()[-3:]}


def run_size(name: str, results: dict, env: dict) -> None:
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    done = results.setdefault(name, {})
    checkpoint = folder / "checkpoint"
    if not (checkpoint / "config.json").is_file():
        from saprot_scan.models.architectures import random_checkpoint

        start = time.monotonic()
        random_checkpoint(checkpoint, name, seed=3, pickled=name == "saprot-650m")
        done["checkpoint (torch, not a product step)"] = {"seconds": round(time.monotonic() - start, 1)}
    weights = sum(p.stat().st_size for p in checkpoint.iterdir() if p.suffix in (".bin", ".safetensors"))
    done["checkpoint bytes"] = weights
    fp32, fp16 = folder / "m.onnx", folder / "m.fp16.onnx"
    from batch import real_structures  # the real protein structures bench/batch.py uses

    examples = real_structures()[:BATCH_STRUCTURES]
    commands = {
        "export fp32": _cli("models", "export", checkpoint, "--out", fp32),
        "export fp16": _cli("models", "export", checkpoint, "--out", fp16, "--fp16"),
        "int8 copy": _cli("models", "quantize", fp32),
        "scan fp32": _cli("scan", REPO / "examples" / "1aki.cif", "--model", fp32, "--precision", "fp32",
                          "--residues", "1-8"),
        "scan int8": _cli("scan", REPO / "examples" / "1aki.cif", "--model", fp32, "--precision", "int8",
                          "--residues", "1-8"),
        "batch int8": _cli("batch", *examples, "--out", folder / "batch", "--model", fp32, "--precision", "int8",
                           "--method", "wt", "--workers", "1", "--quiet"),
    }
    for step in STEPS:
        if step not in WANTED or done.get(step, {}).get("rc") == 0:
            continue
        if step == "batch int8":
            shutil.rmtree(folder / "batch", ignore_errors=True)
        print(f"{name}: {step} ...", file=sys.stderr, flush=True)
        done[step] = measured(commands[step], env)
        if step == "batch int8":
            done[step]["structures"] = len(examples)
        print(f"{name}: {step}: {done[step]}", file=sys.stderr, flush=True)
        save(results)


def save(results: dict) -> None:
    (WORK / "results.json").write_text(json.dumps(results, indent=1))


#: chains in the human reference proteome, as in bench/batch.py's GPU projection
PROTEOME = 20_000


def cell(entry: dict | None) -> str:
    if not entry:
        return "not measured"
    if entry.get("rc", 0) != 0:
        last = (entry.get("stderr_tail") or [""])[-1].replace("saprot-scan: error: ", "")
        last = last.replace(str(REPO) + "/", "").replace("|", "\\|")  # repository-relative; no table breaks
        return f"failed after {entry['seconds']:.0f} s, {entry['peak_gb']:.2f} GB (exit {entry['rc']}: {last[:200]})"
    seconds = entry["seconds"]
    wall = f"{int(seconds // 60)}:{seconds % 60:04.1f}" if seconds >= 60 else f"{seconds:.1f} s"
    return f"{wall}, {entry['peak_gb']:.2f} GB"


def markdown(results: dict, sizes: list[str]) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [MARK_START, "## SaProt at full size: import, fp16, int8, scan (issue 18)", "",
             f"Machine: {cpu_name()}, {os.cpu_count()} cores, shared with other jobs. Date: {now}. "
             f"Command: `python bench/fullsize.py --markdown --sizes {' '.join(sizes)}"
             + (" --cli-python VENV/bin/python`, the steps run by a fresh venv holding only "
                "`pip install 'core[fetch,batch]'` (no torch importable)." if CLI_PYTHON[0] != sys.executable
                else "`.") + f" Steps done: {', '.join(STEPS)}.", "",
             "Random-weight checkpoints with the exact configs (35M: 12 x 480; 650M: 33 x 1280, 20 heads, 5120 FFN, "
             "pickled `pytorch_model.bin` as on the hub). Each step is one command in its own process; cells are "
             "wall time and peak resident memory (GNU time). Exports include their check against the float64 "
             "evaluation of the checkpoint; `models import --fp16 --int8` runs the three export steps in one "
             "command. Scans: 1AKI residues 1-8, masked marginal (8 passes over the 131-token chain). "
             "\"before\": the torch exporter as measured in issue 18.", "",
             "| model | step | now | before |", "|---|---|---|---|"]
    projections: list[str] = []
    for name in sizes:
        done = results.get(name, {})
        for step in STEPS:
            lines.append(f"| {name} | {step} | {cell(done.get(step))} | {BEFORE.get((name, step), '')} |")
        copy = WORK / name / "m.int8.onnx"
        if copy.is_file():
            from saprot_scan.backends.copies import CHECK_KEY, CHECK_MIN_KEY, read_metadata

            meta = read_metadata(copy)
            lines.append(f"| {name} | int8 copy's own check (64-residue check chain vs fp32) | per-position Spearman "
                         f"mean {meta.get(CHECK_KEY)}, min {meta.get(CHECK_MIN_KEY)} | |")
        batch = done.get("batch int8")
        if batch and batch.get("rc") == 0:
            per_hour = batch["structures"] * 3600 / batch["seconds"]
            lines.append(f"| {name} | batch throughput (wt, int8, 1 worker, {batch['structures']} real structures, "
                         f"start-up included) | {per_hour:,.0f} structures/hour | |")
            projections.append(f"{name}: {PROTEOME:,} structures / {per_hour:,.0f} per hour = "
                               f"{PROTEOME / per_hour:,.1f} worker-hours ({PROTEOME / per_hour / 24:,.1f} days on one "
                               f"worker; a cluster divides it by its workers)")
    if projections:
        lines += ["", f"Projection on this CPU from the measured batch throughput (the human proteome, {PROTEOME:,} "
                  "chains, wt-marginal, int8, at the mix of lengths of the 20 test structures; longer chains cost "
                  "more): " + "; ".join(projections) + "."]
    lines += ["", "CUDA rows (fp16 on a GPU): not measured, no GPU here; the CUDA path runs the same fp16 file "
              "whose CPU run `make test-fullsize` checks.", MARK_END]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["saprot-35m", "saprot-650m"])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--report-only", action="store_true", help="write the table from the recorded results, run nothing")
    parser.add_argument("--steps", nargs="+", choices=STEPS, help="run only these steps (e.g. 'export fp32' 'int8 copy')")
    parser.add_argument("--cli-python", help="the Python whose saprot-scan runs the steps, e.g. a fresh venv with "
                                             "only core[fetch,batch] (no torch); default: this one")
    args = parser.parse_args()
    if args.cli_python:
        CLI_PYTHON[0] = args.cli_python
    if args.steps:
        WANTED.intersection_update(args.steps)
    if args.fresh:
        shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "results.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    env = dict(os.environ, SAPROT_SCAN_CACHE=str(WORK / "cache"))
    for name in [] if args.report_only else args.sizes:
        run_size(name, results, env)
    table = markdown(results, args.sizes)
    print(table)
    if args.markdown:
        replace_block(REPO / "BENCHMARKS.md", MARK_START, MARK_END, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

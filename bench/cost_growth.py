"""How a SaProt pass and a masked scan grow with chain length on this CPU (issue 25, item 5). Not a test.

    python bench/cost_growth.py                  # both shapes, prints the table
    python bench/cost_growth.py --markdown       # and writes BENCHMARKS.md's block and models/cost_growth.json

Models: the int8 copies bench/fullsize.py makes of random-weight checkpoints with SaProt 35M's and 650M's exact
configs (bench/_work/fullsize/<name>/m.int8.onnx; run that first). For each chain length one masked batch as
the scan runs it (``scoring.marginals.masked_batch``: 4 rows, one masked site each, logits at that site) is
timed after a warm-up, on the runtime's own session settings (``backends.onnx.open_session``). A scan never
runs a pass longer than its 1022-residue window (``plan_windows``), so lengths above it time the 1024-token
window pass, and the masked scan of L residues is extrapolated as L rows x that length's time per row
(= L / 4 passes x pass time), not run: 3,000 residues of 650M would take hours. The fitted row time
c0 + c1*T + c2*T^2 (T tokens) goes into models/cost_growth.json for the time estimate
(``saprot_scan.scoring.cost_growth``).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import cpu_name  # noqa: E402
from report import replace_block  # noqa: E402

REPO = HERE.parent
FULLSIZE = HERE / "_work" / "fullsize"
BEGIN, END = "<!-- cost-growth:begin -->", "<!-- cost-growth:end -->"
LENGTHS = (100, 300, 800, 1500, 3000)
SHAPES = {"35m": ("saprot-35m", 12, 480), "650m": ("saprot-650m", 33, 1280)}
BATCH = 4  # the CPU batch (backends.onnx.CPU_BATCH)


def chain(length: int, seed: int = 11) -> tuple[np.ndarray, str, str]:
    from saprot_scan.models.quantize import check_chain

    return check_chain(length, seed)


def time_pass(session, residues: int, repeats: int) -> list[float]:
    """Seconds of one masked batch of BATCH rows over a ``residues``-residue window (a scan's own pass)."""
    from saprot_scan.backends.feeding import run_logits
    from saprot_scan.scoring.marginals import Window, masked_batch, window_ids

    ids, struct, _ = chain(residues)
    window = Window(0, residues, 0, residues)
    sites = [[int(p)] for p in np.linspace(0, residues - 1, BATCH).astype(int)]
    batch, rows = masked_batch(window_ids(ids, window), struct, sites, window)
    mask = np.ones_like(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_logits(session, batch, mask, rows)
        times.append(time.perf_counter() - start)
    return times


def measure_shape(key: str, lengths: list[int], repeats: int) -> dict:
    from saprot_scan.backends.onnx import open_session
    from saprot_scan.encoding.tokens import MAX_RESIDUES

    name, layers, hidden = SHAPES[key]
    path = FULLSIZE / name / "m.int8.onnx"
    if not path.is_file():
        raise SystemExit(f"{path} is missing: run 'python bench/fullsize.py --sizes {name}' first")
    session, _ = open_session(path, "cpu")
    time_pass(session, min(lengths), 1)  # warm-up: first-run allocations and weight packing
    points, seen = [], {}
    for length in lengths:
        window = min(length, MAX_RESIDUES)
        if window not in seen:
            seen[window] = min(time_pass(session, window, repeats))  # best of: the least disturbed by other jobs
            print(f"{key}: {window} residues: {seen[window] * 1000:.0f} ms per pass of {BATCH}", file=sys.stderr,
                  flush=True)
        points.append({"residues": length, "tokens": window + 2, "pass_s": seen[window]})
    del session
    return {"name": name, "layers": layers, "hidden": hidden, "points": points}


def fit(points: list[dict]) -> tuple[list[float], float]:
    """Row time c0 + c1*T + c2*T^2 in ms (least squares over the distinct timed lengths, no negative terms) and
    the log-log slope between the shortest and the longest."""
    distinct = {p["tokens"]: p["pass_s"] * 1000 / BATCH for p in points}
    tokens = np.array(sorted(distinct), dtype=float)
    row_ms = np.array([distinct[t] for t in sorted(distinct)])
    design = np.stack([np.ones_like(tokens), tokens, tokens ** 2], axis=1)
    from scipy.optimize import nnls

    coefficients, _ = nnls(design / row_ms[:, None], np.ones_like(row_ms))  # relative error, every length alike
    slope = float(np.log(row_ms[-1] / row_ms[0]) / np.log(tokens[-1] / tokens[0]))
    return [float(c) for c in coefficients], slope


def masked_scan_s(length: int, pass_s: float) -> float:
    """Every residue one row; rows go BATCH to a pass over the (window-long) chain."""
    return length / BATCH * pass_s


def human(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def markdown(results: dict, command: str) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [BEGIN, "## Cost growth with chain length on a CPU (issue 25)", "",
             f"Machine: {cpu_name()}, {os.cpu_count()} cores, shared with other jobs (timings vary with their load). "
             f"Date: {now}. Command: `{command}`. int8 copies of random-weight checkpoints with the exact 35M and "
             f"650M configs (bench/fullsize.py's), the runtime's CPU session, one masked batch of {BATCH} rows as the "
             "scan runs it, the best of the timed repeats after a warm-up (the run least disturbed by the other jobs). A scan's pass never exceeds its 1022-residue "
             "window, so 1,500 and 3,000 residues time the 1,024-token window pass. **The masked-scan column is "
             f"extrapolated, not run**: L residues = L / {BATCH} passes x the pass time. The wt-marginal scan is "
             "one pass per window.", "",
             "| model | residues | tokens per pass | pass (4 rows) | per row | masked scan: passes | masked scan "
             "(extrapolated) | wt scan |", "|---|---|---|---|---|---|---|---|"]
    for key, shape in results.items():
        from saprot_scan.scoring.cost_growth import masked_scan_rows

        for point in shape["points"]:
            length, pass_s = point["residues"], point["pass_s"]
            windows = len(masked_scan_rows(length))
            lines.append(f"| {key} int8 | {length:,} | {point['tokens']:,} | {pass_s * 1000:,.0f} ms | "
                         f"{pass_s * 1000 / BATCH:,.1f} ms | {-(-length // BATCH):,} | "
                         f"{human(masked_scan_s(length, pass_s))} | {human(windows * pass_s / BATCH)} |")
    lines.append("")
    fits = []
    for key, shape in results.items():
        c0, c1, c2 = shape["row_ms"]
        fits.append(f"{key}: row ms = {c0:.3g} + {c1:.3g} T + {c2:.3g} T^2, log-log slope {shape['exponent']:.2f} "
                    f"from {shape['points'][0]['tokens']} to {shape['points'][-1]['tokens']} tokens")
    lines += ["Fitted per-row time (T tokens; `core/saprot_scan/_models/cost_growth.json`, read by "
              "`saprot_scan.scoring.cost_growth`): " + "; ".join(fits) + ". A masked scan up to 1,022 residues "
              "therefore grows a little faster than the square of the length (L rows, each longer), and linearly "
              "beyond (more windows of the same length).", END]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--lengths", nargs="+", type=int, default=list(LENGTHS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    results = {}
    for key in args.shapes:
        shape = measure_shape(key, sorted(args.lengths), args.repeats)
        shape["row_ms"], shape["exponent"] = fit(shape["points"])
        results[key] = shape
    command = "python bench/cost_growth.py " + " ".join(sys.argv[1:])
    table = markdown(results, command.strip())
    print(table)
    if args.markdown:
        replace_block(REPO / "BENCHMARKS.md", BEGIN, END, table)
        write_cost_file(results, command.strip())
    return 0


def write_cost_file(results: dict, command: str) -> None:
    from saprot_scan.scoring.cost_growth import COST_FILE, FORMAT

    data = {"format": FORMAT, "status": "measured",
            "about": "Pass time growth with length per network shape; format in "
                     "core/saprot_scan/scoring/cost_growth.py; written by bench/cost_growth.py.",
            "machine": f"{cpu_name()}, {os.cpu_count()} cores (shared)", "threads": os.cpu_count(),
            "date": datetime.date.today().isoformat(), "command": command, "unit": "ms per batch row",
            "shapes": {key: {"layers": s["layers"], "hidden": s["hidden"], "precision": "int8", "batch": BATCH,
                             "row_ms": [round(c, 9) for c in s["row_ms"]], "exponent": round(s["exponent"], 3),
                             "measured": sorted({(p["tokens"], round(p["pass_s"] * 1000 / BATCH, 2))
                                                 for p in s["points"]})}
                       for key, s in results.items()}}
    COST_FILE.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())

"""Time and peak memory of long chains (issue 21): 3Di encoding and the structure scorer at 1k, 10k, 35k residues.

The chains are synthetic but physically plausible: copies of lysozyme's chain (examples/1aki.cif, 129
residues) laid side by side on a grid 45 A apart (no clashes, real local geometry and contacts), numbered
1..L as one chain in an mmCIF file. Every case runs in a fresh process and reports its wall time and its
peak resident memory (VmHWM, reset once the chain is read and the code warmed up on 60 residues) above
what the process then held. The baseline is the
code this change replaced, in the same run: biotite's 3Di encoder as shipped (a dense L x L partner search)
and the scorer's old neighbour search (biotite's cell list asked for an L x L mask). The end-to-end row is
the real command, ``saprot-scan scan FILE --csv OUT``.

    python bench/long_chains.py [--lengths 1000 10000 35000] [--no-markdown]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import cpu_name  # noqa: E402
from report import replace_block  # noqa: E402

REPO = HERE.parent
BEGIN, END = "<!-- long-chains:begin -->", "<!-- long-chains:end -->"
#: A dense baseline is skipped where its L x L arrays alone would pass this (the machine is shared).
BASELINE_MEMORY_LIMIT = 6e9


def write_chain(length: int, path: Path) -> None:
    """An mmCIF file with one chain of ``length`` residues: lysozyme copies on a 45 A grid, renumbered."""
    import numpy as np
    import biotite.structure as struc
    from biotite.structure.io import pdbx

    cif = pdbx.CIFFile.read(str(REPO / "examples" / "1aki.cif"))
    unit = pdbx.get_structure(cif, model=1, use_author_fields=True)
    unit = unit[struc.filter_amino_acids(unit) & (unit.chain_id == "A")]
    unit.coord -= unit.coord.mean(axis=0)
    per_unit = struc.get_residue_count(unit)
    copies, side = -(-length // per_unit), 1
    while side ** 3 < copies:
        side += 1
    parts = []
    for k in range(copies):
        copy = unit.copy()
        copy.coord += 45.0 * np.array([k % side, (k // side) % side, k // side // side], dtype=np.float32)
        copy.res_id += k * per_unit
        parts.append(copy)
    chain = struc.concatenate(parts)
    chain = chain[chain.res_id <= length]
    chain.res_id = chain.res_id - chain.res_id.min() + 1
    out = pdbx.CIFFile()
    pdbx.set_structure(out, chain)
    out.write(str(path))


CASE_CODE = r'''
import json, sys, time
import numpy as np
case, path, out = sys.argv[1], sys.argv[2], sys.argv[3]

def status(field):
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(field + ":"))

def old_features(coords):
    """The scorer's neighbour search before this change: biotite's cell list with an L x L mask."""
    from biotite.structure import CellList
    from saprot_scan.backends.structure import _side_chain_directions
    def pairs(points, radius):
        finite = np.isfinite(points).all(axis=1)
        safe = np.where(finite[:, None], points, 1e6 + np.arange(len(points))[:, None] * 1e3).astype(np.float32)
        i, j = np.nonzero(CellList(safe, cell_size=radius).get_atoms(safe, radius, as_mask=True))
        keep = (i != j) & finite[i] & finite[j]
        return i[keep], j[keep]
    beta = np.where(np.isfinite(coords[:, 3]).all(axis=1)[:, None], coords[:, 3], coords[:, 1])
    contacts = np.bincount(pairs(beta, 10.0)[0], minlength=len(coords))
    ca, direction = _side_chain_directions(coords)
    i, j = pairs(ca, 13.0)
    up = np.einsum("kd,kd->k", ca[j] - ca[i], direction[i]) > 0
    return contacts, np.bincount(i[up], minlength=len(coords))

import dataclasses
from saprot_scan.encoding.structure import read_structure
from saprot_scan.encoding.threedi import encode_embedded

def op(chain):
    if case == "cli":
        from saprot_scan.cli import main
        assert main(["scan", path, "--csv", out, "--quiet"]) == 0
    elif case == "3di":
        encode_embedded(chain)
    elif case == "3di-dense":
        from biotite.structure.alphabet.encoder import Encoder
        n, ca, c, cb = (chain.coords[:, k, :].astype(np.float32) for k in range(4))
        with np.errstate(all="ignore"):
            Encoder().encode(ca, cb, n, c)
    elif case == "scorer":
        from saprot_scan.backends.structure import structure_scores
        structure_scores(chain.sequence, chain.coords)
    elif case == "scorer-neighbours":
        from saprot_scan.backends.structure import contact_counts, half_sphere_exposure
        coords = np.asarray(chain.coords, dtype=float)
        contact_counts(coords), half_sphere_exposure(coords)
    elif case == "scorer-neighbours-old":
        old_features(np.asarray(chain.coords, dtype=float))

chain = read_structure(path)[0] if case != "cli" else None
before = 0
if case != "cli":  # warm up on 60 residues (imports, tables), then reset the peak (VmHWM) to what is resident
    op(dataclasses.replace(chain, residue_ids=chain.residue_ids[:60], sequence=chain.sequence[:60],
                           coords=chain.coords[:60], b_factors=chain.b_factors[:60]))
    before = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
start = time.perf_counter()
op(chain)
seconds = time.perf_counter() - start
peak = status("VmHWM")
print(json.dumps({"seconds": seconds, "peak": peak, "above": max(0, peak - before)}))
'''

CASES = {  # name -> (what, dense baseline bytes per L^2 or 0)
    "3di": ("3Di, embedded encoder, blockwise partner search (this change)", 0),
    "3di-dense": ("3Di, biotite's encoder as shipped (dense L x L partner search; baseline)", 16),
    "scorer-neighbours": ("structure scorer: contact + half-sphere neighbour counts, sparse cells (this change)", 0),
    "scorer-neighbours-old": ("structure scorer: the same counts with the old L x L cell-list mask (baseline)", 2),
    "scorer": ("structure scorer, every term (this change)", 0),
    "cli": ("`saprot-scan scan FILE --csv OUT`: read, 3Di, score, write (this change)", 0),
}


def run_case(case: str, path: Path, out: Path) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", SAPROT_SCAN_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", CASE_CODE, case, str(path), str(out)], capture_output=True,
                          text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[1000, 10000, 35000])
    parser.add_argument("--no-markdown", action="store_true", help="print the rows, leave BENCHMARKS.md alone")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for length in args.lengths:
            path = Path(tmp) / f"chain-{length}.cif"
            write_chain(length, path)
            for case, (what, dense_bytes) in CASES.items():
                if dense_bytes and dense_bytes * length ** 2 > BASELINE_MEMORY_LIMIT:
                    result = {"skipped": f"not run: its L x L arrays alone need ~{gib(dense_bytes * length ** 2)}"}
                else:
                    result = run_case(case, path, Path(tmp) / "out.csv")
                rows.append((length, case, what, result))
                print(length, case, result, flush=True)
    if args.no_markdown:
        return
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [BEGIN, "## Long chains: time and peak memory (issue 21)", "",
             f"Machine: {cpu_name()}, {os.cpu_count()} cores, shared with other jobs. Date: {stamp}. "
             f"Command: `python bench/long_chains.py --lengths {' '.join(map(str, args.lengths))}`.", "",
             "Synthetic chains: copies of 1AKI's chain on a 45 A grid, numbered 1..L as one mmCIF chain. One fresh "
             "process per row; \"peak above\" is the peak resident memory minus what the process held once the chain "
             "was read and the code had run once on 60 residues (imports and tables loaded); the end-to-end row "
             "counts from start-up. One thread.", "",
             "| residues | what | wall | peak RSS | peak above the chain |", "|---|---|---|---|---|"]
    by_key = {}
    for length, case, what, result in rows:
        by_key[(length, case)] = result
        if "seconds" in result:
            lines.append(f"| {length:,} | {what} | {result['seconds']:.2f} s | {gib(result['peak'])} | "
                         f"{gib(result['above'])} |")
        else:
            lines.append(f"| {length:,} | {what} | {result.get('skipped') or result.get('error')} | | |")
    ratios = []
    for length in args.lengths:
        for new, old in (("3di", "3di-dense"), ("scorer-neighbours", "scorer-neighbours-old")):
            a, b = by_key.get((length, new), {}), by_key.get((length, old), {})
            if "above" in a and "above" in b and a["above"] > 0:
                ratios.append(f"{length:,} residues, {new}: the baseline takes {b['above'] / a['above']:.1f}x the "
                              f"memory and {b['seconds'] / a['seconds']:.2f}x the time")
    if ratios:
        lines += ["", "Against the baseline in this run: " + "; ".join(ratios) + "."]
    lines.append(END)
    replace_block(REPO / "BENCHMARKS.md", BEGIN, END, "\n".join(lines))


if __name__ == "__main__":
    main()

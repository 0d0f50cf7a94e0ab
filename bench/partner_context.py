"""What ``--partner-context`` changes (issue 24, item 5): the three structure scorers with and without the file's
other chains, on the 26 dev assays' structures (single chains: must be identical) and on the multi-chain entries
of the packed test data (interface residues should score lower with the partner present).

Interface: a heavy atom within 5 A of another protein chain (``encoding.contacts``). Reported per scorer: the
mean change of the per-residue mean score at interface residues and elsewhere, and the share of interface
residues whose score dropped. Spearman on the dev assays is unchanged by construction when every structure
is a single chain, which the first part checks.

    python bench/partner_context.py [--dev ../shared/data/dms_dev]
"""
from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO / "tests"), str(HERE)]

SCORERS = ("structure-blend", "burial-blosum", "learned-structure")


def main() -> None:
    from machine import cpu_name
    from saprot_scan import read_structure, scan_chain
    from saprot_scan.backends.base import load_scorer
    from support.data import data_dir

    parser = argparse.ArgumentParser()
    parser.add_argument("--dev", default=str(REPO.parent / "shared" / "data" / "dms_dev"))
    args = parser.parse_args()
    scorers = {name: load_scorer(name) for name in SCORERS}
    for scorer in scorers.values():
        scorer.check()
    print(f"# partner context, {datetime.date.today()}, {cpu_name()}")
    dev = sorted((Path(args.dev) / "structures").glob("*.pdb"))
    worst, chains = 0.0, 0
    for path in dev:
        with_context = read_structure(path, partners=True)
        alone = read_structure(path)
        chains += len(alone)
        for name, scorer in scorers.items():
            for a, b in zip(with_context, alone):
                x = scan_chain(a, scorer, use_cache=False).scores
                y = scan_chain(b, scorer, use_cache=False).scores
                same = np.isnan(x) == np.isnan(y)
                worst = max(worst, float(np.nanmax(np.abs(x - y))) if same.all() else np.inf)
    print(f"dev structures: {len(dev)} files, {chains} chains; largest |on - off| over all scores and "
          f"scorers: {worst:g}")
    print("| complex | chain | interface residues | scorer | mean change at interface | elsewhere | "
          "interface residues lower |")
    print("|---|---|---|---|---|---|---|")
    for path in sorted((data_dir() / "foldseek_3di").glob("*.cif")):
        on, off = read_structure(path, partners=True), read_structure(path, partners=False)
        if len(on) < 2:
            continue
        for a, b in zip(on, off):
            if a.interface is None or a.interface.sum() < 5:
                continue
            for name, scorer in scorers.items():
                change = scan_chain(a, scorer, use_cache=False).summary("mean") - \
                    scan_chain(b, scorer, use_cache=False).summary("mean")
                mark = a.interface
                print(f"| {path.stem} | {a.chain_id} | {int(mark.sum())} of {len(a)} | {name} | "
                      f"{np.nanmean(change[mark]):+.3f} | {np.nanmean(change[~mark]):+.3f} | "
                      f"{int((change[mark] < 0).sum())} of {int(mark.sum())} |")


if __name__ == "__main__":
    main()

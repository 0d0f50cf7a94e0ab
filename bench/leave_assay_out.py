"""The structure scorers' leave-assay-out summary in BENCHMARKS.md, from the record `make train-structure` keeps.

The learned trees were trained on the 26 dev assays, so `make bench-dms` rows for learned-structure and
structure-blend are in-sample. The numbers that judge them come from the training recipe's leave-assay-out
protocol (models/training/learned.py: each protein's assays scored by trees that never saw it) and are stored
in models/learned/model.json; this script only renders them beside the benchmark tables, so BENCHMARKS.md
and the model card cannot disagree.

    python bench/leave_assay_out.py            # print the block
    python bench/leave_assay_out.py --write    # and rewrite it in BENCHMARKS.md
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from report import replace_block

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "models" / "learned" / "model.json"
BEGIN, END = "<!-- leave-assay-out:begin -->", "<!-- leave-assay-out:end -->"
#: (row name, the record's noise entry): the blend is the recipe's learned+burial-blosum column.
ROWS = (("learned-structure", "noise"), ("structure-blend (= learned-structure+burial-blosum; the offline default)",
                                         "noise_ensemble"))


def render(record: dict) -> str:
    """The summary table: each scorer's mean, its paired difference to burial-blosum and that difference's noise."""
    base = record["noise"]
    lines = [f"{BEGIN}", "## Structure scorers, leave-assay-out on the dev deep mutational scans (issue 20)", "",
             f"From `make train-structure` (models/training/learned.py; record `models/learned/model.json`, trained "
             f"{record['date']} on {record['machine']}, {record['seconds']:.0f} s), rendered by "
             "`python bench/leave_assay_out.py --write`. Each of the 26 dev assays is scored by trees trained on the "
             "other proteins' assays (assays of one protein held out together); burial-blosum, which learns "
             "nothing, is scored in the same run. Differences are paired per assay; SE = SD / sqrt(26); the "
             f"interval is a seeded bootstrap over assays ({base['resamples']} resamples). The per-assay table is "
             "in models/README.md. The blend was selected among 4 designs on these same assays, so its margin is "
             "somewhat optimistic; the held-out assays decide. (The `make bench-dms` rows of learned-structure "
             "and structure-blend above are in-sample: fit, not prediction.)", "",
             "| scorer | mean Spearman | difference to burial-blosum | SE | bootstrap 95% | assays better |",
             "|---|---:|---:|---:|---:|---:|",
             f"| burial-blosum (same run) | {base['mean_burial_blosum']:.3f} | | | | |"]
    for name, key in ROWS:
        row = record[key]
        low, high = row["bootstrap_95"]
        lines.append(f"| {name} | {row['mean_learned']:.3f} | {row['mean_difference']:+.3f} | "
                     f"{row['se_difference']:.3f} | {low:+.3f} .. {high:+.3f} | {row['assays_better']} / "
                     f"{row['assays']} |")
    lines.append(END)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the block in BENCHMARKS.md")
    args = parser.parse_args(argv)
    block = render(json.loads(RECORD.read_text()))
    print(block)
    if args.write:
        replace_block(REPO / "BENCHMARKS.md", BEGIN, END, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What every command shares: reading the structure's chains, notes and the progress bar on stderr."""
from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILURE, EXIT_INPUT = 0, 1, 2


def note(args, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)


def read_chains(args):
    from saprot_scan.encoding.structure import read_structure

    return read_structure(args.structure, chains=args.chain, model=args.model_number)


def progress_bar(args, label: str, total: int):
    """A tqdm bar on a terminal's stderr for scans long enough to wait for (logs stay clean)."""
    if args.quiet or total < 50 or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="res", file=sys.stderr, leave=False, mininterval=0.5)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return update, bar.close



"""What every command shares: reading the structure's chains, notes and the progress bar on stderr, scan outputs."""
from __future__ import annotations

import sys

from saprot_scan.errors import InputError

EXIT_OK, EXIT_FAILURE, EXIT_INPUT = 0, 1, 2


def note(args, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)


def read_chains(args, show_notes: bool = True):
    """The structure's chains; what was read differently from the file's text (its notes) goes to stderr,
    unless the command reports it with its results (``show_notes=False``)."""
    from saprot_scan.encoding.structure import read_structure

    switch = getattr(args, "partner_context", None)
    chains = read_structure(args.structure, chains=args.chain, model=args.model_number,
                            partners=None if switch is None else switch == "on")
    for chain in chains if show_notes else ():
        for text in chain.notes:
            note(args, f"chain {chain.chain_id}: {text}")
    return chains


def only_chain(chains: list, what: str = "") -> object:
    """The one chain a command works on; several: one line naming them, so the user can pick with --chain.
    ``what`` says which option needs one chain (``--fitted``); empty for commands that always do."""
    if len(chains) == 1:
        return chains[0]
    need = f"{what} applies to one chain; " if what else ""
    names = ", ".join(str(c.chain_id) for c in chains)
    raise InputError(f"{need}the structure has {len(chains)} protein chains ({names}); choose one with --chain")


class ProgressReport:
    """Progress of one chain's scan on stderr with the time left: a tqdm bar on a terminal; in a log (stderr not
    a terminal) one line at each tenth. Quiet runs and chains under 50 residues show nothing. Called as
    ``progress(done, total)``; ``start(countdown)`` gives it the scan's ``estimate.Countdown``."""

    def __init__(self, args, label: str, total: int):
        self.label, self.countdown, self.bar, self.tenth = label, None, None, 0
        self.shown = not args.quiet and total >= 50
        if self.shown and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="res", file=sys.stderr, leave=False, mininterval=0.5)

    def start(self, countdown) -> None:
        self.countdown = countdown
        if countdown is not None:  # a resumed scan starts where the stopped one ended
            self.tenth = countdown.start_done * 10 // max(1, countdown.total)

    def __call__(self, done: int, total: int) -> None:
        if not self.shown:
            return
        left = self.countdown.text(done) if self.countdown is not None else ""
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            if left:
                self.bar.set_postfix_str(left, refresh=False)
            return
        tenth = done * 10 // max(1, total)
        if tenth > self.tenth and done < total:
            self.tenth = tenth
            print(f"{self.label}: {done}/{total} residues" + (f", {left}" if left else ""), file=sys.stderr,
                  flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def progress_bar(args, label: str, total: int):
    """(progress callback, close) for one chain's scan (``ProgressReport``)."""
    report = ProgressReport(args, label, total)
    return report, report.close


def write_scan_outputs(args, results, alignments=None) -> list[str]:
    """--csv/--summary-csv/--json/--heatmap of ScanResults as 'scan' writes them; the CSV goes to stdout only
    when no output file at all was asked for. ``alignments`` (one per result, with --reference) add the
    reference position column. Returns the paths written."""
    from saprot_scan.outputs.files import write_text_atomic
    from saprot_scan.outputs.tables import csv_text, summary_csv_text, write_csv, write_json

    if args.csv:
        write_csv(results, args.csv, alignments)
    if args.summary_csv:
        write_text_atomic(args.summary_csv, summary_csv_text(results))
    if args.json:
        write_json(results, args.json)
    if args.heatmap:
        from saprot_scan.outputs.heatmap import save_heatmap

        save_heatmap(results, args.heatmap)
    write_report_of(args, results)
    report = getattr(args, "report", None)
    asked = [args.csv, args.summary_csv, args.json, args.heatmap, getattr(args, "csv_hgvs", None), report]
    if not any(asked):
        sys.stdout.write(csv_text(results, alignments))
    return [p for p in (args.csv, args.summary_csv, args.json, args.heatmap, report) if p]


def check_report(args) -> None:
    """``--report``: its name checked before any model work (a .html file that can be written)."""
    if getattr(args, "report", None):
        from saprot_scan.report import check_report_path

        check_report_path(args.report)


def write_report_of(args, results, **extra) -> None:
    """``--report``: the page of ``results`` with the structure file and the command that made them; ``extra``
    goes to ``report.write_report`` (suggestions)."""
    if getattr(args, "report", None):
        from saprot_scan.report import write_report

        write_report(args.report, results, structure_path=args.structure, model=args.model_number,
                     argv=getattr(args, "argv", None), **extra)

"""``saprot scan``: score every substitution of each protein chain in the spec and colour by tolerance
(or by a fitted model's scores: ``fitted F``)."""
from __future__ import annotations

from pathlib import Path

from chimerax.core.commands import BoolArg, CmdDesc, ColormapArg, EnumOf, OpenFileNameArg, SaveFileNameArg, StringArg
from chimerax.core.errors import UserError

from . import args, coloring


def _load_fitted(path: str | None, chains: list):
    """The fitted model saved by ``saprot-scan fit --save`` (checked against the one chain), or None."""
    if path is None:
        return None
    from saprot_scan import InputError, load_fitted
    if len(chains) != 1:
        raise UserError(f"saprot scan: fitted applies to one chain; the spec touches {len(chains)}")
    try:
        fitted = load_fitted(Path(path).expanduser())
    except InputError as err:
        raise UserError(f"saprot scan: {err}") from None
    if fitted.sequence != chains[0].sequence:
        raise UserError(f"saprot scan: {Path(path).name} was fitted on chain {fitted.chain_id} of another sequence "
                        f"({len(fitted.sequence)} residues); this chain has {len(chains[0].sequence)}")
    return fitted


def saprot_scan(session, residues, model: str | None = None, method: str = "masked", summary: str = "mean",
                palette=None, key: bool = True, heatmap: str | None = None, csv: str | None = None,
                device: str = "auto", fitted: str | None = None, partners: bool = True):
    """Score every substitution of each protein chain in ``residues`` and colour them (by a fitted model's
    scores when ``fitted`` names one saved by ``saprot-scan fit --save``). With ``partners`` (the default) the
    structure scorers count the structure's other protein chains in burial; SaProt reads one chain."""
    from .targets import chain_targets
    kind = args.check_summary(summary)
    heatmap = args.check_output(heatmap, args.HEATMAP_SUFFIXES, "the heatmap")
    csv = args.check_output(csv)
    targets = chain_targets(residues)
    chains = args.core_chains(targets, partners)
    fitted_model = _load_fitted(fitted, chains)
    if fitted_model is not None:
        method = fitted_model.zero_shot.get("method", method)  # the scores it was fitted on
    model_text = args.model_label(model)
    structures = {t.structure for t in targets}
    labels = [t.label for t in targets]  # read here: ChimeraX objects are not touched off the UI thread
    names = ", ".join(labels)
    if len(structures) > 1:
        session.logger.info(f"SaProt scan: {len(structures)} structures, scoring each chain separately "
                            f"with model {model_text}: {names}")
    else:
        session.logger.info(f"SaProt scan of {names} with model {model_text}")

    from .preview import PreviewPainter
    painter = PreviewPainter(session, targets, kind, palette)

    def work(report, cancel):
        # Loading (hash check, ONNX session) and scoring both run here, off the UI thread with a GUI.
        from saprot_scan import ScanCancelled, scan_chain
        from saprot_scan.estimate import announce
        from .jobs import on_ui
        report(f"SaProt scan: loading model {model_text}")
        import contextlib
        import saprot_scan
        # an int8 copy made on first use says so here (a core older than issue 25 has no such lines)
        with getattr(saprot_scan, "copy_notices_to", lambda _: contextlib.nullcontext())(report):
            loaded = args.MODEL_POOL.get(model, device)  # loaded once per session, as in PyMOL
        results, stopped = [], False
        for number, (label, chain) in enumerate(zip(labels, chains), start=1):
            countdown = [None]

            def plan(scan_plan, _label=label):
                countdown[0] = announce(loaded, scan_plan, lambda text: on_ui(
                    session, session.logger.info, f"SaProt scan {_label}: {text}"))
            progress = _throttled(report, f"SaProt scan {label} ({number}/{len(chains)})", countdown)
            try:
                result = scan_chain(chain, model=loaded, method=method, device=device, progress=progress,
                                    cancel=cancel, on_plan=plan,
                                    on_view=painter.viewer(number - 1) if fitted_model is None else None)
            except ScanCancelled as err:  # keep what finished: whole chains and the stopped one's residues
                stopped = True
                if err.partial is not None:
                    results.append(err.partial)
                break
            if fitted_model is not None:
                from saprot_scan import apply_fitted
                result = apply_fitted(result, fitted_model, Path(fitted).name)
            results.append(result)
        _write_outputs(results, csv, heatmap)
        line = loaded.describe() + (f" + fitted model {Path(fitted).name}" if fitted_model is not None else "")
        return line, results, stopped

    def apply(outcome) -> None:
        model_line, results, stopped = outcome
        painter.revert(len(results))  # chains the stop left with nothing get their colours back
        if stopped:
            kept = sum(1 for r in results if not r.partial)
            partial = sum(1 for r in results if r.partial)
            session.logger.info(f"saprot scan stopped: {kept} chain(s) finished, {partial} partial"
                                + ("; nothing was kept" if not results else ""))
        if results:
            _apply_scan(session, targets[:len(results)], results, model_line, kind, palette, key, heatmap, csv)

    from .jobs import run_job
    run_job(session, "saprot scan", work, apply)


def _throttled(report, label: str, countdown: list, steps: int = 50):
    """A progress callback that reports at most ``steps`` times per chain (and always at the end), with the
    time left (``countdown[0]``, an ``estimate.Countdown``, once the scan said its estimate), so a long chain
    does not flood the UI thread with status updates."""
    last = [-1]

    def progress(done: int, total: int) -> None:
        step = max(1, total // steps)
        if done >= total or last[0] < 0 or done - last[0] >= step:
            last[0] = done
            left = f", {countdown[0].text(done)}" if countdown[0] is not None and done < total else ""
            report(f"{label}: {done}/{total} positions{left}")
    return progress


def _write_outputs(results, csv: str | None, heatmap: str | None) -> None:
    if csv:
        from saprot_scan import write_csv
        write_csv(results, csv)
    if heatmap:
        from saprot_scan import save_heatmap
        save_heatmap(results, heatmap)


def _apply_scan(session, targets, results, model_line: str, kind: str, palette, key: bool,
                heatmap: str | None, csv: str | None) -> None:
    from .store import StoredScan, remember
    live = [(t, r) for t, r in zip(targets, results) if not t.structure.deleted]
    if len(live) < len(targets):
        session.logger.warning("saprot scan: some structures were closed during the scan; their scores were dropped")
    scans = [StoredScan(t, r, model_line) for t, r in live]
    for scan in scans:
        remember(session, scan)
    if scans:
        coloring.color_and_log(session, scans, kind, palette, key, heatmap, csv, register_sets=True)


scan_desc = CmdDesc(
    required=[("residues", args.residues_arg())],
    keyword=[("model", StringArg), ("method", EnumOf(args.METHODS)), ("summary", StringArg),
             ("palette", ColormapArg), ("key", BoolArg), ("heatmap", SaveFileNameArg),
             ("csv", SaveFileNameArg), ("device", EnumOf(args.DEVICES)), ("fitted", OpenFileNameArg),
             ("partners", BoolArg)],
    synopsis="score every substitution with SaProt and colour residues by predicted tolerance",
    url=args.HELP + "#scan")

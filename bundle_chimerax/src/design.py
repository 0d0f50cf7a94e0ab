"""``saprot design``: SaProt's inverse-folding reading of each protein chain in the spec (every amino acid hidden,
3Di kept), run by the core (``design_chain``). Residues are coloured by how well their native amino acid fits the
structure (log(20 P(native)), the core's ``native_fit``) and P(native) is kept as the float residue attribute
``saprot_native``; the log gives native sequence recovery and the most likely sequence."""
from __future__ import annotations

from html import escape

import numpy as np
from chimerax.core.commands import BoolArg, CmdDesc, ColormapArg, EnumOf, StringArg

from . import args, coloring

REGISTRANT = "SaProt design"


def register_native_attribute(session) -> None:
    """Register ``saprot_native`` so ChimeraX knows its type (``color byattribute``, ``select``, sessions)."""
    from chimerax.atomic import Residue
    from saprot_scan.viewers import NATIVE_ATTR
    Residue.register_attr(session, NATIVE_ATTR, REGISTRANT, attr_type=float, can_return_none=True)


def _model_name(model: str | None) -> str:
    """The model for the first log line (the core's words); one that cannot load is left to the pool, which
    refuses it or reports what is wrong."""
    from saprot_scan import InputError
    from saprot_scan.viewers import model_label
    try:
        return model_label(model)
    except InputError:
        return model or "(default)"


def saprot_design(session, residues, model: str | None = None, palette=None, key: bool = True,
                  device: str = "auto"):
    """Design every protein chain in ``residues`` from its structure alone and colour residues by how well
    their native amino acid fits; returns {chain label: DesignResult}."""
    from .targets import chain_targets
    targets = chain_targets(residues)
    chains = args.core_chains(targets)
    name = _model_name(model)
    labels = [t.label for t in targets]  # read here: ChimeraX objects are not touched off the UI thread
    session.logger.info(f"SaProt design of {', '.join(labels)} with model {name}")
    done: dict = {}

    def work(report, cancel):
        from saprot_scan import ScanCancelled, chain_tokens, check_designs, design_chain
        report(f"SaProt design: loading model {name}")
        loaded = args.MODEL_POOL.get(model, device)  # loaded once per session, as for saprot scan
        check_designs(loaded)  # the structure scorer cannot design: the core's one line
        loaded.check()
        results = []
        for number, (label, chain) in enumerate(zip(labels, chains), start=1):
            if cancel.is_set():
                raise ScanCancelled("cancelled")
            report(f"SaProt design {label} ({number}/{len(chains)})")
            results.append(design_chain(chain, loaded, chain_tokens(chain)))
        return loaded, results

    def apply(outcome) -> None:
        loaded, results = outcome
        done.update(_apply_design(session, targets, results, loaded, palette, key))

    from .jobs import run_job
    run_job(session, "saprot design", work, apply)
    return done or None


def _apply_design(session, targets, results, loaded, palette, key: bool) -> dict:
    from saprot_scan.viewers import NATIVE_ATTR, design_note, native_fit

    live = [(t, r) for t, r in zip(targets, results) if not t.structure.deleted]
    if len(live) < len(targets):
        session.logger.warning("saprot design: some structures were closed meanwhile; their designs were dropped")
    if not live:
        return {}
    register_native_attribute(session)
    fits = [native_fit(r.p_native) for _, r in live]
    colormap = coloring.centred_colormap(palette, np.concatenate(fits))
    rows = []
    coloured = grey = 0
    for (target, result), fit in zip(live, fits):
        values = coloring.attach_values(target, result.residue_ids, NATIVE_ATTR, result.p_native, colour_by=fit)
        done, missing = coloring.paint(target.spec_residues, values, colormap)
        coloured, grey = coloured + done, grey + missing
        rows.append(f"<tr><td>{escape(target.label)}</td><td>{len(result.wt)}</td>"
                    f"<td>{100 * result.recovery:.1f}%</td><td><tt>{escape(result.designed)}</tt></td></tr>")
    if key:
        coloring.show_key(session, colormap)
    describe = loaded.describe() if hasattr(loaded, "describe") else str(getattr(loaded, "name", loaded))
    session.logger.info(
        f"<p><b>SaProt design</b> (every amino acid hidden, 3Di kept), {escape(describe)}: coloured {coloured} "
        f"residues by how well their native amino acid fits the structure, log(20 P(native)): white = a uniform "
        f"guess, blue = favoured, red = disfavoured ({grey} grey: no native amino acid). P(native) is the residue "
        f"attribute {NATIVE_ATTR}.</p>"
        "<table border=1 cellpadding=2 style='border-collapse:collapse'>"
        "<tr><th>chain</th><th>residues</th><th>native sequence recovery</th><th>most likely sequence</th></tr>"
        + "".join(rows) + f"</table><p>{escape(design_note(loaded))}</p>", is_html=True)
    return {target.label: result for target, result in live}


design_desc = CmdDesc(
    required=[("residues", args.residues_arg())],
    keyword=[("model", StringArg), ("palette", ColormapArg), ("key", BoolArg), ("device", EnumOf(args.DEVICES))],
    synopsis="colour residues by how well their native amino acid fits the structure (SaProt inverse folding)",
    url=args.HELP + "#design")

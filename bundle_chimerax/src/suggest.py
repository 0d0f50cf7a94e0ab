"""``saprot suggest``: the best single substitutions of the scanned chains, away from a residue spec, listed
in the log with ``cxcmd`` links (select, list substitutions) and labelled on the structure (the core chooses
them: ``suggest_singles``)."""
from __future__ import annotations

from html import escape

from chimerax.core.commands import BoolArg, CmdDesc, FloatArg, IntArg, StringArg
from chimerax.core.errors import UserError

from . import args


def _link(command: str, text: str) -> str:
    return f'<a href="cxcmd:{escape(command, quote=True)}">{escape(text)}</a>'


def _avoided(avoid) -> dict:
    """Avoided residues per structure, as core ResidueIds, with the protein chains they sit in."""
    from saprot_scan import ResidueId

    from .targets import chain_targets
    if avoid is None:
        return {}
    targets = chain_targets(avoid, "avoid")
    out: dict = {}
    for target in targets:
        ids, chains = out.setdefault(target.structure, (set(), []))
        chains.append(target)
        for r in target.spec_residues:
            ids.add(ResidueId(target.chain_id, int(r.number), str(r.insertion_code or "").strip()))
    return out


def _spec_of(found) -> str:
    """One spec for every suggested residue, e.g. ``#1/A:12,40#2/B:7``, residues in rank order per chain."""
    chains: dict[str, list[str]] = {}
    for scan, s in found:
        labels = chains.setdefault(scan.target.label, [])
        if s.residue.label not in labels:
            labels.append(s.residue.label)
    return "".join(f"{chain}:{','.join(labels)}" for chain, labels in chains.items())


_SITE = {True: "measured", False: "no data", None: ""}  # a fitted scan's site column


def saprot_suggest(session, avoid=None, radius: float = 5.0, top: int = 10, per_position: int = 1,
                   allow: str = "", label: bool = True):
    """List the best substitutions (above the scorer's 0, worded by its declared meaning: "better than the wild
    type" only where 0 is the wild type; no P/G/C unless allowed; at most ``per_position`` per residue; a fitted
    scan's measured residues first), none in ``avoid`` nor within ``radius`` Å of it; returns (chain, mutant,
    score) best first."""
    from saprot_scan import InputError, check_allow

    from .store import stored_scans
    try:
        allow = check_allow(allow or "")
    except InputError as err:
        raise UserError(f"saprot suggest: {err}") from None
    if top < 1 or per_position < 1:
        raise UserError("saprot suggest: top and perPosition must be at least 1")
    scans = stored_scans(session)
    if not scans:
        raise UserError("saprot suggest: nothing has been scanned in this session; run saprot scan first")
    avoided = _avoided(avoid)
    # one ranking per structure (scores of different proteins are not on one scale); with avoid, only the
    # structures it touches
    structures = sorted({scan.target.structure for scan in scans if not avoided or scan.target.structure in avoided},
                        key=lambda st: st.id)
    if not structures:
        raise UserError("saprot suggest: the avoid spec touches no scanned structure; run saprot scan on it first")
    chosen, by_residue = [], {}
    for structure in structures:
        found = _ranked([scan for scan in scans if scan.target.structure is structure], avoided, radius, top,
                        per_position, allow)
        if not found:
            session.logger.info(f"saprot suggest: #{structure.id_string}: no substitution passes the filters "
                                "(none scores above the scorer's 0 there)")
            continue
        _log_ranking(session, found, by_residue, avoid, radius, per_position, allow)
        chosen += found
    if label and by_residue:  # after the tables: a session that cannot draw labels still gets the suggestions
        _label(session, by_residue)
    return [(scan.target.label, s.author, s.score) for scan, s in chosen]


def _ranked(scans, avoided: dict, radius: float, top: int, per_position: int, allow: str) -> list:
    """The best ``top`` substitutions over ``scans`` (one structure's chains), ranked as the core ranks them."""
    from saprot_scan import near_residues, suggest_singles

    from .targets import core_chain
    found = []
    for scan in scans:
        excluded = None
        ids, chains = avoided.get(scan.target.structure, (set(), []))
        if ids:
            mine = core_chain(scan.target)
            others = [core_chain(t) for t in chains if t.chain_id != scan.target.chain_id]
            excluded = {scan.result.chain_id: near_residues(mine, ids, [mine, *others], float(radius))}
        for s in suggest_singles([scan.result], excluded, top=top, per_position=per_position, allow=allow):
            found.append((scan, s))
    found.sort(key=lambda p: (p[1].measured is False, -p[1].score, p[0].target.chain_id, p[1].index, p[1].mt))
    return found[:top]


def _log_ranking(session, found: list, by_residue: dict, avoid, radius: float, per_position: int,
                 allow: str) -> None:
    """One structure's ranking as an HTML table with select / saprot mutations links; fills ``by_residue``
    (spec -> mutants) for the labels."""
    rows = []
    for rank, (scan, s) in enumerate(found, 1):
        spec = f"{scan.target.label}:{s.residue.label}"
        by_residue.setdefault(spec, []).append(s.author)
        rows.append(f"<tr><td>{rank}</td><td>{_link('select ' + spec, spec)}</td><td>{escape(s.author)}</td>"
                    f"<td>{s.score:+.3f}</td><td>{_SITE[s.measured]}</td>"
                    f"<td>{_link('saprot mutations ' + spec, 'all 19')}</td></tr>")
    everything = _spec_of(found)
    banned = "".join(c for c in "PGC" if c not in allow)
    where_not = f", away from {len(avoid)} residues and {float(radius):g} Å around them" if avoid is not None else ""
    from saprot_scan.viewers import suggestion_heading, unmeasured_note
    meanings = list(dict.fromkeys(scan.result.meaning for scan, _ in found))
    what = (suggestion_heading(meanings[0], len(found), 0.0) if len(meanings) == 1
            else f"top {len(found)} substitutions above each scorer's own 0 (the scorers differ)")
    site_note = unmeasured_note([s for _, s in found])
    session.logger.info(
        f"<p><b>SaProt suggestions</b> for #{escape(found[0][0].target.structure.id_string)}: {escape(what)}"
        f"{', none to ' + banned if banned else ''}, at most {per_position} per residue{where_not}; "
        f"{escape(found[0][0].model_line)}; {_link('select ' + everything, 'select them all')}"
        f"{'<br>' + escape(site_note) if site_note else ''}</p>"
        "<table border=1 cellpadding=2 style='border-collapse:collapse'>"
        "<tr><th>rank</th><th>residue</th><th>mutant</th><th>score</th><th>site</th><th></th></tr>"
        + "".join(rows) + "</table>",
        is_html=True)


def _label(session, by_residue: dict) -> None:
    """3D labels with each residue's mutations; skipped with one line where the session cannot draw them
    (nogui without offscreen rendering raises LimitationError)."""
    from chimerax.core.commands import run
    from chimerax.core.errors import LimitationError
    try:
        for spec, names in by_residue.items():
            run(session, f'label {spec} residues text "{" ".join(names)}"', log=False)
    except (UserError, LimitationError) as err:
        session.logger.info(f"saprot suggest: residues not labelled ({err})")


suggest_desc = CmdDesc(
    keyword=[("avoid", args.residues_arg()), ("radius", FloatArg), ("top", IntArg), ("per_position", IntArg),
             ("allow", StringArg), ("label", BoolArg)],
    synopsis="list the best single substitutions of the scanned chains, away from a residue spec",
    url=args.HELP + "#suggest")

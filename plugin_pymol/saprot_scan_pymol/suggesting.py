"""``saprot_suggest``: the best single substitutions of the scored chains, listed in the log with their
PyMOL selection names and labelled on the structure (the core chooses them: ``saprot_scan.suggest_singles``)."""
from __future__ import annotations

from pymol import cmd

from . import feedback
from .atoms import ChainKey, count_atoms, insertion_code, read_chain
from .arguments import flag, user_command
from .core_link import PluginError, core
from .guards import forget_deleted_objects, not_while_scanning
from .store import STORE

SELECTION = "saprot_suggested"


def _avoided(selection: str, *, _self=cmd) -> dict[str, set]:
    """Residues of ``selection`` per object, as core ResidueIds (protein atoms only)."""
    from saprot_scan import ResidueId

    if not selection.strip():
        return {}
    if count_atoms(selection, _self=_self) == 0:
        raise PluginError(f"avoid selection '{selection}' is empty")
    rows: list[tuple] = []
    _self.iterate(f"({selection}) and polymer.protein", "rows.append((model, chain, resv, resi))",
                  space={"rows": rows})
    out: dict[str, set] = {}
    for obj, chain, resv, resi in rows:
        out.setdefault(obj, set()).add(ResidueId(chain, int(resv), insertion_code(resi)))
    return out


def suggest(avoid: str = "", radius: float = 5.0, top: int = 10, per_position: int = 1, allow: str = "",
            label: bool = True, *, _self=cmd) -> list:
    """Suggestions over every scored chain, best first, as (chain label, mutant in author numbering, score);
    the residues go into the selection ``saprot_suggested`` and get their mutations as CA labels."""
    core()
    from saprot_scan import check_allow

    check_allow(allow)
    if not STORE.scores:
        raise PluginError("nothing scored yet; run saprot_scan first")
    avoided = _avoided(avoid, _self=_self)
    # one ranking per structure: scores of unrelated proteins are not on one scale; with an avoid selection
    # only the structures it touches
    objects = sorted({key.obj for key in STORE.scores if not avoided or key.obj in avoided})
    if not objects:
        raise PluginError(f"the avoid selection '{avoid}' touches no scored structure; run saprot_scan on it first")
    _self.delete(SELECTION)
    chosen, labels = [], {}
    for obj in objects:
        found = _ranked(obj, avoided, float(radius), top, per_position, allow, _self=_self)
        if not found:
            feedback.say(f"{obj + ': ' if len(objects) > 1 else ''}no substitution passes the filters (none scores "
                         "above the scorer's 0 there)")
            continue
        _say_ranking(obj, found, avoid, float(radius), per_position, allow, len(objects) > 1)
        for rank, (key, s) in enumerate(found, 1):
            where = f"/{key.obj}//{key.chain}/{s.residue.label}"
            site = {True: "  measured", False: "  no data", None: ""}[s.measured]
            print(f"  {rank:>3}. {where}  {s.author:<8} {s.score:+.3f}{site}")
            labels.setdefault(where, []).append(s.author)
        chosen += found
    if not chosen:
        return []
    parts = [f"(/{k.obj}//{k.chain}/{s.residue.label}/)" for k, s in chosen]
    _self.select(SELECTION, " or ".join(parts), enable=0)
    if label:
        for where, names in labels.items():
            _self.label(f"{where}/CA", repr(" ".join(names)))
    return [(key.label, s.author, s.score) for key, s in chosen]


def _ranked(obj: str, avoided: dict, radius: float, top: int, per_position: int, allow: str, *, _self=cmd) -> list:
    """The best ``top`` substitutions over the scored chains of one structure, as the core ranks them:
    measured sites of a fitted scan before unmeasured ones, then by score."""
    from saprot_scan import near_residues, suggest_singles

    found = []
    for key, entry in sorted(STORE.scores.items()):
        if key.obj != obj:
            continue
        excluded = None
        if avoided.get(key.obj):
            chain = read_chain(key, _self=_self)
            others = {rid.chain for rid in avoided[key.obj]} | {key.chain}
            neighbours = [chain if c == key.chain else read_chain(ChainKey(key.obj, c), _self=_self)
                          for c in sorted(others)]
            excluded = {entry.result.chain_id: near_residues(chain, avoided[key.obj], neighbours, radius)}
        for s in suggest_singles([entry.result], excluded, top=top, per_position=per_position, allow=allow):
            found.append((key, s))
    found.sort(key=lambda pair: (pair[1].measured is False, -pair[1].score, pair[0], pair[1].index, pair[1].mt))
    return found[:top]


def _say_ranking(obj: str, found: list, avoid: str, radius: float, per_position: int, allow: str,
                 several: bool) -> None:
    """The ranking's heading: what its numbers are (the scorer's meaning) and the filters."""
    from saprot_scan.viewers import suggestion_heading, unmeasured_note

    banned = "".join(c for c in "PGC" if c not in allow.upper())
    where_not = f", avoiding {avoid} and {radius:g} A around it" if avoid else ""
    meanings = {STORE.scores[key].result.meaning for key, _ in found}
    what = (suggestion_heading(next(iter(meanings)), len(found), 0.0) if len(meanings) == 1
            else f"top {len(found)} substitutions above each scorer's own 0 (scorers differ: see saprot_mutations)")
    feedback.say(f"{obj + ': ' if several else ''}{what}{', none to ' + banned if banned else ''}, "
                 f"at most {per_position} per residue{where_not}; selection {SELECTION}:")
    site_note = unmeasured_note([s for _, s in found])
    if site_note:
        feedback.say(site_note)


@user_command
def saprot_suggest(avoid: str = "", radius: float = 5.0, top: int = 10, per_position: int = 1, allow: str = "",
                   label=1, *, _self=cmd):
    '''
DESCRIPTION

    "saprot_suggest" lists the best single substitutions of the scored chains (score > 0:
    predicted better than the wild type for SaProt and for fitted models (fitted= in saprot_scan) whose
    labels held the wild type;
    only "most tolerated" for the structure scorers and ensembles, whose 0 is the chain's typical
    substitution; at a fitted scan's unmeasured residues only after all measured ones),
    with no mutation to P, G or C unless allowed, at most per_position per residue, and none
    in the avoid selection (e.g. an active site or an interface) or within radius A of it.
    The residues are put in the selection saprot_suggested and labelled with their mutations.

USAGE

    saprot_suggest [ avoid [, radius [, top [, per_position [, allow [, label ]]]]]]

EXAMPLES

    saprot_suggest
    saprot_suggest sele, 6
    saprot_suggest chain B, 5, 20, allow=PG

SEE ALSO

    saprot_scan, saprot_mutations
    '''
    try:
        radius, top, per_position = float(radius), int(top), int(per_position)
    except (TypeError, ValueError):
        raise PluginError("radius must be a number, top and per_position whole numbers") from None
    not_while_scanning()
    forget_deleted_objects(_self=_self)
    return suggest(str(avoid or ""), radius, top, per_position, str(allow or ""), flag(label, True), _self=_self)

"""The scan commands: score chains (saprot_scan), recolour (saprot_color), list one residue's substitutions
(saprot_mutations), put the scene back (saprot_restore) and stop a running scan (saprot_cancel)."""
from __future__ import annotations

from pathlib import Path

from pymol import cmd

from . import feedback, painting
from .arguments import choice, flag, user_command, wants_background
from .atoms import ChainKey, PickedResidue, count_atoms, picked_residues, protein_chains, read_chain, with_partners
from .core_link import PluginError, core
from .guards import forget_deleted_objects, not_while_scanning
from .jobs import RUNNER
from .palettes import DEFAULT_PALETTE, check_palette
from .scanning import DEVICES, METHODS, Request, score
from .store import STORE, ChainScore, check_summary


@user_command
def saprot_scan(selection: str = "(all)", model: str = "", method: str = "masked", summary: str = "mean",
                palette: str = DEFAULT_PALETTE, bfactor=0, device: str = "auto", background=-1,
                fitted: str = "", partners: str = "on", *, _self=cmd):
    '''
DESCRIPTION

    "saprot_scan" scores every amino-acid substitution of the protein chains a selection
    touches with SaProt, then colours residues by their predicted tolerance to mutation
    (diverging palette centred on 0; unscored protein residues grey). The per-residue number
    is kept as atom property saprot_score where PyMOL supports properties, and is always
    readable in iterate/alter as saprot_score(model, chain, resi). B-factors are kept unless
    bfactor=1. When the selection is a single residue, its 19 substitutions are listed.

    With PyMOL's GUI the scan runs in the background (saprot_cancel stops it); without a GUI
    (pymol -c, scripts) the command returns when the scan is done. A masked scan with a SaProt
    model first says how long it will take and colours by the one-pass wild-type preview, then
    refines the colours as residues finish.

USAGE

    saprot_scan [ selection [, model [, method [, summary [, palette [, bfactor [, device ]]]]]]]

ARGUMENTS

    selection = str: atoms whose protein chains are scored {default: all}
    model = str: registry name (saprot-35m, saprot-650m), "default", an .onnx path, or a structure
            scorer (structure-blend, burial-blosum, learned-structure)
            {default: $SAPROT_SCAN_MODEL, saved preference, best cached SaProt, structure-blend}
    method = masked | wt: masked marginals (SaProt's method) or one wild-type pass {default: masked}
    summary = mean | min | max | one amino-acid letter {default: mean}
    palette = red_white_blue | blue_white_red | orange_white_purple | magenta_white_green |
              brown_white_teal {default: red_white_blue}
    bfactor = 0/1: also write the summary into b-factors {default: 0}
    device = auto | cpu | cuda {default: auto}
    background = -1: in the background under PyMOL's GUI, else wait; 0: always wait (for
                 scripts run inside the GUI); 1: always in the background {default: -1}
    fitted = str: a model saved by "saprot-scan fit --save": colour by its fitted scores
             (one chain, the sequence and zero-shot model it was fitted on) {default: none}
    partners = on | off: the structure scorers count the object's other protein chains in
               burial (a chain of a complex scored in its complex), or read the chain alone;
               SaProt always reads one chain {default: on}

EXAMPLES

    saprot_scan 1abc
    saprot_scan chain A, saprot-35m, wt, min
    saprot_scan /1abc//A/42, summary=P
    saprot_scan chain A, fitted=my_assay_fit.json
    saprot_scan chain A, structure-blend, partners=off

SEE ALSO

    saprot_color, saprot_mutations, saprot_heatmap, saprot_csv, saprot_restore, saprot_cancel
    '''
    method = choice(method, METHODS, "method")
    device = choice(device, DEVICES, "device")
    summary = check_summary(summary)
    palette = check_palette(palette)
    write_b = flag(bfactor)
    context = choice(partners, ("on", "off"), "partners") == "on"
    forget_deleted_objects(_self=_self)
    keys = protein_chains(selection, _self=_self)
    core()  # a missing core is reported before anything else happens
    chains = [(key, with_partners(key, read_chain(key, _self=_self), partners=context, _self=_self)) for key in keys]
    picked = picked_residues(selection, _self=_self)
    focus = picked[0] if len(picked) == 1 else None
    fitted_model, fitted_name = None, ""
    if str(fitted or "").strip():
        from saprot_scan import load_fitted

        fitted_path = Path(_self.exp_path(str(fitted).strip())).expanduser()
        fitted_model, fitted_name = load_fitted(fitted_path), fitted_path.name
        method = fitted_model.zero_shot.get("method", method)  # the scores it was fitted on
        if len(chains) != 1:
            raise PluginError(f"fitted= applies to one chain; the selection touches {len(chains)}")
    request = Request(chains, (model or "").strip(), method, device, fitted_model, fitted_name)
    label = "scan of " + ", ".join(key.label for key in keys)
    before = dict(STORE.scores)  # what a stop with nothing to keep puts back

    def show(key, view) -> None:
        """Paint the core's early colouring of ``key`` (the preview, then refinements) while the scan runs."""
        with STORE.lock:
            forget_deleted_objects(_self=_self)
            if key.obj not in _self.get_names("objects"):
                return
            entry = ChainScore(key, view.result, "", "", view.label, method)
            entry.shown = _named_residues(entry, picked)  # the preview colours only what the scan will colour
            STORE.scores[key] = entry
            painting.paint(summary, palette, False, _self=_self)
            STORE.stage = view.stage
        if view.stage == "preview":
            feedback.say(f"{key.label}: {view.label}; colours refine as residues finish")

    def stopped(entries) -> None:
        """Keep what a stopped scan finished (a partial chain marked so), or put the scores back as they were."""
        kept = {entry.key: entry for entry in entries or ()}
        for entry in kept.values():
            entry.shown = _named_residues(entry, picked)
        for key in keys:
            if key in kept:
                STORE.scores[key] = kept[key]
            elif key in before:
                STORE.scores[key] = before[key]
            else:
                STORE.scores.pop(key, None)
        STORE.stage = "stopped"
        forget_deleted_objects(_self=_self)
        if STORE.scores:
            painting.paint(summary, palette, write_b, _self=_self)
        else:
            painting.restore(_self=_self)
        partial = [entry for entry in kept.values() if entry.result.partial]
        if not kept:
            feedback.say(f"{label} cancelled; nothing in the scene was changed")
        elif not partial:
            feedback.say(f"{label} cancelled; the chains finished before the stop are kept")
        for entry in partial:
            feedback.say(f"{entry.key.label}: {entry.result.partial_text()}; the rest are grey "
                         f"(selection {painting.UNSCANNED_SELECTION}); saprot_scan again resumes from them")

    request.show = show

    def finish(entries) -> None:
        with STORE.lock:
            STORE.stage = "final"
            for entry in entries:
                entry.shown = _named_residues(entry, picked)
                STORE.scores[entry.key] = entry
            forget_deleted_objects(_self=_self)  # an object deleted while it was being scored
            if not any(entry.key in STORE.scores for entry in entries):
                raise PluginError("the scored object was deleted during the scan; nothing was coloured")
            values = painting.paint(summary, palette, write_b, _self=_self)
        models = sorted({entry.result.model_name for entry in entries})
        count = sum(1 for obj, chain, _ in values if ChainKey(obj, chain) in keys)
        for entry in entries:  # what the core read differently from the atoms (e.g. MSE as M), never silent
            for note in entry.result.notes:
                feedback.say(f"{entry.key.label}: {note}")
        _say_meaning([entry.result for entry in entries])
        # last, so the GUI's short log shows it: what was coloured, by what, on which scale
        feedback.say(f"coloured {count} residues of {', '.join(k.label for k in keys)} by "
                     f"{summary} score ({palette}, {_scale_text(entries[0].result.meaning.unit)}); "
                     f"scorer {', '.join(models)}")
        if focus is not None:
            show_mutations(focus)

    use_background = wants_background(background)
    entries = RUNNER.run(label, lambda progress, cancel: score(request, progress, cancel), finish,
                         background=use_background, on_stop=stopped)
    if entries is None:
        return None
    return {entry.key.label: entry.result for entry in entries}


@user_command
def saprot_color(summary: str = "", palette: str = "", bfactor="", *, _self=cmd):
    '''
DESCRIPTION

    "saprot_color" recolours the scored residues with another per-residue summary or palette
    without scoring again.

USAGE

    saprot_color [ summary [, palette [, bfactor ]]]

ARGUMENTS

    summary = mean | min | max | one amino-acid letter {default: the last one used}
    palette = see saprot_scan {default: the last one used}
    bfactor = 0/1: also write the summary into b-factors {default: the last choice}

SEE ALSO

    saprot_scan, saprot_restore
    '''
    summary = check_summary(summary or STORE.summary)
    palette = check_palette(palette or STORE.palette)
    write_b = flag(bfactor, STORE.bfactor)
    not_while_scanning()
    forget_deleted_objects(_self=_self)
    if not STORE.scores:
        raise PluginError("nothing scored yet; run saprot_scan first")
    values = painting.paint(summary, palette, write_b, _self=_self)
    unit = next(iter(STORE.scores.values())).result.meaning.unit
    feedback.say(f"recoloured {len(values)} residues by {summary} score ({palette}, {_scale_text(unit)})")


def _say_meaning(results) -> None:
    """What the numbers mean (from the scorer's declaration), the percentile attribute, the classes' measured
    precision, and the unmeasured residues of a fitted scan: the summary every scan ends with."""
    from saprot_scan.viewers import (INTERFACE_NAME, PERCENTILE_ATTR, UNMEASURED_NAME, classes_line, interface_labels,
                                     one_chain_note, score_words, unmeasured_labels)

    for words in dict.fromkeys(score_words(r) for r in results):
        feedback.say(words)
    feedback.say(f"{PERCENTILE_ATTR}(model, chain, resi): the same summary over each substitution's percentile "
                 f"within its chain (0-100, higher = more tolerated); {classes_line()}")
    missing = sum(len(unmeasured_labels(r)) for r in results)
    if missing:
        feedback.say(f"{missing} residues had no assay label (selection {UNMEASURED_NAME}): their fitted scores "
                     "rest on the zero-shot score and the amino-acid term only")
    touching = sum(len(interface_labels(r)) for r in results)
    if touching:
        feedback.say(f"{touching} residues touch another chain (selection {INTERFACE_NAME}); "
                     f"{one_chain_note(results)}")


def _scale_text(unit: str = "") -> str:
    """The colour scale just painted, as the key object saprot_key shows it, in the scores' unit."""
    scale = STORE.scale
    if scale is None:
        return "0 = white"
    return f"{scale.describe()}, in {unit}; key: {painting.KEY_NAME}" if unit else \
        f"{scale.describe()}; key: {painting.KEY_NAME}"


def _named_residues(entry, picked) -> frozenset | None:
    """The residues of ``entry``'s chain that the scanned selection named, or None when it named them all or
    just one (a residue pick colours its chain and lists that residue's 19 substitutions)."""
    mine = {p.resi for p in picked if p.key == entry.key}
    every = {rid.label for rid in entry.result.residue_ids}
    return None if every <= mine or len(picked) == 1 else frozenset(mine & every)


def show_mutations(residue: PickedResidue) -> list[tuple[str, float]]:
    """Print one residue's 19 substitution scores, best (most tolerated) first."""
    from saprot_scan import ResidueId

    entry = STORE.scores.get(residue.key)
    if entry is None:
        raise PluginError(f"{residue.key.label} is not scored yet; run saprot_scan on it first")
    rid = ResidueId(residue.key.chain, residue.resv, residue.icode)
    try:
        index = entry.result.index_of(rid)
    except (KeyError, ValueError, IndexError):
        raise PluginError(f"{residue.label} has no score (not an amino acid with a CA atom)") from None
    from saprot_scan.viewers import classes_line, score_words, substitution_rows

    wt = entry.result.wt[index]
    rows = substitution_rows(entry.result, index)
    site = ""
    if entry.result.measured:
        site = "; measured site" if entry.result.measured[index] else "; no assay label at this site"
    feedback.say(f"{residue.label} ({wt}): 19 substitutions, most tolerated first "
                 f"({score_words(entry.result)}; {entry.method}{site}); percentile within the chain, class:")
    for mt, value, percentile, kind in rows:
        print(f"   {wt}{residue.resi}{mt}  {value:+.3f}  {percentile:5.1f}  {kind}")
    best, worst = rows[0], rows[-1]
    feedback.say(f"best {wt}{residue.resi}{best[0]} {best[1]:+.3f}, "
                 f"worst {wt}{residue.resi}{worst[0]} {worst[1]:+.3f}; {classes_line()}")
    return [(mt, value) for mt, value, _, _ in rows]


@user_command
def saprot_mutations(residue: str = "", *, _self=cmd):
    '''
DESCRIPTION

    "saprot_mutations" lists the 19 substitution scores of one scored residue, sorted from
    most tolerated to most damaging.

USAGE

    saprot_mutations residue

EXAMPLE

    saprot_mutations /1abc//A/42
    '''
    if count_atoms(residue, _self=_self) == 0:
        raise PluginError(f"selection '{residue}' is empty")
    picked = picked_residues(residue, _self=_self)
    if len(picked) != 1:
        raise PluginError(f"'{residue}' covers {len(picked)} residues; give exactly one")
    forget_deleted_objects(_self=_self)
    core()
    return show_mutations(picked[0])


@user_command
def saprot_restore(*, _self=cmd):
    '''
DESCRIPTION

    "saprot_restore" puts colours and b-factors back as they were before the first scan and
    removes saprot_score. Scores stay available to saprot_color, saprot_csv and saprot_heatmap.

USAGE

    saprot_restore
    '''
    if RUNNER.busy():
        raise PluginError("a scan is running; cancel it (saprot_cancel) before restoring")
    restored = painting.restore(_self=_self)
    if restored:
        feedback.say("restored colours and b-factors of " + ", ".join(restored))
    else:
        feedback.say("nothing to restore")
    return restored


def saprot_cancel(*, _self=cmd):
    '''
DESCRIPTION

    "saprot_cancel" stops a running saprot_scan. A masked SaProt scan keeps the residues it
    finished (coloured; the rest grey, selection saprot_unscanned; saprot_csv and saprot_heatmap
    mark the result partial) and the next saprot_scan computes only the rest; a scan stopped
    before any residue finished leaves the scene as it was.

USAGE

    saprot_cancel
    '''
    if RUNNER.cancel():
        feedback.say(f"cancelling {RUNNER.label} ...")
        return True
    feedback.say("no scan is running")
    return False

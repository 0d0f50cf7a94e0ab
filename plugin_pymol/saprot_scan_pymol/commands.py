"""The PyMOL commands: thin wrappers that check input, hand work to the runner and report."""
from __future__ import annotations

import functools
from pathlib import Path

import pymol
from pymol import cmd

from . import feedback, painting
from .atoms import ChainKey, PickedResidue, picked_residues, protein_chains, read_chain
from .core_link import PluginError, core, user_errors
from .jobs import RUNNER, gui_running
from .palettes import DEFAULT_PALETTE, PALETTES, check_palette
from .scanning import DEVICES, METHODS, Request, score
from .store import STORE, check_summary

HEATMAP_SUFFIXES = (".png", ".svg", ".pdf")


def user_command(function):
    """Turn user mistakes into PyMOL's own one-line error (no traceback, nothing changed)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (ValueError, *user_errors()) as err:
            raise pymol.CmdException(f"saprot_scan: {err}") from None

    return wrapper


def _flag(value, default: bool = False) -> bool:
    if value in (None, ""):
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def wants_background(value) -> bool:
    """The commands' background argument: -1/auto (default) means in the background only under PyMOL's GUI."""
    return gui_running() if str(value).strip() in ("-1", "auto", "") else _flag(value)


def _choice(value: str, allowed, what: str) -> str:
    value = (value or allowed[0]).strip()
    if value not in allowed:
        raise ValueError(f"unknown {what} '{value}'; use one of {', '.join(allowed)}")
    return value


def _forget_deleted_objects(*, _self=cmd) -> None:
    STORE.forget_objects_not_in(set(_self.get_names("objects")))


@user_command
def saprot_scan(selection: str = "(all)", model: str = "", method: str = "masked", summary: str = "mean",
                palette: str = DEFAULT_PALETTE, bfactor=0, device: str = "auto", background=-1,
                fitted: str = "", *, _self=cmd):
    '''
DESCRIPTION

    "saprot_scan" scores every amino-acid substitution of the protein chains a selection
    touches with SaProt, then colours residues by their predicted tolerance to mutation
    (diverging palette centred on 0; unscored protein residues grey). The per-residue number
    is kept as atom property saprot_score where PyMOL supports properties, and is always
    readable in iterate/alter as saprot_score(model, chain, resi). B-factors are kept unless
    bfactor=1. When the selection is a single residue, its 19 substitutions are listed.

    With PyMOL's GUI the scan runs in the background (saprot_cancel stops it); without a GUI
    (pymol -c, scripts) the command returns when the scan is done.

USAGE

    saprot_scan [ selection [, model [, method [, summary [, palette [, bfactor [, device ]]]]]]]

ARGUMENTS

    selection = str: atoms whose protein chains are scored {default: all}
    model = str: registry name (saprot-35m, saprot-650m), "default", or an .onnx path
            {default: $SAPROT_SCAN_MODEL, saved preference, best cached SaProt, burial-blosum}
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

EXAMPLES

    saprot_scan 1abc
    saprot_scan chain A, saprot-35m, wt, min
    saprot_scan /1abc//A/42, summary=P
    saprot_scan chain A, fitted=my_assay_fit.json

SEE ALSO

    saprot_color, saprot_mutations, saprot_heatmap, saprot_csv, saprot_restore, saprot_cancel
    '''
    method = _choice(method, METHODS, "method")
    device = _choice(device, DEVICES, "device")
    summary = check_summary(summary)
    palette = check_palette(palette)
    write_b = _flag(bfactor)
    _forget_deleted_objects(_self=_self)
    keys = protein_chains(selection, _self=_self)
    core()  # a missing core is reported before anything else happens
    chains = [(key, read_chain(key, _self=_self)) for key in keys]
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

    def finish(entries) -> None:
        with STORE.lock:
            for entry in entries:
                STORE.scores[entry.key] = entry
            _forget_deleted_objects(_self=_self)  # an object deleted while it was being scored
            if not any(entry.key in STORE.scores for entry in entries):
                raise PluginError("the scored object was deleted during the scan; nothing was coloured")
            values = painting.paint(summary, palette, write_b, _self=_self)
        models = sorted({entry.model_text for entry in entries})
        count = sum(1 for obj, chain, _ in values if ChainKey(obj, chain) in keys)
        feedback.say(f"coloured {count} residues of {', '.join(k.label for k in keys)} by "
                     f"{summary} score ({palette}, {_scale_text()}); scored by {'; '.join(models)}")
        for entry in entries:  # what the core read differently from the atoms (e.g. MSE as M), never silent
            for note in entry.result.notes:
                feedback.say(f"{entry.key.label}: {note}")
        if focus is not None:
            show_mutations(focus)

    use_background = wants_background(background)
    entries = RUNNER.run(label, lambda progress, cancel: score(request, progress, cancel), finish,
                         background=use_background)
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
    write_b = _flag(bfactor, STORE.bfactor)
    _not_while_scanning()
    _forget_deleted_objects(_self=_self)
    if not STORE.scores:
        raise PluginError("nothing scored yet; run saprot_scan first")
    values = painting.paint(summary, palette, write_b, _self=_self)
    feedback.say(f"recoloured {len(values)} residues by {summary} score ({palette}, {_scale_text()})")


def _scale_text() -> str:
    """The colour scale just painted, as the key object saprot_key shows it."""
    scale = STORE.scale
    return "0 = white" if scale is None else f"{scale.describe()}; key: {painting.KEY_NAME}"


def _output_path(filename: str, suffixes=None, *, _self=cmd) -> Path:
    if not filename or not str(filename).strip():
        raise PluginError("no file name given")
    path = Path(_self.exp_path(str(filename).strip())).expanduser()
    if suffixes and path.suffix.lower() not in suffixes:
        raise PluginError(f"{path.name}: use one of {', '.join(suffixes)}")
    if not path.parent.is_dir():
        raise PluginError(f"folder {path.parent} does not exist")
    return path


def _not_while_scanning() -> None:
    if RUNNER.busy():
        raise PluginError(f"{RUNNER.label} is still running; try again when it has finished "
                          "(or stop it with saprot_cancel)")


def _scored_results(*, _self=cmd) -> list:
    _not_while_scanning()
    _forget_deleted_objects(_self=_self)
    if not STORE.scores:
        raise PluginError("nothing scored yet; run saprot_scan first")
    return STORE.results()


@user_command
def saprot_heatmap(filename: str = "", *, _self=cmd):
    '''
DESCRIPTION

    "saprot_heatmap" saves a heatmap of all 19 substitutions per position of every scored
    chain (PNG, SVG or PDF by suffix).

USAGE

    saprot_heatmap filename
    '''
    path = _output_path(filename, HEATMAP_SUFFIXES, _self=_self)
    results = _scored_results(_self=_self)
    core()
    from saprot_scan import save_heatmap

    save_heatmap(results, path)
    feedback.say(f"heatmap written to {path}")
    return str(path)


@user_command
def saprot_csv(filename: str = "", *, _self=cmd):
    '''
DESCRIPTION

    "saprot_csv" writes every substitution score of every scored chain to a CSV file
    (columns chain,position,residue,wt,mt,mutant,score; the same as the command line's).
    When chains of more than one object are scored, a last column "object" names each
    row's object (two objects may both have a chain A).

USAGE

    saprot_csv filename
    '''
    path = _output_path(filename, _self=_self)
    _scored_results(_self=_self)
    keys = list(STORE.scores)
    results = [STORE.scores[key].result for key in keys]
    objects = [key.obj for key in keys]
    core()
    from saprot_scan import write_csv

    write_csv(results, path, labels={"object": objects} if len(set(objects)) > 1 else None)
    feedback.say(f"{len(results)} chain(s) of {len(set(objects))} object(s) written to {path}")
    return str(path)


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
    wt = entry.result.wt[index]
    subs = entry.result.substitutions(index)
    feedback.say(f"{residue.label} ({wt}): 19 substitutions, most tolerated first "
                 f"(score = log P(mt)/P(wt), {entry.method}):")
    for mt, value in subs:
        print(f"   {wt}{residue.resi}{mt}  {value:+.3f}")
    best, worst = subs[0], subs[-1]
    feedback.say(f"best {wt}{residue.resi}{best[0]} {best[1]:+.3f}, "
                 f"worst {wt}{residue.resi}{worst[0]} {worst[1]:+.3f}")
    return subs


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
    from .atoms import count_atoms

    if count_atoms(residue, _self=_self) == 0:
        raise PluginError(f"selection '{residue}' is empty")
    picked = picked_residues(residue, _self=_self)
    if len(picked) != 1:
        raise PluginError(f"'{residue}' covers {len(picked)} residues; give exactly one")
    _forget_deleted_objects(_self=_self)
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

    "saprot_cancel" stops a running saprot_scan; the scene stays as it was.

USAGE

    saprot_cancel
    '''
    if RUNNER.cancel():
        feedback.say(f"cancelling {RUNNER.label} ...")
        return True
    feedback.say("no scan is running")
    return False


@user_command
def saprot_dialog(*, _self=cmd):
    '''
DESCRIPTION

    "saprot_dialog" opens the saprot-scan window (needs PyMOL's Qt GUI; PyPI's
    pymol-open-source needs PyQt5 installed beside it).

USAGE

    saprot_dialog
    '''
    from .dialog import open_dialog

    open_dialog()


@user_command
def saprot_suggest(avoid: str = "", radius: float = 5.0, top: int = 10, per_position: int = 1, allow: str = "",
                   label=1, *, _self=cmd):
    '''
DESCRIPTION

    "saprot_suggest" lists the best single substitutions of the scored chains (score > 0:
    predicted better than the wild type; by a fitted model when saprot_scan used fitted=),
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
    from .suggesting import suggest

    try:
        radius, top, per_position = float(radius), int(top), int(per_position)
    except (TypeError, ValueError):
        raise PluginError("radius must be a number, top and per_position whole numbers") from None
    _not_while_scanning()
    _forget_deleted_objects(_self=_self)
    return suggest(str(avoid or ""), radius, top, per_position, str(allow or ""), _flag(label, True), _self=_self)


@user_command
def saprot_design(selection: str = "(all)", model: str = "", palette: str = DEFAULT_PALETTE, device: str = "auto",
                  background=-1, *, _self=cmd):
    '''
DESCRIPTION

    "saprot_design" reads the protein chains a selection touches as SaProt's inverse folding
    does (every amino acid hidden, the structure's 3Di letters kept) and colours each residue
    by how well its native amino acid fits the structure: log(20 P(native)), white = a uniform
    guess (1 in 20), blue = the structure favours the native residue, red = it disfavours it.
    P(native) is kept per residue, readable in iterate/alter as saprot_native(model, chain, resi).
    The log gives each chain's native sequence recovery and its most likely sequence.

    It needs a language model: the structure scorer (burial-blosum) cannot propose a sequence.
    A SaProt model (saprot-35m, saprot-650m) gives far better designs than the embedded default.
    With PyMOL's GUI it runs in the background (saprot_cancel stops it); without a GUI it waits.

USAGE

    saprot_design [ selection [, model [, palette [, device ]]]]

ARGUMENTS

    selection = str: atoms whose protein chains are designed {default: all}
    model = str: registry name (saprot-35m, saprot-650m), "default", or an .onnx path
            {default: as for saprot_scan}
    palette = see saprot_scan {default: red_white_blue}
    device = auto | cpu | cuda {default: auto}
    background = -1 | 0 | 1: as for saprot_scan {default: -1}

EXAMPLES

    saprot_design 1abc
    saprot_design chain A, saprot-650m

SEE ALSO

    saprot_scan, saprot_restore
    '''
    from . import designing

    palette = check_palette(palette)
    device = _choice(device, DEVICES, "device")
    _forget_deleted_objects(_self=_self)
    keys = protein_chains(selection, _self=_self)
    core()
    chains = [(key, read_chain(key, _self=_self)) for key in keys]
    spec = (model or "").strip()
    label = "design of " + ", ".join(key.label for key in keys)

    def finish(outcome) -> None:
        loaded, results = outcome
        _forget_deleted_objects(_self=_self)
        live = [(key, result) for key, result in results if key.obj in _self.get_names("objects")]
        if not live:
            raise PluginError("the designed object was deleted meanwhile; nothing was coloured")
        designing.paint_design(loaded, live, palette, _self=_self)

    use_background = wants_background(background)
    outcome = RUNNER.run(label, lambda progress, cancel: designing.design(chains, spec, device, progress, cancel),
                         finish, background=use_background)
    if outcome is None:
        return None
    return {key.label: result for key, result in outcome[1]}


def _model_names() -> list[str]:
    names = ["default"]
    try:
        from saprot_scan import registry

        names += list(registry())
    except Exception:
        pass
    return names


from .batch_load import saprot_load  # noqa: E402 - uses user_command above
from .core_offer import saprot_install_core  # noqa: E402 - uses user_command above

COMMANDS = {
    "saprot_scan": saprot_scan,
    "saprot_suggest": saprot_suggest,
    "saprot_design": saprot_design,
    "saprot_color": saprot_color,
    "saprot_heatmap": saprot_heatmap,
    "saprot_csv": saprot_csv,
    "saprot_mutations": saprot_mutations,
    "saprot_restore": saprot_restore,
    "saprot_cancel": saprot_cancel,
    "saprot_dialog": saprot_dialog,
    "saprot_load": saprot_load,
    "saprot_install_core": saprot_install_core,
}


def register() -> None:
    """Add the commands with argument completion (idempotent: re-registering replaces)."""
    from pymol.shortcut import Shortcut

    for name, function in COMMANDS.items():
        cmd.extend(name, function)
    selection = cmd.auto_arg[0]["zoom"]
    summaries = [lambda: Shortcut(["mean", "min", "max", *"ACDEFGHIKLMNPQRSTVWY"]), "summary", ", "]
    palettes = [lambda: Shortcut(list(PALETTES)), "palette", ", "]
    table = {
        "saprot_scan": [selection, [lambda: Shortcut(_model_names()), "model", ", "],
                        [lambda: Shortcut(list(METHODS)), "method", ", "], summaries, palettes],
        "saprot_color": [summaries, palettes],
        "saprot_mutations": [selection],
        "saprot_suggest": [selection],
        "saprot_design": [selection, [lambda: Shortcut(_model_names()), "model", ", "], palettes],
    }
    for name, columns in table.items():
        for i, spec in enumerate(columns):
            while len(cmd.auto_arg) <= i:
                cmd.auto_arg.append({})
            cmd.auto_arg[i][name] = spec

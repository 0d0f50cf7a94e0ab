"""``saprot_design``: SaProt's inverse-folding reading of the picked chains (every amino acid hidden, 3Di kept),
run by the core (``saprot_scan.design_chain``); residues are coloured by how well their native amino acid fits
the structure and P(native) is kept, readable as ``saprot_native(model, chain, resi)``."""
from __future__ import annotations

import math

from pymol import cmd

from . import feedback
from .arguments import choice, user_command, wants_background
from .atoms import protein_chains, read_chain
from .core_link import PluginError, core
from .guards import forget_deleted_objects
from .jobs import RUNNER
from .palettes import DEFAULT_PALETTE, check_palette
from .painting import colour_residues, snapshot
from .scanning import DEVICES, load_model
from .store import STORE


def design(chains: list, model_spec: str, device: str, progress, cancel) -> tuple[object, list]:
    """(model, [(key, DesignResult)]) for every chain; the core refuses a model that cannot design."""
    core()
    from saprot_scan import ScanCancelled, chain_tokens, check_designs, design_chain

    progress(f"loading model {model_spec or '(default)'}", 0.0)
    model = load_model(model_spec, device)
    check_designs(model)  # the structure scorer: one clear line, before anything else happens
    model.check()
    out = []
    for number, (key, chain) in enumerate(chains):
        if cancel.is_set():
            raise ScanCancelled("cancelled")
        progress(f"designing {key.label} ({len(chain)} residues)", number / max(len(chains), 1))
        out.append((key, design_chain(chain, model, chain_tokens(chain))))
    progress("designed " + ", ".join(k.label for k, _ in chains), 1.0)
    return model, out


def paint_design(model, results: list, palette: str, *, _self=cmd) -> dict[tuple[str, str, str], float]:
    """Colour the designed chains by log(20 P(native)) (the core's rule), keep P(native), log the outcome."""
    from saprot_scan.viewers import design_note, native_fit

    with STORE.lock:
        fits, natives = {}, {}
        for key, result in results:
            p_native = result.p_native
            for rid, p, fit in zip(result.residue_ids, p_native, native_fit(p_native)):
                if math.isfinite(p):
                    natives[(key.obj, key.chain, rid.label)] = float(p)
                    fits[(key.obj, key.chain, rid.label)] = float(fit)
        objects = sorted({key.obj for key, _ in results})
        snapshot(objects, _self=_self)
        for key, _ in results:  # a new design of a chain replaces its old numbers
            STORE.native = {k: v for k, v in STORE.native.items() if (k[0], k[1]) != (key.obj, key.chain)}
        STORE.native.update(natives)
        colour_residues(objects, fits, palette, _self=_self)
    describe = model.describe() if hasattr(model, "describe") else str(getattr(model, "name", model))
    feedback.say(f"coloured {len(fits)} residues by how well their native amino acid fits the structure "
                 f"(log(20 P(native)), {palette}: 0 = white = a uniform guess); designed by {describe}")
    for key, result in results:
        feedback.say(f"{key.label}: native sequence recovery {100 * result.recovery:.1f}% "
                     f"({len(result.wt)} residues); most likely sequence:")
        print(f"   {result.designed}")
    feedback.say(design_note(model))
    feedback.say("P(native) per residue: iterate name CA, print(resi, saprot_native(model, chain, resi))")
    return natives


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

    It needs a language model: the structure scorers (structure-blend, the offline default, and
    burial-blosum, learned-structure) cannot propose a sequence.
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
    palette = check_palette(palette)
    device = choice(device, DEVICES, "device")
    forget_deleted_objects(_self=_self)
    keys = protein_chains(selection, _self=_self)
    core()
    chains = [(key, read_chain(key, _self=_self)) for key in keys]
    spec = (model or "").strip()
    label = "design of " + ", ".join(key.label for key in keys)

    def finish(outcome) -> None:
        loaded, results = outcome
        forget_deleted_objects(_self=_self)
        live = [(key, result) for key, result in results if key.obj in _self.get_names("objects")]
        if not live:
            raise PluginError("the designed object was deleted meanwhile; nothing was coloured")
        paint_design(loaded, live, palette, _self=_self)

    use_background = wants_background(background)
    outcome = RUNNER.run(label, lambda progress, cancel: design(chains, spec, device, progress, cancel),
                         finish, background=use_background)
    if outcome is None:
        return None
    return {key.label: result for key, result in outcome[1]}

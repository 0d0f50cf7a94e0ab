"""``saprot_design``: SaProt's inverse-folding reading of the picked chains (every amino acid hidden, 3Di kept),
run by the core (``saprot_scan.design_chain``); residues are coloured by how well their native amino acid fits
the structure and P(native) is kept, readable as ``saprot_native(model, chain, resi)``."""
from __future__ import annotations

import math

from pymol import cmd

from . import feedback
from .core_link import core
from .painting import colour_residues, snapshot
from .scanning import load_model
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

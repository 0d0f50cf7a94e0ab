"""The commands that write the scores to files: saprot_heatmap (PNG, SVG, PDF) and saprot_csv."""
from __future__ import annotations

from pymol import cmd

from . import feedback
from .arguments import output_path, user_command
from .core_link import core
from .guards import scored_results
from .store import STORE

#: The heatmap formats (the core's outputs.suffixes.HEATMAP_SUFFIXES; a test keeps the two equal).
HEATMAP_SUFFIXES = (".png", ".svg", ".pdf")


@user_command
def saprot_heatmap(filename: str = "", *, _self=cmd):
    '''
DESCRIPTION

    "saprot_heatmap" saves a heatmap of all 19 substitutions per position of every scored
    chain (PNG, SVG or PDF by suffix).

USAGE

    saprot_heatmap filename
    '''
    path = output_path(filename, HEATMAP_SUFFIXES, _self=_self)
    results = scored_results(_self=_self)
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
    path = output_path(filename, _self=_self)
    scored_results(_self=_self)
    keys = list(STORE.scores)
    results = [STORE.scores[key].result for key in keys]
    objects = [key.obj for key in keys]
    core()
    from saprot_scan import write_csv

    write_csv(results, path, labels={"object": objects} if len(set(objects)) > 1 else None)
    feedback.say(f"{len(results)} chain(s) of {len(set(objects))} object(s) written to {path}")
    return str(path)

"""What every ``saprot`` command checks before anything in the session changes (one ``UserError`` line each).

Each command lives in its own module (scan, load, color, mutations, heatmap, suggest, models, stop), as RBVI's bundles do;
``__init__`` registers each one from its module when ChimeraX first needs it.
"""
from __future__ import annotations

from pathlib import Path

from chimerax.core.errors import UserError
from saprot_scan import viewers
from saprot_scan.viewers import DEVICES, METHODS, MODEL_POOL  # noqa: F401 (for the commands)

HELP = "help:user/commands/saprot.html"
HEATMAP_SUFFIXES = tuple(viewers.HEATMAP_SUFFIXES)


def residues_arg():
    from chimerax.atomic import ResiduesArg
    return ResiduesArg


def check_summary(summary: str) -> str:
    from saprot_scan import InputError
    from saprot_scan import check_summary
    try:
        return check_summary(summary)
    except InputError as err:
        raise UserError(f"saprot: {err}") from None


def check_output(path: str | None, suffixes: tuple[str, ...] | None = None, what: str = "the file") -> str | None:
    """Fail before any work if ``path`` has the wrong suffix or cannot be written."""
    if path is None:
        return None
    from saprot_scan import check_writable
    from saprot_scan import InputError
    expanded = Path(path).expanduser()
    if suffixes and expanded.suffix.lower() not in suffixes:
        raise UserError(f"saprot: {path}: {what} must end in {', '.join(suffixes)}")
    try:
        check_writable(expanded)
    except InputError as err:
        raise UserError(f"saprot: {err}") from None
    return str(expanded)


def model_label(model: str | None) -> str:
    """What will score (fast: no hashing, no ONNX session), as the core says it; a clear error if a named
    model cannot load. The default is never an error: a saved preference that cannot load is named in the
    label and the scan uses the default instead."""
    from saprot_scan import InputError
    from saprot_scan.viewers import model_label as core_label
    try:
        return core_label(model)
    except InputError as err:
        raise UserError(f"saprot: {err}") from None


def core_chains(targets, partners: bool = True) -> list:
    """The core's Chain of each target, marked with its interface with the structure's other protein chains,
    which the structure scorers count in burial with ``partners`` (SaProt reads one chain)."""
    from saprot_scan import InputError
    from saprot_scan.viewers import with_partners
    from .targets import core_chain, partner_targets
    chains = []
    for target in targets:
        try:
            chain = core_chain(target)
        except InputError as err:
            raise UserError(f"saprot: {target.label}: {err}") from None
        others = []
        for other in partner_targets(target):
            try:
                others.append(core_chain(other))
            except InputError:  # a partner the core cannot read gives no context
                continue
        chains.append(with_partners(chain, others, partners) if others else chain)
    return chains

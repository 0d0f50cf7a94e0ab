"""``saprot load``: colour open structures from a ``saprot-scan batch`` output folder, without scoring again.

The chains are stored as if ``saprot scan`` had just scored them (same attribute, palette, key, log and
session store), so ``saprot color|mutations|heatmap|suggest`` work on them afterwards.
"""
from __future__ import annotations

from pathlib import Path

from chimerax.core.commands import BoolArg, CmdDesc, ColormapArg, EnumOf, OpenFolderNameArg, StringArg
from chimerax.core.errors import UserError

from . import args, coloring


def _read_batch(folder: str, structure_id: str, model: str | None, method: str | None) -> tuple[Path, dict]:
    """chain id -> ``ScanResult`` of ``structure_id`` in the batch folder; one ``UserError`` line otherwise."""
    from saprot_scan import InputError
    from saprot_scan import load_results
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise UserError(f"saprot load: {folder}: no such folder")
    try:
        results = load_results(path, structure_id, model=model, method=method)
    except InputError as err:
        raise UserError(f"saprot load: {err}") from None
    return path, {r.chain_id: r for r in results}


def _all_residues(session):
    from chimerax.atomic import AtomicStructure, concatenate
    structures = [m for m in session.models if isinstance(m, AtomicStructure)]
    if not structures:
        raise UserError("saprot load: no structure is open; open the structure that was scored first")
    return concatenate([s.residues for s in structures])


def saprot_load(session, folder: str, structure_id: str, residues=None, summary: str = "mean", palette=None,
                key: bool = True, model: str | None = None, method: str | None = None):
    """Colour the protein chains in ``residues`` (every open structure when omitted) with the scores that
    ``saprot-scan batch`` wrote for ``structure_id`` in ``folder``; chains are matched by chain id and must
    have the residues (author numbers, insertion codes, amino acids) that were scored."""
    from .store import StoredScan, remember
    from .targets import chain_targets
    kind = args.check_summary(summary)
    structure_id = structure_id.strip()
    if not structure_id:
        raise UserError("saprot load: give the structure id (the file name without .pdb/.cif/.gz)")
    path, results = _read_batch(folder, structure_id, model, method)
    targets = [t for t in chain_targets(_all_residues(session) if residues is None else residues)
               if t.chain_id in results]
    if not targets:
        raise UserError(f"saprot load: no protein chain in the spec has a chain id scored in {structure_id} "
                        f"({', '.join(sorted(results))})")
    chains = args.core_chains(targets)
    for target, chain in zip(targets, chains):
        result = results[target.chain_id]
        if [r.label for r in chain.residue_ids] != [r.label for r in result.residue_ids] or chain.sequence != result.wt:
            raise UserError(f"saprot load: {target.label} is not the chain {target.chain_id} that was scored as "
                            f"{structure_id} ({len(chain.sequence)} vs {len(result.wt)} residues, or other residues); "
                            "nothing was coloured")
    scans = []
    for target in targets:
        result = results[target.chain_id]
        line = f"model {result.model_name}, sha256 {result.model_sha256[:12]}, read from the batch output {path}"
        scans.append(StoredScan(target, result, line))
    for scan in scans:
        remember(session, scan)
    coloring.color_and_log(session, scans, kind, palette, key, None, None, register_sets=True)
    if any(scan.result.known for scan in scans):  # the batch was given known variants: shown as saprot known does
        from .known import show_known
        show_known(session, [scan for scan in scans if scan.result.known])


class _BatchFolderArg(OpenFolderNameArg):
    """A folder to read (``browse`` works with a GUI); a missing one is reported by ``saprot load`` itself."""
    check_existence = False


load_desc = CmdDesc(
    required=[("folder", _BatchFolderArg), ("structure_id", StringArg)],
    optional=[("residues", args.residues_arg())],
    keyword=[("summary", StringArg), ("palette", ColormapArg), ("key", BoolArg), ("model", StringArg),
             ("method", EnumOf(args.METHODS))],
    synopsis="colour residues from a saprot-scan batch output folder without rescoring",
    url=args.HELP + "#load")

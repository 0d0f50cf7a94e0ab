"""``saprot_load``: colour a loaded structure from a ``saprot-scan batch`` output folder, without scoring again."""
from __future__ import annotations

from pathlib import Path

from pymol import cmd

from . import feedback, painting
from .atoms import protein_chains, read_chain
from .arguments import user_command
from .core_link import PluginError, core
from .jobs import RUNNER
from .palettes import DEFAULT_PALETTE, check_palette
from .scanning import fingerprint
from .store import STORE, ChainScore, check_summary


@user_command
def saprot_load(folder: str = "", structure: str = "", selection: str = "(all)", summary: str = "mean",
                palette: str = DEFAULT_PALETTE, bfactor=0, model: str = "", method: str = "", *, _self=cmd):
    '''
DESCRIPTION

    "saprot_load" reads the scores of one structure from a "saprot-scan batch" output folder and
    colours the matching chains of the selection with them, as saprot_scan would have, without
    scoring again. Chains are matched by chain id, and their residues (author numbers, insertion
    codes, amino acids) must be the ones that were scored.

USAGE

    saprot_load folder, structure [, selection [, summary [, palette [, bfactor [, model [, method ]]]]]]

ARGUMENTS

    folder = str: the batch output folder (holds scores/, residues/, manifest.parquet)
    structure = str: the structure id (file name without .pdb/.cif/.gz, e.g. AF-P69905-F1-model_v4)
    selection = str: the loaded structure {default: all}
    summary, palette, bfactor = as for saprot_scan
    model, method = which result, when the folder holds the structure scored more than once

EXAMPLES

    load AF-P69905-F1-model_v4.cif.gz
    saprot_load human_scores, AF-P69905-F1-model_v4

SEE ALSO

    saprot_scan, saprot_color, saprot_mutations, saprot_restore
    '''
    if not str(folder).strip() or not str(structure).strip():
        raise PluginError("give the batch output folder and the structure id")
    summary = check_summary(summary)
    palette = check_palette(palette)
    write_b = str(bfactor).strip().lower() in ("1", "true", "yes", "on")
    if RUNNER.busy():
        raise PluginError(f"{RUNNER.label} is still running; try again when it has finished")
    STORE.forget_objects_not_in(set(_self.get_names("objects")))
    keys = protein_chains(selection, _self=_self)
    core()
    from saprot_scan import load_results

    path = Path(_self.exp_path(str(folder).strip())).expanduser()
    results = {r.chain_id: r for r in load_results(path, str(structure).strip(), model=model.strip() or None,
                                                   method=method.strip() or None)}
    entries = []
    for key in keys:
        result = results.get(key.chain)
        if result is None:
            continue
        chain = read_chain(key, _self=_self)
        if [r.label for r in chain.residue_ids] != [r.label for r in result.residue_ids] \
                or chain.sequence != result.wt:
            raise PluginError(f"{key.label} is not the chain {key.chain} that was scored as {structure} "
                              f"({len(chain)} vs {len(result)} residues, or other residues); nothing was coloured")
        text = f"{result.model_name} ({result.method}-marginal, from {path})"
        entries.append(ChainScore(key, result, fingerprint(chain), result.model_sha256, text, result.method))
    if not entries:
        raise PluginError(f"none of the chains of '{selection}' ({', '.join(k.chain or '-' for k in keys)}) "
                          f"was scored in {structure} ({', '.join(results)})")
    with STORE.lock:
        for entry in entries:
            STORE.scores[entry.key] = entry
        values = painting.paint(summary, palette, write_b, _self=_self)
    count = sum(1 for obj, chain, _ in values if any(e.key.obj == obj and e.key.chain == chain for e in entries))
    feedback.say(f"coloured {count} residues of {', '.join(e.key.label for e in entries)} by {summary} score "
                 f"({palette}, {STORE.scale.describe()}, in {entries[0].result.meaning.unit}) from {structure} in {path}; "
                 f"scored by {entries[0].model_text}")
    if any(entry.result.known for entry in entries):  # the batch was given known variants: show them as saprot_known does
        from .known_commands import show_known

        show_known(entries, _self=_self)
    return {entry.key.label: entry.result for entry in entries}

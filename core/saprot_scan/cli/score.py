"""``saprot-scan score``: listed (multi-)mutants scored, one masked pass per variant."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from saprot_scan.cli import known as known_variants
from saprot_scan.cli.common import EXIT_OK, note, only_chain, read_chains
from saprot_scan.errors import InputError


def _read_variants(args) -> list[str]:
    if args.mutations is not None:
        # Variants are separated by spaces or commas ("K48R,K63R" is two singles, as in most command lines),
        # except inside brackets: "p.[R175H;G245S]" is one variant; the sites of one are joined by ":".
        text = args.mutations
        if text.count("[") != text.count("]") or text.count("(") != text.count(")"):
            return text.replace(",", " ").split()  # the notation reports the unbalanced bracket
        return re.findall(r"(?:\[[^\]]*\]|\([^)]*\)|[^\s,\[(])+", text)
    path = Path(args.mutations_file)
    if not path.is_file():
        raise InputError(f"{path}: no such mutations file")
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if lines and "mutant" in lines[0].split(","):
        column = lines[0].split(",").index("mutant")
        lines = [line.split(",")[column] for line in lines[1:]]
    return lines


def run(args) -> int:
    from saprot_scan.backends.base import load_scorer
    from saprot_scan.scoring.meaning import meaning_of
    from saprot_scan.conventions.numbering import chain_numbering, resolve_variants
    from saprot_scan.conventions.reference import read_reference
    from saprot_scan.encoding.plddt import chain_tokens
    from saprot_scan.encoding.tokens import MAX_RESIDUES
    from saprot_scan.outputs.files import check_writable, write_text_atomic
    from saprot_scan.pipeline import score_resolved

    if args.out:
        check_writable(args.out)
    variants = _read_variants(args)
    if not variants:
        raise InputError("no mutations given")
    chains = [only_chain(read_chains(args))]
    reference = read_reference(args.reference) if args.reference else None
    numbering = chain_numbering(chains[0], args.numbering, reference)
    resolved = resolve_variants(variants, numbering)  # every mutation is checked before any model work
    if numbering.alignment is not None:
        note(args, numbering.alignment.describe())
    known = known_variants.load(args)
    model = load_scorer(args.model, device=args.device, precision=args.precision)
    model.check()
    note(args, f"scoring with {model.describe()}")
    chain = chains[0]
    tokens = chain_tokens(chain, args.plddt_mask, args.plddt_threshold, args.threedi)
    meaning = meaning_of(model)
    how = ("multi-mutants scored as the sum of their single substitutions" if getattr(model, "kind", "") == "structure"
           else "masked marginal, all sites of a variant in one pass")
    notes = [f"chain {chain.chain_id}: {len(chain)} residues, {how}",
             f"pLDDT masking applied to {tokens.masked_count} residues" if tokens.plddt_masked
             else "no pLDDT masking"]
    if len(chain) > MAX_RESIDUES:
        notes.append(f"each variant scored in a {MAX_RESIDUES}-residue window: the scan's window for its sites, "
                     "or one holding them all")
    notes.append(f"residues in {numbering.kind} numbering")
    notes.append(meaning.describe())
    sizes = [len(v.sites) for v in resolved]
    if any(n > 1 for n in sizes):
        notes.append(f"a multi-site score is {meaning.multi_site}")
    synonymous = sum(v.synonymous for v in resolved)
    if synonymous:
        notes.append(f"{synonymous} synonymous site{'s' if synonymous != 1 else ''} left unmasked "
                     f"({'they add' if synonymous != 1 else 'it adds'} 0); a synonymous site: {meaning.synonymous}")
    note(args, "; ".join(notes))
    if not meaning.sums_are_gains and len({n for n in sizes if n}) > 1:
        counts = " and ".join(str(n) for n in sorted({n for n in sizes if n}))
        print(f"saprot-scan: note: these variants have {counts} sites; a multi-site score here is a sum over its sites "
              f"({meaning.unit}) that grows with their number: compare variants with the same number of sites only "
              "(no sum is a predicted gain over the wild type)", file=sys.stderr)
    scores = score_resolved(chain, resolved, model, tokens=tokens, batch_size=args.batch_size)
    tail, extra = "", [()] * len(resolved)
    if known is not None:  # the known variants among the listed singles, and their agreement over them
        listed = known_variants.listed_result(chain, resolved, scores, model)
        tail, extra = known_variants.score_columns(known_variants.place(args, known, [chain], [listed])[0], resolved)
    # a variant of synonymous sites only is the wild type: its score where the scale has one, else none
    cells = [meaning.synonymous_text() if not v.sites else f"{s:.6f}" for v, s in zip(resolved, scores)]
    text = f"mutant,score{tail}\n" + "".join(f"{','.join(map(str, (v.text, cell, *c)))}\n"
                                            for v, cell, c in zip(resolved, cells, extra))
    if args.out:
        write_text_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK

"""``saprot-scan tokens``: the 3Di string and SaProt's structure-aware sequence of each chain, as TSV."""
from __future__ import annotations

from saprot_scan.cli.common import EXIT_OK, note, read_chains


def run(args) -> int:
    from saprot_scan.encoding.plddt import chain_tokens

    # The first four columns are DESIGN.md's contract; "residues" (author number + insertion code of each
    # residue, comma-separated, in sequence order) is appended so positions can be read back as viewers show them.
    rows = ["chain\taa\t3di\tcombined\tresidues"]
    for chain in read_chains(args):
        tokens = chain_tokens(chain, args.plddt_mask, args.plddt_threshold, args.threedi)
        if tokens.plddt_masked:
            note(args, f"# chain {chain.chain_id}: pLDDT masking applied, {tokens.masked_count} of "
                        f"{len(chain)} residues below {args.plddt_threshold:g} set to #")
        # 3Di in lower case, as SaProt's tokens and the JSON's structure_3di write it ('#' where pLDDT masked)
        rows.append(f"{chain.chain_id}\t{tokens.aa}\t{tokens.struct}\t{tokens.combined}\t"
                    f"{','.join(r.label for r in chain.residue_ids)}")
    print("\n".join(rows))
    return EXIT_OK

"""``saprot-scan suggest``: the best single substitutions under filters, and separated combinations, as a table."""
from __future__ import annotations

import sys

from saprot_scan.cli import known as known_variants
from saprot_scan.cli.common import EXIT_OK, check_report, note, only_chain, read_chains, write_report_of
from saprot_scan.cli.fit import apply_for_scan, check_fitted_for_scan, fitted_for_scan
from saprot_scan.errors import InputError


def joint_rule(model, method: str, fitted: bool) -> str:
    """How combinations are scored together, in words, for the table's heading."""
    kind = getattr(model, "kind", "")
    if method == "masked" and kind == "language-model":
        rule = " (all sites masked in one pass: SaProt's multi-site rule"
    elif kind == "structure":
        rule = f" ({model.name}: the sum of the single substitutions"
    elif method == "masked":
        rule = f" ({model.name}: each part's own multi-mutant rule"
    else:
        rule = " (wild-type marginal: the sum of the sites' scores"
    return rule + (", then the fitted model)" if fitted else ")")


def report_rows(singles, combos) -> list[dict]:
    """The suggestions as the report lists them: author notation, and the row a click selects (the first site's)."""
    rows = [{"kind": "single", "rank": n, "chain": s.chain, "mutant": s.author, "index": int(s.index),
             "score": float(s.score)} for n, s in enumerate(singles, 1)]
    rows += [{"kind": "combination", "rank": n, "chain": c.parts[0].chain, "index": int(c.parts[0].index),
              "mutant": ":".join(s.author for s in c.parts), "score": float(c.score)} for n, c in enumerate(combos, 1)]
    return rows


def run(args) -> int:
    from saprot_scan.backends.base import load_scorer
    from saprot_scan.design.suggest import (check_allow, heading, near_residues, parse_residue_set,
                                            propose_combinations, suggest_singles, suggestions_csv,
                                            suggestions_table, unmeasured_note)
    from saprot_scan.pipeline import check_method
    from saprot_scan.encoding.plddt import chain_tokens
    from saprot_scan.encoding.structure import read_structure
    from saprot_scan.encoding.tokens import AMINO_ACIDS
    from saprot_scan.outputs.files import check_writable, write_text_atomic
    from saprot_scan.pipeline import scan_chain, score_mutations
    from saprot_scan.scoring.variants import parse_variant

    if args.csv:
        check_writable(args.csv)
    check_report(args)
    check_allow(args.allow)
    if args.top < 1 or args.per_position < 1:
        raise InputError("--top and --per-position must be at least 1")
    fitted = fitted_for_scan(args)
    chains = read_chains(args)
    if fitted is not None:
        only_chain(chains, "--fitted")
    everything = read_structure(args.structure, model=args.model_number) if args.avoid else chains
    avoid = parse_residue_set(args.avoid, everything) if args.avoid else set()
    known = known_variants.load(args)
    model = load_scorer(args.model, device=args.device, precision=args.precision)
    model.check()
    check_method(model, args.method)
    check_fitted_for_scan(args, fitted, chains, model)
    note(args, f"scoring with {model.describe()}")
    results, zero_shot, tokens, excluded = {}, {}, {}, {}
    for chain in chains:
        result = scan_chain(chain, model, method=args.method, plddt_mask=args.plddt_mask,
                            plddt_threshold=args.plddt_threshold, batch_size=args.batch_size,
                            use_cache=not args.no_cache, backend=args.threedi)
        zero_shot[chain.chain_id] = result.scores
        results[chain.chain_id] = apply_for_scan(args, fitted, result)
        tokens[chain.chain_id] = chain_tokens(chain, args.plddt_mask, args.plddt_threshold, args.threedi)
        excluded[chain.chain_id] = near_residues(chain, avoid, everything, args.avoid_radius)
        note(args, results[chain.chain_id].describe())
    placed = known_variants.place(args, known, chains, [results[c.chain_id] for c in chains])
    results = {r.chain_id: r for r in placed}
    if avoid:
        count = int(sum(m.sum() for m in excluded.values()))
        note(args, f"avoiding {count} residues: {args.avoid} and those within {args.avoid_radius:g} Å of it")
    singles = suggest_singles(list(results.values()), excluded, top=args.top, per_position=args.per_position,
                              allow=args.allow, min_score=args.min_score)
    by_id = {c.chain_id: c for c in chains}

    def joint(chain_id: str, mutants: list[str]) -> list[float]:
        chain = by_id[chain_id]
        if args.method == "masked":
            zs = score_mutations(chain, mutants, model, batch_size=args.batch_size, tokens=tokens[chain_id])
        else:  # the wild-type marginal of a multi-mutant is the sum of its sites' scores
            zs = [sum(zero_shot[chain_id][s.index, AMINO_ACIDS.index(s.mt)]
                      for s in parse_variant(m, chain.sequence)) for m in mutants]
        if fitted is None:
            return list(zs)
        return list(fitted.predict_variants([parse_variant(m, chain.sequence) for m in mutants], zs))

    meaning = next(iter(results.values())).meaning
    combos = propose_combinations(singles, by_id, joint, count=args.combinations, max_size=args.combination_size,
                                  min_separation=args.min_separation, by_site=not meaning.sums_are_gains)
    rule = (f", CA-CA > {args.min_separation:g} Å, scored together as multi-mutants"
            f"{joint_rule(model, args.method, fitted is not None)}")
    banned = "".join(c for c in "PGC" if c not in args.allow.upper())
    sys.stdout.write(f"# {heading(meaning, len(singles), args.min_score)}"
                     f"{f', none to {banned}' if banned else ''}, at most {args.per_position} per residue"
                     "; residues in author numbering"
                     f"{' (--csv: mutant_author; its mutant column is in chain-index numbering)' if args.csv else ''}\n")
    site_note = unmeasured_note(singles)
    if site_note:
        sys.stdout.write(f"# {site_note}\n")
    sys.stdout.write(suggestions_table(singles, combos, rule, meaning))
    for line in known_variants.suggested_lines(results, singles):
        sys.stdout.write(f"# {line}\n")
    if args.csv:
        write_text_atomic(args.csv, suggestions_csv(singles, combos, known_variants.suggestion_columns(results)))
        note(args, f"wrote {args.csv}")
    if args.report:
        write_report_of(args, list(results.values()), suggestions=report_rows(singles, combos))
        note(args, f"wrote {args.report}")
    return EXIT_OK

"""``saprot-scan fit``: the augmented model fitted to the user's assay labels; and ``scan --fitted``'s steps."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from saprot_scan.cli import known as known_variants
from saprot_scan.cli.common import EXIT_OK, check_report, note, only_chain, read_chains, write_scan_outputs
from saprot_scan.errors import InputError


def _variants_to_predict(args) -> list[str]:
    if args.predict is None and args.predict_file is None:
        return []
    if args.predict is not None:
        return args.predict.split()
    path = Path(args.predict_file)
    if not path.is_file():
        raise InputError(f"{path}: no such variants file")
    lines = [x.strip() for x in path.read_text().splitlines() if x.strip() and not x.startswith("#")]
    if lines and "mutant" in lines[0].split(","):
        column = lines[0].split(",").index("mutant")
        lines = [x.split(",")[column].strip() for x in lines[1:]]
    return lines


def multi_site_zero_shot(chain, sites_by_mutant: dict, model, method: str, result, tokens,
                         batch_size: int | None = None) -> dict[str, float]:
    """Zero-shot scores of multi-site variants: the scorer's own multi-mutant rule (SaProt: all sites masked
    in one pass) for the masked marginal; the sum of the sites' scores for the wild-type marginal."""
    from saprot_scan.encoding.tokens import AMINO_ACIDS
    from saprot_scan.pipeline import score_mutations

    multis = {m: [s for s in sites if s.mt != s.wt] for m, sites in sites_by_mutant.items()}
    multis = {m: s for m, s in multis.items() if len(s) > 1}
    if not multis:
        return {}
    if method == "wt":
        return {m: float(sum(result.scores[s.index, AMINO_ACIDS.index(s.mt)] for s in sites))
                for m, sites in multis.items()}
    texts = [":".join(f"{s.wt}{s.index + 1}{s.mt}" for s in sites) for sites in multis.values()]
    scores = score_mutations(chain, texts, model, batch_size=batch_size, tokens=tokens)
    return {m: float(v) for m, v in zip(multis, scores)}


def run(args) -> int:
    from saprot_scan.backends.base import load_scorer
    from saprot_scan.design.fitting import apply_fitted, describe_cv, fit_model, label_zero_shot
    from saprot_scan.design.labels import Labels, normalise_variant, numbering_hint, read_labels
    from saprot_scan.encoding.plddt import chain_tokens
    from saprot_scan.outputs import HEATMAP_SUFFIXES
    from saprot_scan.outputs.files import check_writable, write_text_atomic
    from saprot_scan.pipeline import check_method, scan_chain

    outputs = [p for p in (args.csv, args.summary_csv, args.json, args.heatmap, args.save, args.predictions) if p]
    for path in outputs:
        check_writable(path)
    if args.heatmap and Path(args.heatmap).suffix.lower() not in HEATMAP_SUFFIXES:
        raise InputError(f"--heatmap {args.heatmap}: use a .png, .svg or .pdf file name")
    if (args.predict is not None or args.predict_file is not None) and not args.predictions:
        raise InputError("--predict/--predict-file need --predictions FILE.csv")
    if args.folds < 2:
        raise InputError(f"--folds must be at least 2, not {args.folds}")
    check_report(args)
    if args.wild_type_score is not None and not np.isfinite(args.wild_type_score):
        raise InputError(f"--wild-type-score must be a finite number, not {args.wild_type_score}")
    chain = only_chain(read_chains(args))
    labels_of = [r.label for r in chain.residue_ids]
    labels = read_labels(args.labels, chain.sequence, labels_of, args.numbering)  # all checked before model work
    to_predict = {}
    for text in _variants_to_predict(args):
        try:
            to_predict[text] = normalise_variant(text, chain.sequence, labels_of, args.numbering)
        except InputError as err:
            raise InputError(f"--predict {err}{numbering_hint(text, chain.sequence, labels_of, args.numbering)}") \
                from None
    known = known_variants.load(args)
    model = load_scorer(args.model, device=args.device, precision=args.precision)
    model.check()
    check_method(model, args.method)
    note(args, f"scoring with {model.describe()}")
    result = scan_chain(chain, model, method=args.method, plddt_mask=args.plddt_mask,
                        plddt_threshold=args.plddt_threshold, batch_size=args.batch_size,
                        use_cache=not args.no_cache, backend=args.threedi)
    note(args, result.describe() + "".join(f"; {n}" for n in result.notes))
    tokens = chain_tokens(chain, args.plddt_mask, args.plddt_threshold, args.threedi)
    wanted = dict(zip(labels.mutants, labels.sites))
    wanted.update({key: sites for key, sites in to_predict.values()})
    multi = multi_site_zero_shot(chain, wanted, model, args.method, result, tokens, args.batch_size)
    note(args, f"fit: {len(labels)} labels at {len({s.index for v in labels.sites for s in v})} of {len(chain)} "
               f"residues; {args.folds}-fold cross-validation, then the final fit")
    fitted = fit_model(result, labels, multi, folds=args.folds, seed=args.seed, labels_source=Path(args.labels).name,
                       zero_shot_info={"plddt_mask": args.plddt_mask, "plddt_threshold": args.plddt_threshold},
                       progress=lambda text: note(args, f"fit: {text}"), wild_type_score=args.wild_type_score)
    if labels.duplicates:
        note(args, f"{labels.duplicates} repeated variants in {Path(args.labels).name} were averaged")
    print(describe_cv(fitted.cv), file=sys.stderr)
    note(args, fitted.describe())
    print(f"fitted scores are {fitted.reference_text()}", file=sys.stderr)
    name = Path(args.save).name if args.save else "fitted model"
    fitted_result = apply_fitted(result, fitted, name)
    fitted_result.notes.append(describe_cv(fitted.cv))
    fitted_result = known_variants.place(args, known, [chain], [fitted_result])[0]
    if args.predictions:
        keys = [key for key, _ in to_predict.values()]
        sites = [s for _, s in to_predict.values()]
        zs = label_zero_shot(result, Labels(mutants=keys, sites=sites, scores=np.zeros(len(keys))), multi)
        fit_scores = fitted.predict_variants(sites, zs)
        lines = []
        for v, s, z, f in zip(to_predict, sites, zs, fit_scores):
            if all(site.mt == site.wt for site in s):  # the wild type: what each scale gives it, maybe no score
                lines.append(f"{v},{result.meaning.synonymous_text()},{fitted.meaning.synonymous_text()}\n")
            else:
                lines.append(f"{v},{z:.6f},{f:.6f}\n")
        text = "mutant,zero_shot,fitted\n" + "".join(lines)
        write_text_atomic(args.predictions, text)
    if args.save:
        fitted.save(args.save)
    tables = [args.csv, args.summary_csv, args.json, args.heatmap, args.report]
    # --save/--predictions alone: those files are the output; the scores go to stdout only when nothing else is
    written = write_scan_outputs(args, [fitted_result]) if any(tables) or not (args.save or args.predictions) else []
    for path in [*written, *(p for p in (args.save, args.predictions) if p)]:
        note(args, f"wrote {path}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- --fitted

def fitted_for_scan(args):
    """The fitted model named by ``--fitted`` (loaded before any model work), or None; sets ``args.method``
    to the zero-shot method it was fitted on."""
    if not getattr(args, "fitted", None):
        return None
    from saprot_scan.design.fitting import load_fitted

    fitted = load_fitted(args.fitted)
    args.method = fitted.zero_shot.get("method", args.method)
    return fitted


def check_fitted_for_scan(args, fitted, chains, model) -> None:
    """Before any scan work: the fitted model belongs to this chain's sequence and this scorer."""
    if fitted is None:
        return
    from saprot_scan.design.fitting import check_applies
    from saprot_scan.results import ScanResult

    chain = chains[0]
    probe = ScanResult(chain_id=chain.chain_id, residue_ids=chain.residue_ids, wt=chain.sequence,
                       scores=np.zeros((len(chain), 20)), method=args.method, model_name=model.name,
                       model_sha256=model.sha256)
    check_applies(fitted, probe, Path(args.fitted).name)


def apply_for_scan(args, fitted, result):
    """``--fitted``: the result's scores replaced by the fitted model's."""
    if fitted is None:
        return result
    from saprot_scan.design.fitting import apply_fitted

    return apply_fitted(result, fitted, Path(args.fitted).name)

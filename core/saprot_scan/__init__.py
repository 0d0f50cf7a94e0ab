"""saprot-scan core: SaProt zero-shot mutation scores for a protein structure.

The pipeline runs one way: structure -> Chain -> 3Di -> SaProt tokens -> scorer -> scan -> ScanResult
-> files and viewer colours. No viewer is imported here; the PyMOL and ChimeraX front ends sit on top
and use only the names below (and ``saprot_scan.viewers``). Importing this package costs only the
standard library: every name is loaded on first use.

Quick start for scripts::

    import saprot_scan as ss

    (chain,) = ss.read_structure("1aki.cif", chains=["A"])
    scorer = ss.load_scorer()                      # default order; or "saprot-35m", "model.onnx"
    result = ss.scan_chain(chain, scorer)          # every substitution; method="wt" for one pass
    result.summary("mean")                         # per-residue numbers for colouring
    ss.write_results([result], "scores.csv")       # .csv, .hgvs.csv, .json, .png/.svg/.pdf by suffix
    ss.score_mutations(chain, ["A23G:L45P"], scorer)                    # 1-based positions in the chain
    numbering = ss.chain_numbering(chain)                               # author numbers, as viewers show them
    ss.score_resolved(chain, ss.resolve_variants(["p.Lys1Ala"], numbering), scorer)
    fitted = ss.load_fitted("my_fit.json")        # saved by 'saprot-scan fit --save'
    ss.apply_fitted(result, fitted)                # the same ScanResult, scored by the fitted model

Layout (docs/architecture.md): ``encoding`` (structure, 3Di, tokens, pLDDT rule), ``conventions`` (variant
notation, residue numbering, reference sequences), ``scoring`` (the maths), ``backends`` (the Scorer
protocol, ONNX Runtime, the structure scorer, ensembles), ``models`` (registry, fetch, import, export,
quantize), ``pipeline``, ``cache``, ``results``, ``outputs``, ``design`` (assay fitting, suggestions,
inverse folding), ``viewers``, ``settings``, ``cli``.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name -> module that defines it (imported when the name is first used).
_EXPORTS = {
    # reading structures and viewer arrays
    "Chain": "encoding.structure", "ResidueId": "encoding.structure", "read_structure": "encoding.structure",
    "chain_from_arrays": "encoding.structure", "one_letter": "encoding.structure",
    "chain_tokens": "encoding.plddt", "StructureTokens": "encoding.tokens", "encode_3di": "encoding.threedi",
    "AMINO_ACIDS": "encoding.tokens", "MAX_RESIDUES": "encoding.tokens",
    # scorers
    "Scorer": "backends.base", "LogitsModel": "scoring.logits", "load_scorer": "backends.base",
    "register_scorer": "kinds", "unregister_scorer": "kinds", "DEVICES": "backends.base", "PRECISIONS": "backends.base",
    "StructureScorer": "backends.structure", "structure_scores": "backends.structure",
    "structure_features": "backends.structure", "blosum62": "backends.structure",
    "EnsembleScorer": "backends.ensemble",
    "LoadedModel": "backends.onnx", "load_model": "backends.onnx", "load_model_file": "backends.onnx",
    "resolve_model": "models.registry", "model_list": "models.registry", "default_model_line": "backends.base",
    # scoring
    "scan_chain": "pipeline", "score_mutations": "pipeline", "METHODS": "scoring.marginals",
    "parse_variant": "scoring.variants", "masked_marginal": "scoring.marginals", "wt_marginal": "scoring.marginals",
    "aa_log_probs": "scoring.marginals", "to_scores": "scoring.marginals", "wt_columns": "scoring.marginals",
    "compare_scores": "scoring.agreement",
    "scan_residues": "pipeline", "score_resolved": "pipeline",
    # the user's conventions: variant notation, residue numbering, a reference sequence
    "parse_variant_text": "conventions.notation", "variant_text": "conventions.notation",
    "parse_selection": "conventions.notation", "NUMBERINGS": "conventions.numbering",
    "Numbering": "conventions.numbering", "chain_numbering": "conventions.numbering",
    "resolve_variants": "conventions.numbering", "read_reference": "conventions.reference",
    "align_to_reference": "conventions.reference",
    # results and files
    "ScanResult": "results", "SUMMARIES": "results", "check_summary": "results",
    # what the numbers mean, and their percentile within the chain (the same meaning for every scorer)
    "ScoreMeaning": "scoring.meaning", "meaning_of": "scoring.meaning", "chain_percentiles": "scoring.percentiles",
    "class_of": "scoring.percentiles", "CLASSES": "scoring.percentiles", "class_precision": "scoring.percentiles",
    "write_results": "outputs", "write_csv": "outputs.tables", "write_json": "outputs.tables",
    "read_json": "outputs.tables", "save_heatmap": "outputs.heatmap", "check_writable": "outputs.files",
    "write_hgvs": "outputs.hgvs", "hgvs_table": "outputs.hgvs",
    "load_results": "batch.reading",  # one structure's chains from a 'saprot-scan batch' output folder
    # beyond zero-shot: assay labels, fitted models, suggestions, inverse folding
    "read_labels": "design.labels", "parse_labels": "design.labels", "normalise_variant": "design.labels",
    "Labels": "design.labels",
    "FittedModel": "design.fitting", "fit_model": "design.fitting", "fit_ridge": "design.fitting",
    "load_fitted": "design.fitting", "apply_fitted": "design.fitting", "check_applies": "design.fitting",
    "describe_cv": "design.fitting", "spearman": "design.fitting",
    "Suggestion": "design.suggest", "Combination": "design.suggest", "suggest_singles": "design.suggest",
    "propose_combinations": "design.suggest", "near_residues": "design.suggest",
    "parse_residue_set": "design.suggest", "check_allow": "design.suggest", "RISKY": "design.suggest",
    "suggestions_table": "design.suggest", "suggestions_csv": "design.suggest",
    "design_chain": "design.inverse_folding", "DesignResult": "design.inverse_folding",
    "check_designs": "design.inverse_folding", "DEFAULT_MODEL_NOTE": "design.inverse_folding",
    # settings and errors
    "save_preference": "settings", "saved_preference": "settings",
    "InputError": "errors", "ModelError": "errors", "ScanCancelled": "errors", "HubUnreachable": "errors",
    # used by the viewers, benchmarks and the training recipe
    "AA_LETTERS": "encoding.tokens",
    "ARCHITECTURES": "models.architectures",
    "CLS_ID": "encoding.tokens",
    "EOS_ID": "encoding.tokens",
    "EveryRowModel": "backends.feeding",
    "FORMAT_TAG": "models.export",
    "MASK_ID": "encoding.tokens",
    "PAD_ID": "encoding.tokens",
    "STRUCT_LETTERS": "encoding.tokens",
    "UNK_ID": "encoding.tokens",
    "VOCAB_SIZE": "encoding.tokens",
    "cached_manifest": "models.registry",
    "combine": "encoding.tokens",
    "embedded_model": "models.registry",
    "encode": "encoding.tokens",
    "export_onnx": "models.export",
    "Stages": "models.stages",
    "fetch_model": "models.hub",
    "need_fetch_extra": "models.extras",
    "import_checkpoint": "models.importer",
    "check_vocab": "models.checks",
    "fuse_attention": "models.fuse",
    "models_dir": "settings",
    "quantize_int8": "models.quantize",
    "copy_notices_to": "models.fast_copy",
    "export_for_scans": "models.fast_copy",
    "random_checkpoint": "models.architectures", "esm_config": "models.architectures",
    "read_metadata": "backends.copies",
    "registry": "models.registry",
    "registry_entry": "models.hub",
    "run_logits": "backends.feeding",
    "sha256_file": "models.hashing",
    "token_id": "encoding.tokens",
}
__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'saprot_scan' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"saprot_scan.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

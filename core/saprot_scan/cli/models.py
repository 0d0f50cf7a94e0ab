"""``saprot-scan models ...``: what is known, cached and used by default; export, fetch and import."""
from __future__ import annotations

import sys

from saprot_scan.models.extras import need_fetch_extra


def _list() -> int:
    from saprot_scan.backends.base import default_model_line
    from saprot_scan.models.registry import model_list
    from saprot_scan.settings import models_dir

    print("name\tstatus\tsource")
    for row in model_list():
        print(f"{row.name}\t{row.status}\t{row.source}")
    print(f"# default: {default_model_line()}")
    print(f"# cache: {models_dir()}")
    return 0


def _export(args) -> int:
    need_fetch_extra("models export", ("onnx",))
    from saprot_scan.models.export import export_onnx
    from saprot_scan.models.stages import Stages

    report = export_onnx(args.hf_dir, args.out, fp16=args.fp16, stages=Stages())
    diff = report["max_abs_logit_diff"]
    print(f"wrote {report['path']} (sha256 {report['sha256']}); max |logit - reference| = {diff:.2e} "
          f"({report['relative_logit_diff']:.2e} of the logit scale {report['logit_scale']:.3g}); "
          f"max log-probability-difference error = {report['max_score_diff']:.2e}")
    if args.int8:
        _quantize_file(report["path"])
    return 0


def _quantize_file(path) -> None:
    """The int8 copy beside ``path``; the runtime uses it on the CPU from then on."""
    from saprot_scan.models.quantize import quantize_int8
    from saprot_scan.models.stages import Stages

    report = quantize_int8(path, stages=Stages())
    print(f"wrote {report['path']} (sha256 {report['sha256'][:12]}); {report['agreement'].line()}")


def _quantize(args) -> int:
    from saprot_scan.models.registry import resolve_model

    _quantize_file(resolve_model(args.model).path)
    return 0


def _info(args) -> int:
    from saprot_scan.backends.onnx import load_model
    from saprot_scan.kinds import DEFAULT_KIND, split_spec

    kind = split_spec(args.model)[0]
    if kind != DEFAULT_KIND:  # a built-in scorer (structure, learned, blend) or an ensemble
        return _info_builtin(args.model, kind)
    if getattr(args, "precision", None):
        return _info_precision(args.model, args.precision)

    from saprot_scan.models.registry import cached_manifest

    model = load_model(args.model, device="cpu")
    meta = dict(model.session.get_modelmeta().custom_metadata_map)
    manifest = cached_manifest(model.name) or {}
    if manifest.get("repo"):  # where it came from, not the temporary folder the export read it from
        meta["saprot_scan.source"] = f"{manifest['repo']}@{manifest.get('revision', '?')}"
    print(f"name\t{model.name}")
    print(f"path\t{model.path}")
    print(f"sha256\t{model.sha256}")
    print(f"precision\t{model.precision}")
    for key in sorted(meta):
        print(f"{key}\t{meta[key]}")
    return 0


def _info_builtin(spec: str, kind: str) -> int:
    """A scorer with no ONNX file of its own: what it is and what its numbers mean, instead of 'unknown model'."""
    from saprot_scan.backends.base import load_scorer
    from saprot_scan.scoring.meaning import meaning_of

    scorer = load_scorer(spec, device="cpu")
    meaning = meaning_of(scorer)
    print(f"name\t{getattr(scorer, 'name', spec)}")
    print("kind\t" + ("ensemble: the mean of its members' per-chain z-scores" if kind == "ensemble" else
                      "built-in scorer (no model file to download; runs on the CPU)"))
    print(f"score\t{meaning.label}")
    print(f"zero\t{meaning.zero}")
    print(f"sign\t{meaning.sign_text}")
    return 0


def _info_precision(spec: str, precision: str) -> int:
    """One precision of a model (fp32 file, int8 or fp16 copy) described from its file, whichever device is here."""
    from saprot_scan.backends.onnx import copy_report
    from saprot_scan.models.registry import resolve_model
    from saprot_scan.models.stages import human_bytes

    ref = resolve_model(spec)
    report = copy_report(ref.path, precision)
    print(f"name\t{ref.name}")
    print(f"path\t{report['path']}")
    print(f"sha256\t{report['sha256']}")
    print(f"precision\t{report['precision']}")
    print(f"size\t{human_bytes(report['bytes'])}")
    print(f"used on\t{report['used']}")
    for key in sorted(report["metadata"]):
        print(f"{key}\t{report['metadata'][key]}")
    return 0


def _fetch(args) -> int:
    need_fetch_extra("models fetch")
    from saprot_scan.models.hub import fetch_model

    fetch_model(args.name, fp16=args.fp16 or None, int8=_int8_choice(args))
    return 0


def _int8_choice(args) -> bool | None:
    """--int8: make it; --no-int8: do not; neither: what this machine runs (int8 without a CUDA GPU)."""
    return True if args.int8 else False if args.no_int8 else None


def _import(args) -> int:
    need_fetch_extra("models import", ("onnx", "filelock"))
    from saprot_scan.models.importer import import_checkpoint
    from saprot_scan.models.stages import Stages

    path = import_checkpoint(args.path, name=args.name, fp16=args.fp16 or None, stages=Stages(),
                             int8=_int8_choice(args), any_shape=args.any_shape)
    print(f"cached {path.name} at {path}", file=sys.stderr)
    return 0


def _use(args) -> int:
    """Save (or with "auto"/"none" forget) the model used when none is named; checked before it is saved."""
    from saprot_scan.settings import config_file
    from saprot_scan.viewers import save_model_choice

    spec = args.model.strip()
    if spec.lower() in ("auto", "none", ""):
        save_model_choice(None)
        print(f"forgot the saved model preference ({config_file()})", file=sys.stderr)
        return 0
    spec = save_model_choice(spec)  # an unknown name, a missing or uncached file fails here
    print(f"saved {spec} as the default model ({config_file()})", file=sys.stderr)
    return 0


def run(args) -> int:
    return {"list": lambda: _list(), "export": lambda: _export(args), "info": lambda: _info(args),
            "fetch": lambda: _fetch(args), "quantize": lambda: _quantize(args),
            "import": lambda: _import(args), "use": lambda: _use(args)}[args.models_command]()

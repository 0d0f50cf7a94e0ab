"""``saprot-scan models ...``: what is known, cached and used by default; export and fetch."""
from __future__ import annotations

import sys

from .errors import InputError, ModelError


def _list() -> int:
    from .paths import models_dir
    from .registry import cached_manifest, embedded_model, registry, resolve_default_spec
    from .structure_scorer import STRUCTURE_SCORER_NAME

    print("name\tstatus\tsource")
    for name, entry in registry().items():
        manifest = cached_manifest(name)
        status = "cached" if manifest else "not cached"
        print(f"{name}\t{status}\t{entry['repo']}@{entry['revision'][:12]}")
    embedded = embedded_model()
    print(f"{embedded.name if embedded else 'saprot-scan-default'}\t"
          f"{'embedded' if embedded else 'missing'}\tshipped with saprot-scan (not SaProt; see models/README.md)")
    print(f"{STRUCTURE_SCORER_NAME}\tbuilt in\tstructure-based scorer: burial + BLOSUM62 (not SaProt; no download)")
    spec, origin = resolve_default_spec()
    print(f"# default: {spec or STRUCTURE_SCORER_NAME} ({origin})")
    print(f"# cache: {models_dir()}")
    return 0


def _export(args) -> int:
    from .export import export_onnx

    report = export_onnx(args.hf_dir, args.out, fp16=args.fp16)
    diff = report["max_abs_logit_diff"]
    print(f"wrote {report['path']} (sha256 {report['sha256']}); max |logit - PyTorch| = {diff:.2e}")
    if args.int8:
        _quantize_file(report["path"])
    return 0


def _quantize_file(path) -> None:
    """The int8 copy beside ``path``; the runtime uses it on the CPU from then on."""
    from .quantize import quantize_int8

    report = quantize_int8(path)
    print(f"wrote {report['path']} (sha256 {report['sha256'][:12]}); {report['agreement'].line()}")


def _quantize(args) -> int:
    from .registry import resolve_model

    _quantize_file(resolve_model(args.model).path)
    return 0


def _info(args) -> int:
    from .runtime import load_model

    model = load_model(args.model, device="cpu")
    meta = model.session.get_modelmeta().custom_metadata_map
    print(f"name\t{model.name}")
    print(f"path\t{model.path}")
    print(f"sha256\t{model.sha256}")
    print(f"precision\t{model.precision}")
    for key in sorted(meta):
        print(f"{key}\t{meta[key]}")
    return 0


def _fetch(args) -> int:
    try:
        from .hub import fetch_model
    except ImportError as err:
        raise InputError(f"models fetch needs the export extra: pip install 'saprot-scan[export]' ({err.name})")
    path = fetch_model(args.name, fp16=args.fp16)
    print(f"cached {args.name} at {path}", file=sys.stderr)
    if args.int8:
        from .registry import cached_model

        _quantize_file(cached_model(args.name).path)
    return 0


def run(args) -> int:
    return {"list": lambda: _list(), "export": lambda: _export(args), "info": lambda: _info(args),
            "fetch": lambda: _fetch(args), "quantize": lambda: _quantize(args)}[args.models_command]()

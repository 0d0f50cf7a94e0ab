"""Which ONNX model file scores: registry names, the user's cache, and the embedded language model.

Order when no model is named (DESIGN.md): ``$SAPROT_SCAN_MODEL``, the saved preference, the best
cached SaProt model, then the offline default ``structure-blend`` (``backends.base.load_scorer``); this
module's own ``resolve_model(None)`` answers for ONNX files only and ends in the embedded language model.
Every model is verified by SHA-256 on load.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from saprot_scan.errors import ModelError
from saprot_scan.kinds import scorer_names
from saprot_scan.settings import default_model_spec, models_dir

DEFAULT_MODEL_NAME = "saprot-scan-default"
_PACKAGE_MODELS = Path(__file__).resolve().parents[1] / "_models"  # the link to the repository's models/ folder


@dataclass(frozen=True)
class ModelRef:
    """A model file the runtime can load, with its expected hash and why it was picked."""

    name: str
    path: Path
    sha256: str | None
    origin: str


def registry() -> dict[str, dict]:
    """Known hub models (name -> repo, pinned revision, architecture, sizes).

    An entry whose ``revision`` is null is import only: no full commit hash could be confirmed to pin, so
    ``models fetch`` refuses it and ``models import FOLDER --name NAME`` takes a copy the user downloaded.
    """
    return json.loads((_PACKAGE_MODELS / "registry.json").read_text())


def embedded_manifest() -> dict | None:
    """The shipped default model's metadata (``models/default/model.json``), if it is there."""
    path = _PACKAGE_MODELS / "default" / "model.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def embedded_model() -> ModelRef | None:
    manifest = embedded_manifest()
    if manifest is None:
        return None
    path = _PACKAGE_MODELS / "default" / manifest["file"]
    if not path.is_file():
        return None
    return ModelRef(manifest.get("name", DEFAULT_MODEL_NAME), path, manifest["sha256"],
                    "embedded default; fetch saprot-35m or saprot-650m for SaProt itself")


def cached_manifest(name: str) -> dict | None:
    path = models_dir() / name / "manifest.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


def cached_model(name: str, origin: str = "cached") -> ModelRef | None:
    manifest = cached_manifest(name)
    if manifest is None:
        return None
    return ModelRef(name, models_dir() / name / manifest["onnx"], manifest["sha256"], origin)


def _named(spec: str, origin: str) -> ModelRef:
    """A registry name, the default's name, or a path to an .onnx file."""
    if spec in (DEFAULT_MODEL_NAME, "default", "embedded"):
        ref = embedded_model()
        if ref is None:
            raise ModelError("the embedded default model is not installed with this copy of saprot-scan")
        return ModelRef(ref.name, ref.path, ref.sha256, origin or ref.origin)
    if spec in registry():
        ref = cached_model(spec, origin)
        if ref is None:
            raise ModelError(f"model {spec} is not cached; run: saprot-scan models fetch {spec}")
        return ref
    path = Path(spec).expanduser()
    if path.is_dir():
        hint = (f"; export it first: saprot-scan models export {path} --out model.onnx"
                if (path / "config.json").is_file() else "")
        raise ModelError(f"model {path} is a folder, not an .onnx file{hint}")
    if path.suffix == ".onnx" or path.exists():
        if not path.is_file():
            raise ModelError(f"model file {path} does not exist")
        return ModelRef(path.stem, path, None, origin or "file")
    names = ", ".join([*scorer_names(), DEFAULT_MODEL_NAME, *registry()])
    raise ModelError(f"unknown model {spec!r}; use one of {names}, an .onnx file, or A+B for an ensemble")


def best_cached_saprot(origin: str = "best cached SaProt model") -> ModelRef | None:
    """The largest SaProt model in the user's cache, if any (the inverse-folding model is chosen by name only)."""
    for name in ("saprot-1.3b", "saprot-650m", "saprot-35m"):
        ref = cached_model(name, origin)
        if ref is not None:
            return ref
    return None


def resolve_model(spec: str | os.PathLike | None = None) -> ModelRef:
    """The model to use for ``spec`` (a name or path), or the default chain when ``spec`` is None."""
    if spec:
        return _named(str(spec), "")
    chosen = default_model_spec()  # $SAPROT_SCAN_MODEL, then the saved preference
    if chosen is not None:
        return _named(*chosen)
    ref = best_cached_saprot()
    if ref is not None:
        return ref
    ref = embedded_model()
    if ref is not None:
        return ref
    raise ModelError("no model available: none is cached and the embedded default is missing; "
                     "run 'saprot-scan models fetch saprot-35m' or pass --model FILE.onnx")


@dataclass(frozen=True)
class ModelListing:
    """One row of the model list every front end shows: a registry model or the embedded default."""

    name: str
    kind: str  # "registry", "embedded" (the small language model) or "built-in" (the structure scorer)
    available: bool  # cached (registry) or shipped (embedded)
    source: str  # hub repo@revision, or what the embedded model is
    fetchable: bool = True  # False: a registry model with no pinned revision (models import only)

    @property
    def status(self) -> str:
        if self.kind == "embedded":
            return "embedded" if self.available else "missing"
        if self.kind == "built-in":
            return "built in"
        return "cached" if self.available else "not cached"


def model_list() -> list[ModelListing]:
    """Registry models (cached or not), then the embedded default: the CLI's, PyMOL's and ChimeraX's list."""
    rows = [ModelListing(name, "registry", cached_manifest(name) is not None,
                         f"{entry.get('repo', '')}@{entry['revision'][:12]}" if entry.get("revision")
                         else f"{entry.get('repo', '')} (no pinned revision: models import only)",
                         fetchable=bool(entry.get("revision")))
            for name, entry in registry().items()]
    embedded = embedded_model()
    rows.append(ModelListing(embedded.name if embedded else DEFAULT_MODEL_NAME, "embedded", embedded is not None,
                             "shipped with saprot-scan (not SaProt; see models/README.md)"))
    rows.append(ModelListing("structure-blend", "built-in", True,
                             "structure-based scorer: learned-structure + burial-blosum (mean z-scores), no download "
                             "(not SaProt; models/README.md)"))
    rows.append(ModelListing("burial-blosum", "built-in", True,
                             "structure-based scorer: burial + BLOSUM62, no download (not SaProt; models/README.md)"))
    rows.append(ModelListing("learned-structure", "built-in", True,
                             "structure-based scorer: trees learned from deep mutational scans, no download "
                             "(not SaProt; models/README.md)"))
    return rows

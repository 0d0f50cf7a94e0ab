"""Which model scores: registry names, the user's cache, and the embedded default.

Order when no model is named (DESIGN.md): ``$SAPROT_SCAN_MODEL``, the saved preference, the best
cached SaProt model, the embedded default. Every model is verified by SHA-256 on load.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError
from .paths import config_file, models_dir

DEFAULT_MODEL_NAME = "saprot-scan-default"
_PACKAGE_MODELS = Path(__file__).resolve().parent / "_models"


@dataclass(frozen=True)
class ModelRef:
    """A model file the runtime can load, with its expected hash and why it was picked."""

    name: str
    path: Path
    sha256: str | None
    origin: str


def registry() -> dict[str, dict]:
    """Known hub models (name -> repo, pinned revision, architecture)."""
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


def saved_preference() -> str | None:
    try:
        return json.loads(config_file().read_text()).get("model") or None
    except (OSError, ValueError):
        return None


def save_preference(spec: str | None) -> None:
    """Remember the user's model choice for the CLI and both viewers."""
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data["model"] = spec
    path.write_text(json.dumps(data, indent=1))


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
    names = ", ".join([DEFAULT_MODEL_NAME, *registry()])
    raise ModelError(f"unknown model {spec!r}; use one of {names} or a path to an .onnx file")


def resolve_default_spec() -> tuple[str | None, str]:
    """The default scorer's spec and why: ``$SAPROT_SCAN_MODEL``, the saved preference, the best cached
    SaProt model; ``None`` means the structure scorer (the best measured offline default)."""
    env = os.environ.get("SAPROT_SCAN_MODEL")
    if env:
        return env, "from SAPROT_SCAN_MODEL"
    preference = saved_preference()
    if preference:
        return preference, "saved preference"
    for name in ("saprot-650m", "saprot-35m"):
        if cached_model(name) is not None:
            return name, "best cached SaProt model"
    return None, "offline default"


def resolve_model(spec: str | os.PathLike | None = None) -> ModelRef:
    """The model to use for ``spec`` (a name or path), or the default chain when ``spec`` is None."""
    if spec:
        return _named(str(spec), "")
    env = os.environ.get("SAPROT_SCAN_MODEL")
    if env:
        return _named(env, "from SAPROT_SCAN_MODEL")
    preference = saved_preference()
    if preference:
        return _named(preference, "saved preference")
    for name in ("saprot-650m", "saprot-35m"):
        ref = cached_model(name, "best cached SaProt model")
        if ref is not None:
            return ref
    ref = embedded_model()
    if ref is not None:
        return ref
    raise ModelError("no model available: none is cached and the embedded default is missing; "
                     "run 'saprot-scan models fetch saprot-35m' or pass --model FILE.onnx")

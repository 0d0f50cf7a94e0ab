"""From picked chains to core results: load the model once, reuse scores that still fit, say how long a scan
will take, and hand the core's early colourings (the one-pass preview, then each refinement) to the caller."""
from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import feedback
from .atoms import ChainKey
from .core_link import core
from .jobs import Stopped
from .store import STORE, ChainScore

METHODS = ("masked", "wt")  # the core's scoring METHODS; listed here so the dialog builds without the core
DEVICES = ("auto", "cpu", "cuda")  # the core's DEVICES (a test checks both against the core)


@dataclass
class Request:
    """Everything one scan needs, gathered on the calling thread before any work starts."""

    chains: list[tuple[ChainKey, object]]  # (key, saprot_scan.encoding.structure.Chain)
    model: str
    method: str
    device: str
    fitted: object = None  # saprot_scan.FittedModel: colour by its scores instead (saprot-scan fit --save)
    fitted_name: str = ""
    #: show(key, view): paint a ``saprot_scan.progressive.ScanView`` of chain ``key`` while it is being scored
    show: Callable | None = None


#: Seconds between two refinements painted while a masked scan runs (the preview is always painted at once).
REFINE_INTERVAL_S = 1.0
#: Called as hook(key, view) after every view the core hands over, painted or not (scripts can follow a scan).
VIEW_HOOKS: list[Callable] = []


def fingerprint(chain) -> str:
    """Identity of a chain's input to the model: residues, sequence, coordinates, b-factors, partner chains."""
    digest = hashlib.sha256()
    digest.update(chain.sequence.encode())
    digest.update(repr(chain.residue_ids).encode())
    digest.update(np.ascontiguousarray(chain.coords, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(chain.b_factors, dtype=np.float64).tobytes())
    partners = getattr(chain, "partners", None)  # the other chains the structure scorers count in burial
    if partners is not None:
        digest.update(np.ascontiguousarray(partners.coords, dtype=np.float32).tobytes())
    return digest.hexdigest()


def load_model(spec: str, device: str):
    """The core's scorer for ``spec``, from the core's model pool (loaded once per session)."""
    core()
    import saprot_scan
    from saprot_scan.viewers import MODEL_POOL

    # an int8 copy made on first use says so in PyMOL's log (a core older than issue 25 has no such lines)
    with getattr(saprot_scan, "copy_notices_to", lambda _: contextlib.nullcontext())(feedback.say):
        return MODEL_POOL.get(spec or None, device)


def model_identity(model) -> str:
    return str(getattr(model, "sha256", None) or getattr(model, "path", "") or getattr(model, "name", ""))


def _fitted_identity(request: Request) -> str:
    if request.fitted is None:
        return ""
    import json

    return "+fitted:" + hashlib.sha256(json.dumps(request.fitted.to_dict(), sort_keys=True).encode()).hexdigest()


def _viewer(request: Request, key):
    """The core's on_view for chain ``key``: the preview painted at once, refinements at most every
    REFINE_INTERVAL_S, every view passed to VIEW_HOOKS."""
    if request.show is None or request.fitted is not None:
        return None
    last = [0.0]

    def on_view(view) -> None:
        now = time.monotonic()
        if view.stage == "preview" or now - last[0] >= REFINE_INTERVAL_S:
            last[0] = now
            request.show(key, view)
        for hook in list(VIEW_HOOKS):
            hook(key, view)
    return on_view


def score(request: Request, progress, cancel: threading.Event) -> list[ChainScore]:
    """Score each chain (or reuse its earlier score) and return the entries, not yet stored. A stop raises
    ``Stopped`` with the entries done so far (the stopped chain's partial result among them, when it has one)."""
    from saprot_scan import ScanCancelled, scan_chain
    from saprot_scan.estimate import announce

    from . import feedback

    progress(f"loading model {request.model or '(default)'}", 0.0)
    model = load_model(request.model, request.device)
    describe = model.describe() if hasattr(model, "describe") else str(getattr(model, "name", model))
    if request.fitted is not None:
        describe += f" + fitted model {request.fitted_name}"
    identity = model_identity(model) + _fitted_identity(request)
    total = sum(len(chain) for _, chain in request.chains) or 1
    done_before = 0
    entries = []
    for key, chain in request.chains:
        stamp = fingerprint(chain)
        old = STORE.scores.get(key)
        if old and old.fingerprint == stamp and old.model_id == identity \
                and old.method == request.method and not old.result.partial:
            entries.append(old)
            done_before += len(chain)
            continue
        countdown = [None]

        def plan(scan_plan, _key=key) -> None:
            countdown[0] = announce(model, scan_plan, lambda text: feedback.say(f"{_key.label}: {text}"))

        def report(done: int, count: int, _before=done_before, _n=len(chain), _key=key) -> None:
            fraction = (_before + _n * done / max(count, 1)) / total
            left = f", {countdown[0].text(done)}" if countdown[0] is not None and done < count else ""
            progress(f"scoring {_key.label} ({_n} residues, {request.method}{left})", fraction)

        try:
            result = scan_chain(chain, model=model, method=request.method, device=request.device,
                                progress=report, cancel=cancel, on_view=_viewer(request, key), on_plan=plan)
        except ScanCancelled as err:
            if err.partial is not None:
                entries.append(ChainScore(key, err.partial, stamp, identity, describe, request.method))
            raise Stopped(entries) from None
        if request.fitted is not None:
            from saprot_scan import apply_fitted

            result = apply_fitted(result, request.fitted, request.fitted_name)
        entries.append(ChainScore(key, result, stamp, identity, describe, request.method))
        done_before += len(chain)
    progress("scored " + ", ".join(k.label for k, _ in request.chains), 1.0)
    return entries

"""One batch worker: a scorer loaded once, then one structure after another -> ``Outcome`` (rows + summary).

Everything here runs where the work runs (this process, a local worker process or a Ray actor) and uses
only the core's public functions: ``read_structure``, ``chain_tokens``, ``load_scorer``, ``scan_chain``,
``ScanResult``. A structure arrives as a path (local files) or as its bytes (archive members, and every
structure on Ray, whose nodes need not share a filesystem); bytes are written to a private folder in
shared memory (``/dev/shm`` where there is one) only while that structure is read.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

#: Distinct chains whose scores a worker keeps, so identical chains (same tokens) are scored once.
MEMO_CHAINS = 256
SCRATCH_PREFIX = "saprot-batch-"
#: A scratch folder of a process that no longer exists is removed once untouched this long.
STALE_SECONDS = 600.0


def scratch_base() -> str:
    """Where workers keep the one structure they are reading: shared memory when there is some."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else tempfile.gettempdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def sweep_scratch(pid: int | None = None) -> None:
    """Remove the scratch folders of worker ``pid``, or of every worker process that no longer exists
    (a worker killed outright cannot remove its own; a process in another PID namespace may look gone,
    hence the age rule)."""
    base = scratch_base()
    with contextlib.suppress(OSError):
        for name in os.listdir(base):
            if not name.startswith(SCRATCH_PREFIX):
                continue
            owner = name[len(SCRATCH_PREFIX):].split("-", 1)[0]
            if not owner.isdigit():
                continue
            path = os.path.join(base, name)
            if pid is None:  # a folder in use is written to for every structure: leave recent ones alone
                stale = not _alive(int(owner)) and time.time() - os.stat(path).st_mtime > STALE_SECONDS
            else:
                stale = int(owner) == pid
            if stale:
                shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class ScoreOptions:
    """What every worker needs to score like ``saprot-scan scan`` would."""

    model: str | None = None
    device: str = "auto"
    precision: str = "auto"
    method: str = "masked"
    chains: tuple[str, ...] | None = None
    model_number: int = 1
    plddt_mask: str = "auto"
    plddt_threshold: float = 70.0
    threedi: str = "auto"
    batch_size: int | None = None
    #: "on": the structure scorers see each file's other chains (``saprot-scan scan --partner-context``)
    partner_context: str = "on"
    #: distinct chains a worker remembers across structures (0: only within one structure; benchmarks)
    memo_chains: int = MEMO_CHAINS
    #: known variants per structure (``saprot_scan.known.batch.KnownOptions``; None: none)
    known: object = None


@dataclass
class WorkItem:
    structure_id: str
    source: str
    name: str  #: file or member base name
    path: str | None = None  #: read from here ...
    data: bytes | None = None  #: ... or from these bytes
    error: str | None = None  #: why it could not be read at all (becomes its failed row)


class WorkQueue:
    """The structures to score, read lazily in order, plus those whose worker died, put back for another
    attempt. Both engines take ``(item, attempt)`` pairs from here, so retries and the end of the input are
    handled once."""

    def __init__(self, items: Iterator[WorkItem]):
        self._items = items
        self._retries: deque[tuple[WorkItem, int]] = deque()
        self._exhausted = False

    def take(self) -> tuple[WorkItem, int] | None:
        """The next (item, attempt): a retry first, else the next input item; None when nothing is left now."""
        if self._retries:
            return self._retries.popleft()
        if self._exhausted:
            return None
        item = next(self._items, None)
        if item is None:
            self._exhausted = True
            return None
        return item, 0

    def retry(self, item: WorkItem, attempt: int, first: bool = False) -> None:
        """Score ``item`` again as attempt ``attempt``: next in line when ``first``, else after other retries."""
        if first:
            self._retries.appendleft((item, attempt))
        else:
            self._retries.append((item, attempt))

    @property
    def may_have_more(self) -> bool:
        """A retry waits, or the input has not been read to its end."""
        return bool(self._retries) or not self._exhausted


@dataclass
class Identity:
    """Which scorer a worker holds (the resume key is model sha256 + method + precision)."""

    model: str
    model_sha256: str
    precision: str
    device: str
    describe: str
    node: str
    pid: int
    #: the scorer's calibrated cost model on the worker's machine (``estimate.CostModel`` fields), for the
    #: batch's time estimate; None for scorers that are not language models
    cost: dict | None = None


@dataclass
class Outcome:
    structure_id: str
    source: str
    status: str  #: ok, failed or skipped
    reason: str = ""
    chains: int = 0  #: chains scored
    scored_chains: int = 0  #: of which actually run through the scorer (the rest had a twin's tokens)
    residues: int = 0
    seconds: float = 0.0
    model: str = ""
    model_sha256: str = ""
    precision: str = ""
    device: str = ""
    node: str = ""
    pid: int = 0
    #: the scorer's ``ScoreMeaning`` as JSON: what the scores mean, so whatever reads them back says the same
    score_meaning: str = ""
    #: column name -> list/array, one entry per substitution (``SCORE_COLUMNS``) / per residue
    scores: dict = field(default_factory=dict, repr=False)
    residue_table: dict = field(default_factory=dict, repr=False)
    known: str = ""  #: JSON text: the accession and each chain's agreement with its known variants


SCORE_COLUMNS = ("structure_id", "chain", "position", "residue", "wt", "mt", "mutant", "score", "percentile", "class",
                 "interface")
#: ``interface``: a heavy atom within 5 A of another chain of the file (None in single-chain files).
RESIDUE_COLUMNS = ("structure_id", "chain", "position", "residue", "wt", "mean", "min", "max", "interface")


def one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    if type(err).__name__ in ("InputError", "ModelError"):
        return text[0] if text else type(err).__name__
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


class Worker:
    """Holds one loaded scorer; ``process`` scores one structure and never raises for a bad structure."""

    def __init__(self, options: ScoreOptions, node: str | None = None) -> None:
        import saprot_scan as ss

        self.options = options
        self.scorer = ss.load_scorer(options.model, device=options.device, precision=options.precision)
        self.scorer.check()
        self.node = node or socket.gethostname()
        self._memo: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        # close() (run beside a busy worker after Ctrl-C) and a structure's read take turns: once closed, no
        # scratch folder is made, so none outlives the worker that made it
        self._scratch_lock = threading.Lock()
        self._closed = False
        self._known = None
        if options.known is not None:
            from saprot_scan.known.batch import KnownSource

            self._known = KnownSource(options.known)

    def identity(self) -> Identity:
        from dataclasses import asdict

        from saprot_scan.estimate import calibration, is_language_model

        s = self.scorer
        cost = asdict(calibration(s)) if is_language_model(s) else None  # timed once per machine, then cached
        return Identity(s.name, s.sha256, s.precision, s.device, s.describe(), self.node, os.getpid(), cost)

    def close(self) -> None:
        with self._scratch_lock:
            self._closed = True

    @contextlib.contextmanager
    def _readable(self, item: WorkItem):
        """A path to read ``item`` from: its own, or a copy of its bytes in a private folder in shared memory
        that lives only while the structure is read (scoring, which takes long, happens after it is gone)."""
        if item.data is None:
            yield item.path
            return
        with self._scratch_lock:
            if self._closed:
                raise RuntimeError("the worker was stopped")
            sweep_scratch()
            folder = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=scratch_base())
            try:
                path = os.path.join(folder, item.name)
                with open(path, "wb") as handle:
                    handle.write(item.data)
                yield path
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    def process(self, item: WorkItem) -> Outcome:
        import json

        from saprot_scan.scoring.meaning import meaning_of

        start = time.perf_counter()
        s = self.scorer
        out = Outcome(item.structure_id, item.source, "ok", model=s.name, model_sha256=s.sha256,
                      precision=s.precision, device=s.device, node=self.node, pid=os.getpid(),
                      score_meaning=json.dumps(meaning_of(s).to_dict(), sort_keys=True))
        try:
            self._score(item, out)
        except Exception as err:  # noqa: BLE001 - every failure of one structure is that structure's row
            out.status, out.reason = "failed", one_line(err)
            out.scores, out.residue_table = {}, {}
            out.chains = out.scored_chains = out.residues = 0
        out.seconds = time.perf_counter() - start
        return out

    def _score(self, item: WorkItem, out: Outcome) -> None:
        import saprot_scan as ss
        from saprot_scan.pipeline import interface_fields
        from saprot_scan.scoring.meaning import meaning_of

        o = self.options
        if item.error:
            raise ss.InputError(item.error)
        with self._readable(item) as path:
            chains = ss.read_structure(path, model=o.model_number, partners=o.partner_context == "on")
            accession = self._known.accession(item.structure_id, path) if self._known is not None else ""
        if o.chains:
            available = [c.chain_id for c in chains]
            chains = [c for c in chains if c.chain_id in o.chains]
            if not chains:
                out.status = "skipped"
                out.reason = (f"no protein chain {', '.join(o.chains)} "
                              f"(protein chains: {', '.join(available)})")
                return
        results = []
        for chain in chains:
            tokens = ss.chain_tokens(chain, o.plddt_mask, o.plddt_threshold, o.threedi)
            key = (tokens.combined, o.method, _context_key(chain, self.scorer))
            scores = self._memo.get(key)
            if scores is None:
                result = ss.scan_chain(chain, self.scorer, method=o.method, plddt_mask=o.plddt_mask,
                                       plddt_threshold=o.plddt_threshold, batch_size=o.batch_size,
                                       use_cache=False, backend=o.threedi)
                self._memo[key] = result.scores
                out.scored_chains += 1
            else:
                self._memo.move_to_end(key)
                result = ss.ScanResult(chain_id=chain.chain_id, residue_ids=chain.residue_ids,
                                       wt=chain.sequence, scores=scores, method=o.method,
                                       model_name=self.scorer.name, model_sha256=self.scorer.sha256,
                                       meaning=meaning_of(self.scorer),
                                       **interface_fields(chain, self.scorer))
            results.append(result)
        if self._known is not None:
            results, out.known = self._known.place(accession, chains, results)
        while len(self._memo) > max(0, o.memo_chains):
            self._memo.popitem(last=False)
        out.chains = len(results)
        out.residues = sum(len(r) for r in results)
        out.scores, out.residue_table = tables(item.structure_id, results)


def _context_key(chain, scorer) -> str:
    """What a chain's structure-scorer scores depend on besides its tokens: the partner chains it was read with
    (two copies of one chain in a complex touch different things). Empty for SaProt, which reads one chain."""
    import hashlib

    from saprot_scan.pipeline import interface_fields

    context = getattr(chain, "partners", None)
    if context is None or interface_fields(chain, scorer).get("partner_context") != "on":
        return ""
    digest = hashlib.sha256(np.ascontiguousarray(context.coords, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(chain.coords, dtype=np.float32).tobytes())
    return digest.hexdigest()


def tables(structure_id: str, results) -> tuple[dict, dict]:
    """Column lists: one row per substitution (as ``scan``'s CSV rows, with the score as a float) and
    one per residue (mean, min, max over the 19 substitutions); each substitution's percentile within its
    chain and class beside its score."""
    from saprot_scan import AMINO_ACIDS
    from saprot_scan.scoring.percentiles import class_of

    sub = {name: [] for name in SCORE_COLUMNS}
    res = {name: [] for name in RESIDUE_COLUMNS}
    for r in results:
        means, mins, maxs = r.summary("mean"), r.summary("min"), r.summary("max")
        percentiles = r.percentiles()
        for i, (rid, wt) in enumerate(zip(r.residue_ids, r.wt)):
            label = rid.label
            res["structure_id"].append(structure_id)
            res["chain"].append(r.chain_id)
            res["position"].append(i + 1)
            res["residue"].append(label)
            res["wt"].append(wt)
            res["mean"].append(float(means[i]))
            res["min"].append(float(mins[i]))
            res["max"].append(float(maxs[i]))
            touching = bool(r.interface[i]) if r.interface else None
            res["interface"].append(touching)
            if wt not in AMINO_ACIDS:
                continue
            row, ranks = r.scores[i], percentiles[i]
            for k, mt in enumerate(AMINO_ACIDS):
                if mt == wt:
                    continue
                sub["structure_id"].append(structure_id)
                sub["chain"].append(r.chain_id)
                sub["position"].append(i + 1)
                sub["residue"].append(label)
                sub["wt"].append(wt)
                sub["mt"].append(mt)
                sub["mutant"].append(f"{wt}{i + 1}{mt}")
                sub["score"].append(float(row[k]))
                sub["percentile"].append(float(ranks[k]))
                sub["class"].append(class_of(ranks[k]))
                sub["interface"].append(touching)
    if any(r.known for r in results):
        sub.update(known_columns(results))
    return sub, res


#: Substitution columns added when known variants were given (``saprot_scan.known``; None where unknown).
KNOWN_COLUMNS = ("clinical_significance", "known_label", "gnomad", "am_pathogenicity", "am_class")


def known_columns(results) -> dict:
    """KNOWN_COLUMNS, one value per substitution row in ``tables``' order."""
    from saprot_scan import AMINO_ACIDS
    from saprot_scan.known.mapping import cell_marks

    columns = {name: [] for name in KNOWN_COLUMNS}
    for r in results:
        marks = cell_marks(r.known)
        for i, wt in enumerate(r.wt):
            if wt not in AMINO_ACIDS:
                continue
            for mt in AMINO_ACIDS:
                if mt == wt:
                    continue
                v = marks.get((i + 1, mt))
                columns["clinical_significance"].append(v["clinical_significance"] or None if v else None)
                columns["known_label"].append(v["label"] or None if v else None)
                columns["gnomad"].append(v["gnomad"] if v else None)
                columns["am_pathogenicity"].append(v["am_pathogenicity"] if v else None)
                columns["am_class"].append(v["am_class"] or None if v else None)
    return columns

"""One batch run: find the inputs, open the output folder, start the engine, skip what is done, stream
the rest through the workers into the output, and stop cleanly on Ctrl-C (or SIGTERM)."""
from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Sequence

from saprot_scan.batch.inputs import Loader, Source, discover
from saprot_scan.batch.progress import Progress, _duration
from saprot_scan.batch.store import Store
from saprot_scan.batch.work import ScoreOptions, WorkItem, one_line
from saprot_scan.errors import InputError

ENGINES = ("local", "ray")


@dataclass
class BatchReport:
    inputs: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    already_done: int = 0  #: ok before this run for the same model, method and precision
    failed_before: int = 0  #: failed/skipped before and not retried (no --retry-failed)
    duplicates: int = 0
    interrupted: bool = False
    seconds: float = 0.0
    workers_lost: int = 0
    model: str = ""
    notes: list[str] = field(default_factory=list)


def _items(todo: Sequence[Source], ship_bytes: bool) -> Iterator[WorkItem]:
    """Work items in input order; bytes are read only when a worker is about to need them."""
    loader = Loader()
    try:
        for src in todo:
            item = WorkItem(src.structure_id, src.source, src.name)
            try:
                if src.member is not None:
                    item.data = loader.member_bytes(src)
                elif ship_bytes:
                    item.data = loader.file_bytes(src)
                else:
                    item.path = str(src.path)
            except InputError as err:  # not a regular file, or larger than any structure: that structure's row
                item.error = str(err)
            except (OSError, EOFError, ValueError) as err:
                item.error = f"{src.source}: cannot read it ({one_line(err)})"
            yield item
    finally:
        loader.close()


#: Structures read for the batch's time estimate (a sample: reading every input first would cost too much).
ESTIMATE_SAMPLE = 20


def _estimate(todo: Sequence[Source], options: ScoreOptions, ident, workers: int) -> str:
    """The batch's time estimate from the workers' calibration and the chain lengths of the first structures
    ('' when none of them can be read here)."""
    from saprot_scan.encoding.structure import read_structure
    from saprot_scan.estimate import CostModel, batch_line

    lengths = []
    for src in [s for s in todo if s.path is not None][:ESTIMATE_SAMPLE]:
        try:
            chains = read_structure(src.path, chains=options.chains, model=options.model_number)
        except Exception:  # noqa: BLE001 (a bad file is the workers' to report; it only leaves the sample)
            continue
        lengths.append([len(chain) for chain in chains])
    if not lengths:
        return ""
    return batch_line(CostModel(**ident.cost), ident.model, ident.precision, lengths, len(todo), options.method,
                      workers, options.batch_size)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM stops a batch like Ctrl-C does (only where this is the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _deferred_interrupts():
    """Ctrl-C / SIGTERM during a write takes effect right after it, so a structure is recorded whole."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []

    def handler(signum, frame):
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, handler), signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    if caught:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _no_interrupts():
    """Keep a second Ctrl-C from cutting the final write short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


def make_engine(engine: str, options: ScoreOptions, workers: int | None, ray_address: str | None,
                gpus_per_worker: float, cpus_per_worker: float, notify):
    if engine == "local":
        if gpus_per_worker:
            raise InputError("--gpus-per-worker needs --engine ray (local workers use --device)")
        from saprot_scan.batch.local import LocalEngine

        return LocalEngine(options, workers or 1, notify=notify)
    if engine == "ray":
        from saprot_scan.batch.ray_engine import RayEngine, require_ray

        require_ray()
        return RayEngine(options, workers=workers, address=ray_address, gpus_per_worker=gpus_per_worker,
                         cpus_per_worker=cpus_per_worker, notify=notify)
    raise InputError(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")


def run_batch(inputs: Sequence[str], out_dir, options: ScoreOptions | None = None, engine: str = "local",
              workers: int | None = None, ray_address: str | None = None, gpus_per_worker: float = 0.0,
              cpus_per_worker: float = 1.0, retry_failed: bool = False, quiet: bool = False,
              log_every: int = 100, stream=None, part_rows: int | None = None) -> BatchReport:
    """Score every structure the inputs name into ``out_dir`` (see ``saprot_scan.batch``)."""
    options = options or ScoreOptions()
    stream = stream or sys.stderr
    report = BatchReport()
    started = time.monotonic()
    if workers is not None and workers < 1:
        raise InputError("--workers must be at least 1")
    if ray_address and engine != "ray":
        raise InputError("--ray-address needs --engine ray")
    found = discover(inputs)
    report.inputs, report.duplicates = len(found.sources), len(found.duplicates)
    progress = Progress(0, quiet=quiet, every=log_every, stream=stream)
    for dropped, first in found.duplicates:
        progress.note(f"skipping {dropped.source}: same structure id {dropped.structure_id!r} as {first.source}")
    store_kwargs = {} if part_rows is None else {"part_rows": part_rows}
    with _sigterm_as_interrupt(), Store(out_dir, options.method, **store_kwargs) as store:
        runner = make_engine(engine, options, workers, ray_address, gpus_per_worker, cpus_per_worker,
                             notify=progress.note)
        interrupted = False
        try:
            identities = runner.start()
            if not isinstance(identities, list):
                identities = [identities]
            ident = identities[0]
            report.model = ident.describe
            todo = []
            for src in found.sources:
                status = store.status_of(src.structure_id, ident.model_sha256, ident.precision)
                if status == "ok":
                    report.already_done += 1
                elif status is not None and not retry_failed:
                    report.failed_before += 1
                else:
                    todo.append(src)
            progress.total = len(todo)
            progress.note(f"{len(found.sources)} structures; {report.already_done} already done"
                          + (f", {report.failed_before} failed before (--retry-failed scores them again)"
                             if report.failed_before else "")
                          + f"; scoring {len(todo)} with {ident.describe}, {options.method}-marginal, "
                          f"{runner.name} engine, {len(identities)} worker{'s' if len(identities) != 1 else ''}")
            if todo and ident.cost:
                line = _estimate(todo, options, ident, len(identities))
                if line:
                    progress.note(line)
            if todo:
                progress.close()
                progress = Progress(len(todo), quiet=quiet, every=log_every, stream=stream)
                for outcome in runner.run(_items(todo, ship_bytes=runner.name == "ray")):
                    if not outcome.model_sha256:  # a row the engine itself made (a worker lost for good)
                        outcome.model, outcome.model_sha256 = ident.model, ident.model_sha256
                        outcome.precision, outcome.device = ident.precision, ident.device
                    with _deferred_interrupts():
                        store.add(outcome)
                    progress.update(outcome.status)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            with _no_interrupts():
                progress.close()
                runner.close(abort=interrupted)
                report.workers_lost = getattr(runner, "lost", 0)
                store.close()
    report.ok, report.failed, report.skipped = store.written.ok, store.written.failed, store.written.skipped
    report.interrupted = interrupted
    report.seconds = time.monotonic() - started
    summary = (f"{report.ok} ok, {report.failed} failed, {report.skipped} skipped in {_duration(report.seconds)}"
               f" ({report.already_done} done before)")
    if interrupted:
        progress.note(f"interrupted: {summary}; run the same command again to resume")
    else:
        progress.note(f"finished: {summary}; output in {out_dir}")
    return report

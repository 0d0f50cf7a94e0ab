"""The Ray engine (``pip install 'saprot-scan[ray]'``): one long-lived actor per worker slot on a Ray cluster.

Each actor asks Ray for ``--cpus-per-worker`` CPUs and ``--gpus-per-worker`` GPUs, loads the scorer once
and scores structures sent to it (their bytes travel with the task, so nodes need not share a filesystem).
Every actor holds at most two structures at a time and results come back to this process as they finish,
so memory does not grow with the number of structures. An actor that dies (its process killed, its node
lost) is dropped; the structures it held go to the other actors, and a replacement actor is started where
Ray finds room. A structure whose actor dies three times becomes a failed row.
"""
from __future__ import annotations

import os
import time
from typing import Callable, Iterator

from saprot_scan.batch.work import Identity, Outcome, ScoreOptions, WorkItem, WorkQueue, one_line
from saprot_scan.errors import InputError, ModelError

#: Environment variables handed to every actor (the model choice, cache and precision as this process sees them).
FORWARDED_ENV = ("SAPROT_SCAN_MODEL", "SAPROT_SCAN_CACHE", "SAPROT_SCAN_PRECISION", "SAPROT_SCAN_THREADS",
                 "SAPROT_SCAN_SPIN", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")
RETRIES = 2
PER_ACTOR = 2
#: How long to wait for actors when none is running and work remains.
START_TIMEOUT = 600.0


def require_ray():
    try:
        import ray
    except ImportError:
        raise InputError("--engine ray needs Ray: pip install 'saprot-scan[ray]'") from None
    return ray


class _ActorBody:
    """What each Ray actor runs (wrapped by ``ray.remote`` at start)."""

    def __init__(self, options: ScoreOptions, env: dict, threads: int | None, sweep=None) -> None:
        os.environ.update(env)
        if threads and "SAPROT_SCAN_THREADS" not in env:
            os.environ["SAPROT_SCAN_THREADS"] = str(threads)
        self.error = None
        self.worker = None
        try:
            import ray

            from saprot_scan.batch.work import Worker

            from saprot_scan.batch.work import sweep_scratch

            node = ray.get_runtime_context().get_node_id()
            if sweep is not None and sweep[0] == node:  # the scratch folder of the worker this one replaces
                sweep_scratch(sweep[1])
            self.worker = Worker(options, node=node)
        except Exception as err:  # noqa: BLE001 - told to the driver as one line
            self.error = (one_line(err), type(err).__name__)

    def identity(self):
        return ("error", *self.error) if self.error else ("ready", self.worker.identity())

    def process(self, item: WorkItem) -> Outcome:
        return self.worker.process(item)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


class RayEngine:
    name = "ray"

    def __init__(self, options: ScoreOptions, workers: int | None = None, address: str | None = None,
                 gpus_per_worker: float = 0.0, cpus_per_worker: float = 1.0,
                 notify: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.workers = workers
        self.address = address
        self.gpus = float(gpus_per_worker or 0)
        self.cpus = float(cpus_per_worker or 1)
        self.notify = notify or (lambda text: None)
        self.lost = 0
        self._ray = None
        self._actors: dict[int, object] = {}
        self._next_index = 0
        self._cls = None
        self._idents: dict[int, Identity] = {}

    # ------------------------------------------------------------------ cluster and actors
    def _connect(self):
        ray = require_ray()
        kwargs = dict(log_to_driver=False, logging_level="ERROR")
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        if address is None:
            kwargs["include_dashboard"] = False
        try:
            ray.init(address=address, **kwargs)
        except ConnectionError as err:
            raise InputError(f"--ray-address {address}: cannot connect to a Ray cluster ({one_line(err)})") from None
        self._ray = ray
        return ray

    def _new_actor(self, sweep=None):
        ray = self._ray
        if self._cls is None:
            # "control" runs beside a structure being scored: Ctrl-C can still clean up a busy worker
            self._cls = ray.remote(max_restarts=0, max_task_retries=0, concurrency_groups={"control": 1})(_ActorBody)
        env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
        threads = max(1, int(self.cpus))
        options = dict(num_cpus=self.cpus)
        if self.gpus:
            options["num_gpus"] = self.gpus
        options_for_scoring = self.options
        if self.gpus and self.options.device == "auto":
            options_for_scoring = ScoreOptions(**{**self.options.__dict__, "device": "cuda"})
        actor = self._cls.options(**options).remote(options_for_scoring, env, threads, sweep)
        index = self._next_index
        self._next_index += 1
        self._actors[index] = actor
        return index, actor

    def _identity(self, reply) -> Identity:
        if reply[0] == "error":
            kind = ModelError if reply[2] == "ModelError" else InputError if reply[2] == "InputError" else RuntimeError
            raise kind(reply[1])
        return reply[1]

    def start(self) -> list[Identity]:
        ray = self._connect()
        count = self.workers
        if not count:
            resources = ray.cluster_resources()
            if self.gpus:
                count = int(resources.get("GPU", 0) // self.gpus)
                if count < 1:
                    raise InputError(f"--gpus-per-worker {self.gpus:g}: the Ray cluster has "
                                     f"{resources.get('GPU', 0):g} GPUs")
            else:
                count = max(1, int(resources.get("CPU", 1) // self.cpus))
        started = [self._new_actor() for _ in range(count)]
        identities = [self._identity(reply) for reply in ray.get([a.identity.remote() for _, a in started])]
        self._idents = {index: ident for (index, _), ident in zip(started, identities)}
        for ident in identities:
            self.notify(f"worker ready: node={ident.node} pid={ident.pid} device={ident.device}")
        return identities

    # ------------------------------------------------------------------ work
    def run(self, items: Iterator[WorkItem]) -> Iterator[Outcome]:
        ray = self._ray
        from ray.exceptions import RayError, RayTaskError

        queue = WorkQueue(items)
        in_flight: dict = {}  # ref -> (actor index, item, attempt)
        load = {index: 0 for index in self._actors}
        starting: dict = {}  # identity ref of a replacement actor -> its index
        ready = set(self._actors)
        waiting_since = None

        def submit(index: int) -> None:
            while index in ready and index in self._actors and load[index] < PER_ACTOR:
                entry = queue.take()
                if entry is None:
                    return
                ref = self._actors[index].process.remote(entry[0])
                in_flight[ref] = (index, *entry)
                load[index] += 1

        def lose(index: int, err: BaseException) -> None:
            actor = self._actors.pop(index, None)
            ready.discard(index)
            if actor is None:
                return
            self.lost += 1
            try:
                ray.kill(actor)
            except Exception:  # noqa: BLE001 - already gone
                pass
            self.notify(f"worker lost ({type(err).__name__}); its structures go to the other workers")
            if self.lost <= 3 * max(1, len(load)):
                gone = self._idents.get(index)
                new_index, new_actor = self._new_actor(sweep=(gone.node, gone.pid) if gone else None)
                load[new_index] = 0
                starting[new_actor.identity.remote()] = new_index

        for index in list(self._actors):
            submit(index)
        while in_flight or (starting and queue.may_have_more):
            if not in_flight and not self._actors:
                waiting_since = waiting_since or time.monotonic()
                if time.monotonic() - waiting_since > START_TIMEOUT:
                    raise RuntimeError("every Ray worker was lost and no replacement could start")
            else:
                waiting_since = None
            done, _ = ray.wait(list(in_flight) + list(starting), num_returns=1, timeout=1.0)
            for ref in done:
                if ref in starting:
                    index = starting.pop(ref)
                    try:
                        ident = self._identity(ray.get(ref))
                        self._idents[index] = ident
                        self.notify(f"worker ready: node={ident.node} pid={ident.pid} device={ident.device}")
                        ready.add(index)
                        submit(index)
                    except Exception as err:  # noqa: BLE001 - the others carry on
                        self._actors.pop(index, None)
                        self.notify(f"a replacement worker failed to start ({type(err).__name__})")
                    continue
                index, item, attempt = in_flight.pop(ref)
                load[index] -= 1
                try:
                    outcome = ray.get(ref)
                except RayTaskError as err:  # the actor raised (not a bad structure: those are rows)
                    outcome = Outcome(item.structure_id, item.source, "failed", reason=one_line(err.cause or err))
                except RayError as err:  # the actor or its node died
                    lose(index, err)
                    if attempt >= RETRIES:
                        yield Outcome(item.structure_id, item.source, "failed",
                                      reason=f"its Ray worker died {attempt + 1} times while scoring it")
                    else:
                        queue.retry(item, attempt + 1)
                    for other in list(self._actors):
                        submit(other)
                    continue
                yield outcome
                submit(index)
            if not in_flight:
                for index in list(ready):
                    submit(index)
            if not in_flight and not self._actors and not starting and queue.may_have_more:
                raise RuntimeError("every Ray worker was lost; run the same command again to resume")

    def close(self, abort: bool = False) -> None:
        ray = self._ray
        if ray is None:
            return
        actors = list(self._actors.values())
        try:  # each worker makes no more scratch folders (at once, beside its current structure, after Ctrl-C)
            calls = [a.close.options(concurrency_group="control").remote() if abort else a.close.remote()
                     for a in actors]
            ray.get(calls, timeout=5 if abort else 30)
        except Exception:  # noqa: BLE001 - a worker already gone has nothing to remove
            pass
        for actor in actors:
            try:
                ray.kill(actor)
            except Exception:  # noqa: BLE001
                pass
        self._actors.clear()
        if abort:  # killed mid-structure: remove the scratch folders of this machine's workers here
            from saprot_scan.batch.work import sweep_scratch

            here = ray.get_runtime_context().get_node_id()
            for ident in self._idents.values():
                if ident.node == here:
                    sweep_scratch(ident.pid)
        ray.shutdown()
        self._ray = None

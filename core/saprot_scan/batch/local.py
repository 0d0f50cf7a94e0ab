"""The local engine: one worker in this process, or N worker processes on this machine.

Each worker process loads the scorer once and then scores one structure at a time, sent over its own pipe.
A worker that dies (killed, out of memory) is replaced, and the structure it held is given to a worker
again (twice at most; a structure that kills its worker three times becomes a failed row). Worker
processes ignore Ctrl-C: the driver stops them and keeps what finished.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.connection import wait
from typing import Iterator

from saprot_scan.batch.work import Identity, Outcome, ScoreOptions, Worker, WorkItem, WorkQueue, sweep_scratch

#: Times a structure is handed out again after its worker died while holding it.
RETRIES = 2


def _exit_on_term(signum, frame):
    raise SystemExit(0)


def _child(conn, options: ScoreOptions, threads: int | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_term)  # so the worker's scratch folder is removed
    if threads:
        from saprot_scan.settings import ENV_THREADS

        os.environ.setdefault(ENV_THREADS, str(threads))
    try:
        worker = Worker(options)
    except Exception as err:  # noqa: BLE001 - reported to the driver as one line
        from saprot_scan.batch.work import one_line

        conn.send(("error", one_line(err), type(err).__name__))
        return
    try:
        conn.send(("ready", worker.identity()))
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            if message is None:
                return
            conn.send(("done", worker.process(message)))
    finally:
        worker.close()


class LocalEngine:
    """``start()`` -> the first worker's Identity; ``run(items)`` yields Outcomes as they finish."""

    name = "local"

    def __init__(self, options: ScoreOptions, workers: int = 1, notify=None) -> None:
        self.options = options
        self.notify = notify or (lambda text: None)
        self.workers = max(1, int(workers))
        self.lost = 0  # workers that died and were replaced
        self._inline: Worker | None = None
        self._procs: dict = {}  # conn -> process
        self._ctx = multiprocessing.get_context("spawn")
        self._threads = None
        if self.workers > 1:
            try:
                cores = len(os.sched_getaffinity(0))
            except AttributeError:
                cores = os.cpu_count() or 1
            self._threads = max(1, cores // self.workers)

    # ------------------------------------------------------------------ workers
    def _spawn(self):
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_child, args=(child, self.options, self._threads), daemon=True,
                                 name="saprot-batch-worker")
        proc.start()
        child.close()
        self._procs[parent] = proc
        return parent

    def _await_ready(self, conn) -> Identity:
        try:
            message = conn.recv()
        except EOFError:
            proc = self._procs.pop(conn)
            proc.join(5)
            raise RuntimeError(f"a batch worker process exited while loading the model "
                               f"(exit code {proc.exitcode})") from None
        if message[0] == "error":
            from saprot_scan.errors import InputError, ModelError

            kind = ModelError if message[2] == "ModelError" else InputError if message[2] == "InputError" \
                else RuntimeError
            raise kind(message[1])
        return message[1]

    def start(self) -> list[Identity]:
        if self.workers == 1:
            self._inline = Worker(self.options)
            identities = [self._inline.identity()]
        else:
            conns = [self._spawn() for _ in range(self.workers)]
            identities = [self._await_ready(conn) for conn in conns]
        for ident in identities:
            self.notify(f"worker ready: node={ident.node} pid={ident.pid} device={ident.device}")
        return identities

    # ------------------------------------------------------------------ work
    def run(self, items: Iterator[WorkItem]) -> Iterator[Outcome]:
        if self._inline is not None:
            for item in items:
                yield self._inline.process(item)
            return
        queue = WorkQueue(items)
        busy: dict = {}  # conn -> (item, attempt)

        def feed(conn) -> None:
            entry = queue.take()
            if entry is not None:
                busy[conn] = entry
                try:
                    conn.send(entry[0])
                except OSError:  # died while idle: noticed through its sentinel, the item goes out again
                    pass

        for conn in list(self._procs):
            feed(conn)
        while busy:
            sentinels = {self._procs[c].sentinel: c for c in busy}
            ready = wait(list(busy) + list(sentinels))
            for ready_one in ready:
                conn = sentinels.get(ready_one, ready_one)
                if conn not in busy:
                    continue
                message = None
                if conn.poll():
                    try:
                        message = conn.recv()
                    except (EOFError, OSError):
                        message = None
                if message is not None and message[0] == "done":
                    busy.pop(conn)
                    feed(conn)  # before handing the outcome on, so the worker never waits on the writer
                    yield message[1]
                    continue
                if message is None and self._procs[conn].is_alive() and not conn.poll():
                    continue  # woke for the pipe but nothing complete yet
                # the worker died holding an item: replace it and hand the item out again
                item, attempt = busy.pop(conn)
                proc = self._procs.pop(conn)
                proc.join(5)
                conn.close()
                sweep_scratch(proc.pid)
                self.lost += 1
                if attempt >= RETRIES:
                    yield Outcome(item.structure_id, item.source, "failed",
                                  reason=f"the worker process died {attempt + 1} times while scoring this "
                                         f"structure (last exit code {proc.exitcode})")
                else:
                    queue.retry(item, attempt + 1, first=True)
                self.notify(f"worker lost (pid {proc.pid}, exit code {proc.exitcode}); "
                            "its structure goes to a new worker")
                new = self._spawn()
                ident = self._await_ready(new)
                self.notify(f"worker ready: node={ident.node} pid={ident.pid} device={ident.device}")
                feed(new)
            if not busy:
                for conn in list(self._procs):  # items requeued while every worker was idle
                    if conn not in busy:
                        feed(conn)

    def close(self, abort: bool = False) -> None:
        """Stop the workers: politely after a finished run, at once after Ctrl-C (``abort``)."""
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        for conn, proc in list(self._procs.items()):
            if abort:
                proc.terminate()
                continue
            try:
                if proc.is_alive():
                    conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for conn, proc in list(self._procs.items()):
            proc.join(2 if not abort else 5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
            conn.close()
        self._procs.clear()

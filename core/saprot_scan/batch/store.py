"""The batch output folder: Parquet datasets, the manifest, and what makes a run resumable.

```
DIR/scores/part-*.parquet     one row per substitution  (structure_id, chain, position, residue, wt, mt,
                              mutant, score, percentile, class, [clinical_significance, known_label,
                              gnomad, am_pathogenicity, am_class: with known variants], model, method,
                              precision)
DIR/residues/part-*.parquet   one row per residue       (structure_id, chain, position, residue, wt,
                              mean, min, max, model, method, precision)
DIR/manifest.parquet          one row per structure and (model sha256, method, precision): status ok /
                              failed / skipped, reason, model, model_sha256, method, precision, device,
                              chains, scored_chains, residues, seconds, node, pid, part, finished,
                              score_meaning (the scorer's ScoreMeaning as JSON; empty in folders
                              written before it was stored: ``load_results`` then goes by the model name), known
                              (known variants given: JSON text, the accession and each chain's agreement)
DIR/manifest.log              append-only JSON lines since the last fold (folded in at the end of a run)
DIR/.lock                     held while a run writes here
```

Commit order, so that a crash anywhere leaves no partial rows: finished structures are buffered; a part
is written under a temporary name, synced and renamed into ``scores/`` and then ``residues/``; only then
are the structures' manifest lines appended (and synced) to ``manifest.log``. A part file that no manifest
line names is the remains of a crash before that append; the next run deletes it and scores those
structures again. Each structure's rows therefore appear whole, once, or not at all.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from saprot_scan.batch.inputs import printable
from saprot_scan.batch.work import KNOWN_COLUMNS, RESIDUE_COLUMNS, SCORE_COLUMNS, Outcome
from saprot_scan.errors import InputError

MANIFEST = "manifest.parquet"
LOG = "manifest.log"
SCORES = "scores"
RESIDUES = "residues"
#: The resume key of a manifest row, besides the structure id.
KEY_COLUMNS = ("structure_id", "model_sha256", "method", "precision")
MANIFEST_COLUMNS = ("structure_id", "source", "status", "reason", "model", "model_sha256", "method", "precision",
                    "device", "chains", "scored_chains", "residues", "seconds", "node", "pid", "part", "finished",
                    "score_meaning", "known")
_INT_COLUMNS = ("chains", "scored_chains", "residues", "pid")
#: Parquet schema metadata key of a part's scores' ``ScoreMeaning`` (JSON), beside the manifest's column.
MEANING_KEY = "saprot_scan.score_meaning"
#: A part is written when this many substitution rows wait, or this many seconds after its first structure.
PART_ROWS = 500_000
PART_SECONDS = 30.0
STATUSES = ("ok", "failed", "skipped")
_PART_NAME = re.compile(r"part-[A-Za-z0-9_.-]+\.parquet")


def require_pyarrow():
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError("batch output is Parquet: pip install 'saprot-scan[batch]' (pyarrow)") from None
    return pyarrow


def _schemas():
    import pyarrow as pa

    text, dict_text = pa.string(), pa.dictionary(pa.int32(), pa.string())
    run = [("model", dict_text), ("method", dict_text), ("precision", dict_text)]
    scores = pa.schema([("structure_id", dict_text), ("chain", dict_text), ("position", pa.int32()),
                       ("residue", text), ("wt", dict_text), ("mt", dict_text), ("mutant", text),
                       ("score", pa.float64()), ("percentile", pa.float64()), ("class", dict_text),
                        ("interface", pa.bool_())] + run)
    residues = pa.schema([("structure_id", dict_text), ("chain", dict_text), ("position", pa.int32()),
                         ("residue", text), ("wt", dict_text), ("mean", pa.float64()), ("min", pa.float64()),
                         ("max", pa.float64()), ("interface", pa.bool_())] + run)
    fields = []
    for name in MANIFEST_COLUMNS:
        kind = pa.int64() if name in _INT_COLUMNS else pa.float64() if name == "seconds" else text
        fields.append((name, kind))
    return scores, residues, pa.schema(fields)


def _with_known(schema):
    """The substitution schema with the known-variant columns (parts of runs given known variants)."""
    import pyarrow as pa

    kinds = {"gnomad": pa.bool_(), "am_pathogenicity": pa.float64()}
    fields = list(schema)
    at = [f.name for f in fields].index("class") + 1
    extra = [pa.field(n, kinds.get(n, pa.dictionary(pa.int32(), pa.string()))) for n in KNOWN_COLUMNS]
    return pa.schema(fields[:at] + extra + fields[at:])


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_table_atomic(table, path: Path) -> None:
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


@dataclass
class Summary:
    ok: int = 0
    failed: int = 0
    skipped: int = 0


class Store:
    """One run's view of an output folder (a context manager: lock, resume state, buffered parts)."""

    def __init__(self, out_dir: str | os.PathLike, method: str, part_rows: int = PART_ROWS,
                 part_seconds: float = PART_SECONDS) -> None:
        require_pyarrow()
        self.dir = Path(out_dir)
        self.method = method
        self.part_rows, self.part_seconds = part_rows, part_seconds
        self._lock = None
        self._buffer: list[Outcome] = []
        self._buffer_rows = 0
        self._buffer_since = 0.0
        self._seq = 0
        self._run = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{os.getpid()}"
        self.rows: dict[tuple, dict] = {}  # effective manifest: key -> row
        self.written = Summary()

    # ------------------------------------------------------------------ opening: lock, manifest, orphans
    def __enter__(self) -> "Store":
        self._created = not self.dir.exists()
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            (self.dir / SCORES).mkdir(exist_ok=True)
            (self.dir / RESIDUES).mkdir(exist_ok=True)
        except OSError as err:
            raise InputError(f"--out {self.dir}: cannot create the output folder ({err.strerror})") from None
        linked = [name for name in (SCORES, RESIDUES) if (self.dir / name).is_symlink()]
        if linked:
            raise InputError(f"--out {self.dir}: {linked[0]}/ is a symbolic link; a batch folder keeps its parts "
                             "inside itself (a resume deletes unnamed parts there), replace the link by a folder")
        if not os.access(self.dir, os.W_OK):
            raise InputError(f"--out {self.dir}: the folder is not writable")
        self._take_lock()
        try:
            self._load_manifest()
            self._remove_orphans()
        except BaseException:
            self._release_lock()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _take_lock(self) -> None:
        handle = open(self.dir / ".lock", "a+")
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # no fcntl (Windows): one run per folder is up to the user
            pass
        except OSError:
            handle.close()
            raise InputError(f"--out {self.dir}: another saprot-scan batch is writing to this folder") from None
        self._lock = handle

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _load_manifest(self) -> None:
        import pyarrow.parquet as pq

        path = self.dir / MANIFEST
        if path.exists():
            try:
                for row in filter(_keyed, pq.read_table(path).to_pylist()):
                    self.rows[tuple(row[k] for k in KEY_COLUMNS)] = row
            except Exception as err:  # noqa: BLE001
                raise InputError(f"{path}: unreadable manifest ({err}); move the folder aside") from None
        for row in log_rows(self.dir):
            self.rows[tuple(row[k] for k in KEY_COLUMNS)] = row

    def _remove_orphans(self) -> None:
        referenced = {row.get("part") for row in self.rows.values() if row.get("status") == "ok"}
        for folder in (SCORES, RESIDUES):
            for path in (self.dir / folder).iterdir():
                orphan = path.name.startswith("part-") and path.name.endswith(".parquet") \
                    and path.name not in referenced
                leftover = path.name.startswith(".part-") and path.name.endswith(".tmp")
                if orphan or leftover:
                    path.unlink()

    # ------------------------------------------------------------------ resume
    def status_of(self, structure_id: str, model_sha256: str, precision: str) -> str | None:
        row = self.rows.get((structure_id, model_sha256, self.method, precision))
        return None if row is None else row["status"]

    # ------------------------------------------------------------------ writing
    def add(self, outcome: Outcome) -> None:
        """Record a finished structure: failed/skipped rows at once, ok rows with their part."""
        if outcome.status != "ok":
            self._append_log([self._row(outcome, "")])
            return
        if not self._buffer:
            self._buffer_since = time.monotonic()
        self._buffer.append(outcome)
        self._buffer_rows += len(outcome.scores.get("score", ()))
        if self._buffer_rows >= self.part_rows or time.monotonic() - self._buffer_since >= self.part_seconds:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        import pyarrow as pa

        score_schema, residue_schema, _ = _schemas()
        self._seq += 1
        part = f"part-{self._run}-{self._seq:05d}.parquet"
        score_columns = SCORE_COLUMNS
        if any(KNOWN_COLUMNS[0] in o.scores for o in self._buffer):
            score_schema, score_columns = _with_known(score_schema), SCORE_COLUMNS + KNOWN_COLUMNS
        for folder, columns, schema, attr in ((SCORES, score_columns, score_schema, "scores"),
                                               (RESIDUES, RESIDUE_COLUMNS, residue_schema, "residue_table")):
            data = {name: [] for name in columns}
            run = {"model": [], "method": [], "precision": []}
            for outcome in self._buffer:
                table = getattr(outcome, attr)
                count = len(table[columns[0]])
                for name in columns:
                    data[name].extend(table.get(name, [None] * count))
                run["model"].extend([outcome.model] * count)
                run["method"].extend([self.method] * count)
                run["precision"].extend([outcome.precision] * count)
            data.update(run)
            arrays = [pa.array(data[f.name], type=f.type.value_type).dictionary_encode()
                      if pa.types.is_dictionary(f.type) else pa.array(data[f.name], type=f.type)
                      for f in schema]
            # the scorer's meaning also rides in each part's schema, for readers that never open the manifest
            meanings = {o.score_meaning for o in self._buffer if o.score_meaning}
            if len(meanings) == 1:
                schema = schema.with_metadata({MEANING_KEY: next(iter(meanings))})
            _write_table_atomic(pa.Table.from_arrays(arrays, schema=schema), self.dir / folder / part)
        self._append_log([self._row(o, part) for o in self._buffer])
        self._buffer, self._buffer_rows = [], 0

    def _row(self, outcome: Outcome, part: str) -> dict:
        row = {name: getattr(outcome, name, None) for name in MANIFEST_COLUMNS}
        row.update(method=self.method, part=part, seconds=round(float(outcome.seconds), 4),
                   finished=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        return {k: printable(v) if isinstance(v, str) else v for k, v in row.items()}

    def _append_log(self, rows: list[dict]) -> None:
        text = "".join(json.dumps(row) + "\n" for row in rows)
        with open(self.dir / LOG, "a") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        for row in rows:
            self.rows[tuple(row[k] for k in KEY_COLUMNS)] = row
            setattr(self.written, row["status"], getattr(self.written, row["status"]) + 1)

    def fold(self) -> None:
        """Write ``manifest.parquet`` from the manifest and the log, then drop the log."""
        import pyarrow as pa

        _, _, schema = _schemas()
        rows = sorted(self.rows.values(), key=lambda r: tuple(str(r[k]) for k in KEY_COLUMNS))
        columns = {name: [row.get(name) for row in rows] for name in MANIFEST_COLUMNS}
        table = pa.Table.from_pydict(columns, schema=schema)
        _write_table_atomic(table, self.dir / MANIFEST)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.dir / LOG)

    def close(self) -> None:
        """Write what is buffered and fold the manifest (also after Ctrl-C); then release the folder."""
        if self._lock is None:
            return
        try:
            self.flush()
            if self.rows or (self.dir / MANIFEST).exists():
                self.fold()
        finally:
            self._release_lock()
            if not self.rows and self._created:  # a run that stopped before any structure: no folder left
                shutil.rmtree(self.dir, ignore_errors=True)


def is_part_name(part) -> bool:
    """A part file name this store writes: a plain name in the folder (never a path: an absolute or ``../``
    part in a planted manifest would read a Parquet file outside the batch folder)."""
    return isinstance(part, str) and _PART_NAME.fullmatch(part) is not None


def _keyed(row) -> bool:
    """The row's resume key is text (a list there cannot even be looked up)."""
    return isinstance(row, dict) and all(isinstance(row.get(k), str) for k in KEY_COLUMNS)


def _usable_row(row) -> bool:
    """A manifest.log line as a run writes it: key columns are text, status is known, a part is a plain name,
    and every other value has its column's type (a planted list or text where a count belongs is not one)."""
    if not _keyed(row):
        return False
    if row.get("status") not in STATUSES or not (row.get("part") in ("", None) or is_part_name(row.get("part"))):
        return False
    for name in MANIFEST_COLUMNS:
        value = row.get(name)
        kind = int if name in _INT_COLUMNS else (int, float) if name == "seconds" else str
        if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
            return False
    return True


def log_rows(out: Path) -> list[dict]:
    """The usable rows of ``manifest.log``: a line cut short by a crash, or one no run could have written (a
    list where text belongs, a part outside the folder), is left out, so its structure counts as not done."""
    try:
        text = (out / LOG).read_text(errors="replace")
    except FileNotFoundError:
        return []
    rows = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if _usable_row(row):
            rows.append(row)
    return rows


def read_manifest(out_dir: str | os.PathLike):
    """The manifest of a batch output folder as a pyarrow Table (the log folded in when a run was cut short)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    rows: dict[tuple, dict] = {}
    if (out / MANIFEST).exists():
        for row in pq.read_table(out / MANIFEST).to_pylist():
            if _keyed(row):  # a foreign part stays visible here and is refused where it would be read
                rows[tuple(row[k] for k in KEY_COLUMNS)] = row
    for row in log_rows(out):
        rows[tuple(row[k] for k in KEY_COLUMNS)] = row
    _, _, schema = _schemas()
    values = list(rows.values())
    return pa.Table.from_pydict({n: [r.get(n) for r in values] for n in MANIFEST_COLUMNS}, schema=schema)

"""Issue 24, item 1: whatever reads scores back (a batch folder, an older batch folder, a saved JSON result)
carries the meaning the scan had, or refuses to guess; it is never SaProt's log-ratio by default."""
from __future__ import annotations

import json

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow", reason="batch output needs the batch extra (pyarrow)")
import pyarrow.parquet as pq  # noqa: E402

from saprot_scan import load_scorer  # noqa: E402
from saprot_scan.batch import load_results  # noqa: E402
from saprot_scan.errors import InputError  # noqa: E402
from saprot_scan.results import ScanResult  # noqa: E402
from saprot_scan.scoring.meaning import LOG_RATIO, meaning_of  # noqa: E402
from support.batch_runs import run_batch  # noqa: E402


@pytest.fixture(scope="module")
def offline_batch(test_data, tmp_path_factory):
    """`saprot-scan batch` with the offline default scorer (structure-blend, z-scores) on one small file."""
    out = tmp_path_factory.mktemp("meaning") / "bout"
    proc = run_batch(test_data / "foldseek_3di" / "1l2y.cif", "--out", out, "--model", "structure-blend")
    assert proc.returncode == 0, proc.stderr
    return out


def test_a_batch_folder_keeps_its_scorers_meaning(offline_batch):
    (result,) = load_results(offline_batch, "1l2y")
    expected = meaning_of(load_scorer("structure-blend"))
    assert result.meaning == expected and result.meaning != LOG_RATIO
    saved = result.to_dict()["score_meaning"]
    assert saved["zero"] == "the chain's typical substitution" and saved["vs_wild_type"] is False
    manifest = pq.read_table(offline_batch / "manifest.parquet").to_pylist()
    assert json.loads(manifest[0]["score_meaning"])["label"] == expected.label
    (part,) = (offline_batch / "scores").glob("part-*.parquet")
    stored = pq.read_schema(part).metadata[b"saprot_scan.score_meaning"]
    assert json.loads(stored)["zero"] == expected.zero  # also in each part, for a plain Parquet reader


def _rewrite_manifest(folder, change) -> None:
    rows = pq.read_table(folder / "manifest.parquet").to_pylist()
    for row in rows:
        change(row)
    pq.write_table(pa.Table.from_pylist(rows), folder / "manifest.parquet")


def test_an_older_batch_folder_gets_its_meaning_from_the_model_name_or_a_refusal(offline_batch, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(offline_batch, old)
    _rewrite_manifest(old, lambda row: row.pop("score_meaning"))  # written before meanings were stored
    for part in (old / "scores").glob("part-*.parquet"):  # ... and before percentiles were
        pq.write_table(pq.read_table(part).drop(["percentile", "class"]), part)
    (result,) = load_results(old, "1l2y")
    assert result.meaning == meaning_of(load_scorer("structure-blend"))
    (fresh,) = load_results(offline_batch, "1l2y")
    assert np.array_equal(result.percentiles(), fresh.percentiles(), equal_nan=True)
    _rewrite_manifest(old, lambda row: row.update(model="a retired scorer"))
    with pytest.raises(InputError, match="written before batch folders recorded what their scores mean"):
        load_results(old, "1l2y")


def test_a_json_result_from_before_labels_were_stored_is_read_by_its_model_or_refused(offline_batch):
    (result,) = load_results(offline_batch, "1l2y")
    data = result.to_dict()
    del data["score_meaning"], data["score_label"]
    assert ScanResult.from_dict(data).meaning == result.meaning  # model "structure-blend" settles it
    data["model"] = "structure-blend + fitted model.json"
    with pytest.raises(InputError, match="do not say what they mean"):
        ScanResult.from_dict(data)

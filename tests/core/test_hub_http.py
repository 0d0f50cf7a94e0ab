"""``models fetch`` over HTTP, against a stand-in for the Hugging Face hub on 127.0.0.1 (tests/support/fake_hub.py).

The stand-in serves a small random checkpoint in SaProt's hub layout (config.json, pickled pytorch_model.bin,
vocab.txt, tokenizer files) at the registry's pinned commit of saprot-35m, with an LFS redirect to a file store
and Range requests, and injects the faults a real download meets. Every fetch here is the real CLI in its own
process; the ones that complete run the real export of that small checkpoint.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.fake_hub import FakeHub

pytest.importorskip("huggingface_hub", reason="models fetch needs the fetch extra (huggingface_hub)")
torch = pytest.importorskip("torch", reason="building the served checkpoint needs torch")

NAME, WEIGHTS = "saprot-35m", "pytorch_model.bin"


@pytest.fixture(scope="module")
def hub_layout(tiny_hf_checkpoint, tmp_path_factory) -> Path:
    """The tiny checkpoint as SaProt's hub repos hold it: pickled weights, no safetensors."""
    from safetensors.torch import load_file

    folder = tmp_path_factory.mktemp("hub-repo")
    for name in ("config.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy2(tiny_hf_checkpoint / name, folder / name)
    torch.save(load_file(str(tiny_hf_checkpoint / "model.safetensors")), folder / WEIGHTS)
    return folder


@pytest.fixture
def entry() -> dict:
    from saprot_scan.models.registry import registry

    return registry()[NAME]


@pytest.fixture
def hub(hub_layout, entry):
    with FakeHub.from_folder(entry["repo"], entry["revision"], hub_layout, lifetime=600) as server:
        yield server


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


def _env(hub: FakeHub, cache: Path, token: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(SAPROT_SCAN_CACHE=str(cache), HF_ENDPOINT=hub.url, HF_HUB_OFFLINE="0", HF_HOME=str(cache / "hf-home"),
               HF_HUB_DISABLE_TELEMETRY="1", PYTHONUNBUFFERED="1")
    if token:
        env["HF_TOKEN"] = token
    return env


def _fetch(hub: FakeHub, cache: Path, token: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "saprot_scan", "models", "fetch", NAME], capture_output=True,
                          text=True, env=_env(hub, cache, token), timeout=600)


def _start_fetch(hub: FakeHub, cache: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "saprot_scan", "models", "fetch", NAME], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(hub, cache))


def _part(cache: Path) -> Path | None:
    found = list((cache / "models").glob(f".{NAME}.work/download-*/{WEIGHTS}.part"))
    return found[0] if found else None


def _wait_for_bytes(cache: Path, proc: subprocess.Popen) -> Path:
    end = time.monotonic() + 120  # hang guard
    while time.monotonic() < end and proc.poll() is None:
        part = _part(cache)
        if part is not None and part.stat().st_size > 0:
            return part
        time.sleep(0.02)
    raise AssertionError(f"no bytes arrived (exit {proc.poll()})")


def _listed(cache: Path) -> list[str]:
    models = cache / "models"
    return sorted(p.name for p in models.iterdir() if not p.name.startswith(".")) if models.is_dir() else []


def _one_error_line(run: subprocess.CompletedProcess) -> str:
    errors = [line for line in run.stderr.splitlines() if line.startswith("saprot-scan: error: ")]
    assert len(errors) == 1 and "Traceback" not in run.stderr, run.stderr
    return errors[0]


def _store_ranges(hub: FakeHub) -> list[str | None]:
    return [r["range"] for r in hub.requests if r["path"].startswith("/store/") and r["method"] == "GET"]


def _assert_cached_from_hub(cache: Path, hub: FakeHub) -> None:
    manifest = json.loads((cache / "models" / NAME / "manifest.json").read_text())
    assert manifest["files"][WEIGHTS] == hub.sha256[WEIGHTS]
    assert manifest["revision"] == hub.revision and manifest["max_abs_logit_diff"] < 1e-4
    assert _listed(cache) == [NAME]
    assert not (cache / "models" / f".{NAME}.work").exists()


def test_the_stand_in_speaks_huggingface_hubs_protocol(hub, tmp_path):
    """huggingface_hub's own model_info, hf_hub_download and snapshot_download (HEAD, LFS redirect,
    X-Linked-*) work against it."""
    from huggingface_hub import HfApi, hf_hub_download, snapshot_download

    info = HfApi(endpoint=hub.url).model_info(hub.repo, revision=hub.revision, files_metadata=True)
    weights = next(s for s in info.siblings if s.rfilename == WEIGHTS)
    assert weights.lfs is not None and weights.lfs.sha256 == hub.sha256[WEIGHTS]
    path = hf_hub_download(hub.repo, WEIGHTS, revision=hub.revision, endpoint=hub.url, cache_dir=tmp_path / "hf")
    assert Path(path).read_bytes() == hub.files[WEIGHTS]
    assert any(r["method"] == "HEAD" for r in hub.requests)
    snapshot = Path(snapshot_download(hub.repo, revision=hub.revision, endpoint=hub.url, cache_dir=tmp_path / "snap"))
    assert {p.name: p.read_bytes() for p in snapshot.iterdir()} == hub.files


def test_dropped_connection_resumes_from_the_bytes_on_disk_across_runs(hub, cache):
    size = len(hub.files[WEIGHTS])
    hub.drop_after, hub.drops = size // 5, 3  # every attempt of the first run is cut after a fifth of the file
    first = _fetch(hub, cache, token="hf_test_token")
    assert first.returncode == 1, first.stderr
    line = _one_error_line(first)
    assert "the connection to the Hugging Face hub broke off" in line and "kept, the next fetch continues" in line
    assert _part(cache).stat().st_size == 3 * (size // 5)  # each retry continued where the last one stopped
    assert _listed(cache) == []

    second = _fetch(hub, cache, token="hf_test_token")
    assert second.returncode == 0, second.stderr
    assert "already here, continuing" in second.stderr
    steps = size // 5
    assert _store_ranges(hub) == [None, f"bytes={steps}-", f"bytes={2 * steps}-", f"bytes={3 * steps}-"]
    # the token goes to the hub, never to the file store it redirects to
    assert all(r["authorization"] == "Bearer hf_test_token" for r in hub.requests if "/resolve/" in r["path"])
    assert not any(r["authorization"] for r in hub.requests if r["path"].startswith("/store/"))
    _assert_cached_from_hub(cache, hub)
    for stage in ("downloading saprot-35m from", "downloading pytorch_model.bin", "downloaded saprot-35m",
                  "checking the SHA-256 of 5 files", "cached saprot-35m at"):
        assert f"saprot-scan: {stage}" in second.stderr
    assert "Warning" not in second.stderr and "W1" not in second.stderr  # no third-party warnings or log lines


def test_a_server_that_ignores_range_gets_a_clean_restart(hub, cache):
    """Some proxies answer a ranged GET with the whole file (200): what is on disk is replaced, not appended to."""
    size = len(hub.files[WEIGHTS])
    hub.drop_after, hub.drops = size // 5, 3
    assert _fetch(hub, cache).returncode == 1
    assert _part(cache).stat().st_size == size // 5 * 3
    hub.ranges = False
    rerun = _fetch(hub, cache)
    assert rerun.returncode == 0, rerun.stderr
    assert _store_ranges(hub)[-1] == f"bytes={size // 5 * 3}-"  # asked for the rest, got the whole file
    _assert_cached_from_hub(cache, hub)


def test_corrupted_download_is_refused_and_nothing_is_cached(hub, cache):
    hub.corrupt = {WEIGHTS}
    run = _fetch(hub, cache)
    assert run.returncode == 2
    line = _one_error_line(run)
    assert f"{WEIGHTS}: content hash" in line and "differs from the hub's record" in line and "deleted" in line
    assert _listed(cache) == [] and _part(cache) is None
    assert not list((cache / "models").rglob(WEIGHTS))


def test_missing_revision_says_so_in_one_line(hub_layout, entry, cache):
    with FakeHub.from_folder(entry["repo"], "f" * 40, hub_layout, lifetime=120) as other:
        run = _fetch(other, cache)
    assert run.returncode == 2
    line = _one_error_line(run)
    assert f"no longer has the pinned revision {entry['revision'][:12]}" in line
    assert f"saprot-scan models import FOLDER --name {NAME}" in line
    assert _listed(cache) == []


def test_gated_repo_says_how_to_log_in(hub, cache):
    hub.gated = True
    anonymous = _fetch(hub, cache)
    assert anonymous.returncode == 2
    line = _one_error_line(anonymous)
    assert "gated or private (HTTP 401)" in line and "HF_TOKEN" in line and "hf auth login" in line
    with_token = _fetch(hub, cache, token="hf_without_access")
    assert with_token.returncode == 2
    assert "(HTTP 403); the token in use has no access" in _one_error_line(with_token)
    assert _listed(cache) == []


def test_second_fetch_waits_for_the_first_and_uses_its_result(hub, cache):
    hub.trickle = 0.02
    first = _start_fetch(hub, cache)
    try:
        _wait_for_bytes(cache, first)  # the first holds the lock now
        second = _start_fetch(hub, cache)
        out_second = second.communicate(timeout=600)
        out_first = first.communicate(timeout=600)
    finally:
        first.kill()
    assert first.returncode == 0, out_first[1]
    assert second.returncode == 0, out_second[1]
    assert "in progress; waiting for it to finish" in out_second[1]
    assert "saprot-35m was fetched by the other process" in out_second[1]
    assert len([r for r in hub.requests if r["path"].startswith("/api/models/")]) == 1  # one download only
    _assert_cached_from_hub(cache, hub)


@pytest.mark.skipif(sys.platform == "win32", reason="Ctrl-C is a console event on Windows, not SIGINT")
def test_ctrl_c_stops_the_download_at_once_and_a_rerun_continues(hub, cache):
    hub.trickle = 0.05
    proc = _start_fetch(hub, cache)
    try:
        _wait_for_bytes(cache, proc)
        proc.send_signal(signal.SIGINT)
        # stopped at once: the trickled download is far from done (kept < whole below); the timeout only
        # guards against a hang, so a busy machine does not fail the test on wall-clock time
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "stopped; the bytes downloaded so far are kept" in err and "Traceback" not in err
    kept = _part(cache).stat().st_size
    assert 0 < kept < len(hub.files[WEIGHTS])
    hub.trickle = 0.0
    rerun = _fetch(hub, cache)
    assert rerun.returncode == 0, rerun.stderr
    assert _store_ranges(hub)[-1] == f"bytes={kept}-"
    _assert_cached_from_hub(cache, hub)


VIEWER_FETCH = """
import json, sys
from saprot_scan import fetch_model
lines = []
fetch_model("saprot-35m", progress=False, report=lines.append)
print(json.dumps(lines))
"""


def test_viewers_get_one_line_per_stage_and_nothing_else(hub, cache):
    """What the Fetch buttons run: stage lines go to their callback; nothing reaches the console."""
    run = subprocess.run([sys.executable, "-c", VIEWER_FETCH], capture_output=True, text=True,
                         env=_env(hub, cache), timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # no bar, no third-party warning or log line
    lines = json.loads(run.stdout)
    assert lines[0].startswith("downloading saprot-35m from westlake-repl/SaProt_35M_AF2 at 316cd4017d29")
    assert lines[-1].startswith("cached saprot-35m at")
    assert any(line.startswith("downloading pytorch_model.bin") for line in lines)
    assert all("\n" not in line and "\r" not in line for line in lines)
    _assert_cached_from_hub(cache, hub)
    from saprot_scan.models.fast_copy import cuda_gpu_here

    if not cuda_gpu_here():  # issue 25: the Fetch buttons make the int8 copy a CPU-only machine runs, and say so
        assert any(line.startswith("no CUDA GPU here: making the checked int8 copy") for line in lines)
        assert any(line.startswith("int8 copy kept: ") for line in lines)
        assert (cache / "models" / NAME / f"{NAME}.int8.onnx").is_file()


@pytest.fixture(scope="module")
def other_weights(hub_layout, tmp_path_factory) -> bytes:
    """Weights of another random model of the same shape: what a wrong mirror or a hostile HF_ENDPOINT serves."""
    from saprot_scan.models.architectures import random_checkpoint
    from safetensors.torch import load_file

    folder = random_checkpoint(tmp_path_factory.mktemp("other-model"), "tiny", seed=7)
    path = tmp_path_factory.mktemp("other-bin") / WEIGHTS
    torch.save(load_file(str(folder / "model.safetensors")), path)
    return path.read_bytes()


@pytest.mark.parametrize("listing", ["own-hashes", "no-hashes"])
def test_a_later_fetch_with_other_weights_is_refused(hub_layout, entry, cache, other_weights, listing):
    """Item 9 of issue 27: the server's listing is no defence, it comes from the same server as the files. No
    public source gives SaProt's SHA-256, so the first verified fetch records them; a later fetch of the same
    revision from a server whose weights differ (listed with hashes of its own, or with none) is refused and
    the cached model stays the first one."""
    with FakeHub.from_folder(entry["repo"], entry["revision"], hub_layout, lifetime=600) as first_hub:
        first = _fetch(first_hub, cache)
    assert first.returncode == 0, first.stderr
    assert "no public source pins its files' SHA-256, so this download's are recorded" in first.stderr
    assert "hashes match the hub's records" not in first.stderr
    cached = json.loads((cache / "models" / NAME / "manifest.json").read_text())["files"][WEIGHTS]
    recorded = json.loads((cache / "pinned-hashes.json").read_text())[NAME][entry["revision"]]["files"]
    assert recorded[WEIGHTS] == cached

    files = dict(first_hub.files, **{WEIGHTS: other_weights})
    with FakeHub(entry["repo"], entry["revision"], files, lifetime=600) as wrong:
        if listing == "no-hashes":  # a listing without LFS records: nothing to check the download against
            plain = wrong.model_info
            wrong.model_info = lambda: {**plain(), "siblings": [{k: v for k, v in s.items() if k != "lfs"}
                                                                  for s in plain()["siblings"]]}
        second = _fetch(wrong, cache)
    line = _one_error_line(second)
    assert second.returncode == 2, second.stderr
    assert WEIGHTS in line and "recorded at this revision's first fetch" in line and "HF_ENDPOINT" in line
    assert json.loads((cache / "models" / NAME / "manifest.json").read_text())["files"][WEIGHTS] == cached
    assert _listed(cache) == [NAME]


def test_models_info_names_the_hub_repo_and_revision_as_the_source(hub, cache):
    """Issue 24, item 9: the source is where the model came from, not the temporary download folder."""
    assert _fetch(hub, cache).returncode == 0
    info = subprocess.run([sys.executable, "-m", "saprot_scan", "models", "info", NAME], capture_output=True,
                          text=True, env=_env(hub, cache), timeout=300)
    assert info.returncode == 0, info.stderr
    rows = dict(line.split("\t", 1) for line in info.stdout.splitlines() if "\t" in line)
    assert rows["saprot_scan.source"] == f"{hub.repo}@{hub.revision}"
    assert "download-" not in info.stdout

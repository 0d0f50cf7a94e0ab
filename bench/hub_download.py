"""Benchmark of the weight download of ``models fetch`` (issue 18): what a broken connection costs, and the
download rate, beside huggingface_hub's own ``hf_hub_download`` in the same run. Not a test.

    python bench/hub_download.py               # 256 MB file, prints the table
    python bench/hub_download.py --markdown    # and writes it into BENCHMARKS.md (between the hub markers)

Both clients download one random file, served as an LFS file (redirect to a file store, Range requests) by
the loopback stand-in for the Hugging Face hub that the tests use (tests/support/fake_hub.py), so the numbers
are the clients' own, not a network's. "Broken at 50 %": the store drops the connection half-way through and
then refuses every connection (the network went away) until that run has given up; then the network comes
back and the same download is run again. What the second run has to download again is what a user on a
flaky connection pays for each break (for SaProt 650M's 2.6 GB file, the same fraction of it).
"""
from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARK_START, MARK_END = "<!-- hub-download:start -->", "<!-- hub-download:end -->"
REPO_ID, REVISION, FILE = "bench/SaProt-like", "0123456789abcdef0123456789abcdef01234567", "pytorch_model.bin"
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))
from machine import cpu_name  # noqa: E402
from report import replace_block  # noqa: E402
from support.fake_hub import FakeHub  # noqa: E402


def ours(hub: FakeHub, folder: Path) -> None:
    """saprot-scan's download of one file (models.download), as models fetch calls it."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    from saprot_scan.models.download import RemoteFile, download

    data = hub.files[FILE]
    remote = RemoteFile(FILE, len(data), hub.sha256[FILE], None)
    folder.mkdir(parents=True, exist_ok=True)
    download(hf_hub_url(REPO_ID, FILE, revision=REVISION, endpoint=hub.url), build_hf_headers(), remote,
             folder / FILE)


def theirs(hub: FakeHub, folder: Path) -> None:
    """huggingface_hub's hf_hub_download, the route models fetch took before."""
    from huggingface_hub import hf_hub_download

    hf_hub_download(REPO_ID, FILE, revision=REVISION, endpoint=hub.url, cache_dir=folder)


def measure(client, hub: FakeHub, work: Path) -> dict:
    """Clean download time, then a run broken at 50 % and the rerun: bytes the rerun downloads again."""
    size = len(hub.files[FILE])
    clean = work / "clean"
    hub.served = 0
    start = time.perf_counter()
    client(hub, clean)
    seconds = time.perf_counter() - start
    shutil.rmtree(clean)

    broken = work / "broken"
    hub.drop_after, hub.drops, hub.down_after_drop = size // 2, 1, True
    hub.served = 0
    first_error = None
    try:
        client(hub, broken)
    except BaseException as err:  # noqa: BLE001 - whatever the client raises when the network is gone
        first_error = type(err).__name__
    first = hub.served
    hub.down, hub.down_after_drop = False, False
    hub.served = 0
    client(hub, broken)
    again = hub.served
    shutil.rmtree(broken)
    return {"seconds": seconds, "rate": size / seconds / 1e6, "first": first, "again": again,
            "first_error": first_error, "size": size}


def table(rows: dict, size: int, hub_version: str) -> str:
    lines = ["| client | clean download | rate | broken at 50 %: the failed run got | the rerun downloads again |",
             "|---|---|---|---|---|"]
    for name, row in rows.items():
        lines.append(f"| {name} | {row['seconds']:.2f} s | {row['rate']:.0f} MB/s | "
                     f"{row['first'] / 1e6:.0f} MB ({row['first_error'] or 'no error'}) | "
                     f"{row['again'] / 1e6:.0f} MB ({100 * row['again'] / size:.0f} % of the file) |")
    ratio = rows["hf_hub_download"]["again"] / max(rows["saprot-scan fetch"]["again"], 1)
    lines.append("")
    lines.append(f"After a break half-way, hf_hub_download {hub_version} downloads {ratio:.1f}x as much again as "
                 "saprot-scan's fetch, which continues from the bytes on disk (`FILE.part` + `Range`). The clean "
                 "rates are loopback figures from a pure-Python server, not a network's; saprot-scan's include "
                 "its SHA-256 check against the hub's LFS record (hf_hub_download does not check it).")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--markdown", action="store_true", help="write the table into BENCHMARKS.md")
    args = parser.parse_args()
    import huggingface_hub

    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    size = args.size_mb * 1_000_000
    files = {"config.json": b"{}", FILE: os.urandom(size)}
    work = Path(tempfile.mkdtemp(prefix="hub-download-"))
    try:
        rows = {}
        for name, client in (("saprot-scan fetch", ours), ("hf_hub_download", theirs)):
            with FakeHub(REPO_ID, REVISION, files, lifetime=1800) as hub:
                rows[name] = measure(client, hub, work / name.split()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = table(rows, size, huggingface_hub.__version__)
    print(text)
    if args.markdown:
        when = datetime.date.today().isoformat()
        block = (f"{MARK_START}\n### Downloading weights: a broken connection (issue 18)\n\n"
                 f"`python bench/hub_download.py --size-mb {args.size_mb} --markdown` on {cpu_name()}, {when}; "
                 f"one {args.size_mb} MB file over loopback from the hub stand-in (tests/support/fake_hub.py), "
                 f"huggingface_hub {huggingface_hub.__version__}.\n\n{text}\n{MARK_END}")
        replace_block(REPO / "BENCHMARKS.md", MARK_START, MARK_END, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())

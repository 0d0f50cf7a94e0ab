"""One file from the Hugging Face hub over HTTP, resumable: the bytes that arrived stay in ``FILE.part``.

Why not ``hf_hub_download``: huggingface_hub 2.x deletes its temporary file when a download fails, so a
dropped connection restarted a 2.6 GB checkpoint from byte 0, and its download ignores Ctrl-C until the file
is complete. Here the hub's own helpers give the URL (``hf_hub_url``) and the headers (``build_hf_headers``:
token, user agent), and the standard library does a plain ranged GET, identical under every
huggingface_hub version: whatever is in ``FILE.part`` is asked for again from its end (``Range``), the
hub's redirect to its file store is followed without passing the token on to another host, and each read is
short, so Ctrl-C stops it at once and keeps what arrived.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

CHUNK = 1 << 20
ATTEMPTS = 3  # a connection that drops twice in a row ends the run; the next run continues from the .part file
TIMEOUT_S = 30


@dataclass(frozen=True)
class RemoteFile:
    """A file of a hub repo at a pinned commit, as the hub's model info lists it."""

    name: str
    size: int | None
    sha256: str | None  # Git LFS files: the SHA-256 the hub recorded at upload
    blob_id: str | None  # small files: the Git blob id (SHA-1 of "blob <size>\\0" + content)


class HttpRefusal(Exception):
    """The server answered with an error status (``status``, the hub's ``X-Error-Code``)."""

    def __init__(self, status: int, error_code: str | None, url: str):
        super().__init__(f"HTTP {status}{f' {error_code}' if error_code else ''} for {url}")
        self.status, self.error_code = status, error_code


class ConnectionLost(Exception):
    """The connection failed or closed early ``ATTEMPTS`` times in a row; ``kept`` bytes are on disk."""

    def __init__(self, reason: str, kept: int):
        super().__init__(reason)
        self.kept = kept


class Damaged(Exception):
    """The complete file's hash disagrees with the hub's record (the file was deleted)."""


class _NoTokenElsewhere(urllib.request.HTTPRedirectHandler):
    """Follow redirects (relative ones too), dropping the Authorization header when the host changes."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


def _opener() -> urllib.request.OpenerDirector:
    try:
        import certifi  # the CA bundle huggingface_hub's own HTTP client uses

        context = ssl.create_default_context(cafile=certifi.where())
    except ImportError:
        context = ssl.create_default_context()
    return urllib.request.build_opener(_NoTokenElsewhere(), urllib.request.HTTPSHandler(context=context))


def git_blob_id(path: Path) -> str:
    """Git's id of a file's content, which the hub lists for files not kept in LFS."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, remote: RemoteFile) -> None:
    from saprot_scan.models.hashing import sha256_file

    if remote.sha256:
        want, got = remote.sha256, sha256_file(path)
    elif remote.blob_id:
        want, got = remote.blob_id, git_blob_id(path)
    else:
        return
    if got != want:
        path.unlink()
        raise Damaged(f"{remote.name}: content hash {got[:12]}... differs from the hub's record {want[:12]}...")


def _read_into(response, handle, on_bytes: Callable[[int], None]) -> None:
    """Copy what arrives as it arrives (``read1``: no waiting for a full block), so progress is live and an
    interruption loses at most one network read."""
    while True:
        block = response.read1(CHUNK)
        if not block:
            return
        handle.write(block)
        on_bytes(len(block))


def _one_request(url: str, headers: dict[str, str], part: Path, on_bytes: Callable[[int], None],
                 timeout: float = TIMEOUT_S) -> None:
    """GET ``url`` from the end of ``part``; append what arrives (or start over if the server ignores Range)."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers=dict(headers, **({"Range": f"bytes={have}-"} if have else {})))
    try:
        response = _opener().open(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # asked past the end: what is on disk is not a prefix of this file
            part.unlink()
            raise ConnectionError("the partial file did not fit the remote one; starting over") from None
        raise HttpRefusal(err.code, err.headers.get("X-Error-Code"), url) from None
    with response:
        resumed = response.status == 206 and str(response.headers.get("Content-Range", "")).startswith(
            f"bytes {have}-")
        if have and not resumed:
            on_bytes(-have)
        with open(part, "ab" if resumed else "wb") as handle:
            _read_into(response, handle, on_bytes)


def download(url: str, headers: dict[str, str], remote: RemoteFile, target: Path,
             on_bytes: Callable[[int], None] = lambda n: None, timeout: float = TIMEOUT_S) -> None:
    """Download ``remote`` to ``target`` through ``target.part``; check size and hash; then rename it.

    ``on_bytes`` gets each block's size (negative when a server ignored Range and the file restarts);
    ``timeout`` is the seconds one network wait may take.
    Raises HttpRefusal, ConnectionLost (bytes kept for the next call) or Damaged (nothing kept).
    """
    part = target.with_name(target.name + ".part")
    for attempt in range(1, ATTEMPTS + 1):
        have = part.stat().st_size if part.exists() else 0
        if remote.size is not None and have > remote.size:
            part.unlink()
            on_bytes(-have)
        if remote.size is None or have != remote.size:
            try:
                _one_request(url, headers, part, on_bytes, timeout)
            except (OSError, http.client.HTTPException) as err:  # refused, reset, timed out, closed early
                if attempt == ATTEMPTS:
                    kept = part.stat().st_size if part.exists() else 0
                    raise ConnectionLost(_reason(err), kept) from None
                time.sleep(0.5 * attempt)
                continue
        size = part.stat().st_size if part.exists() else 0
        if remote.size is None or size == remote.size:
            _verify(part, remote)
            os.replace(part, target)
            return
    kept = part.stat().st_size if part.exists() else 0
    raise ConnectionLost(f"the connection closed after {kept} of {remote.size} bytes", kept)


def _reason(err: BaseException) -> str:
    if isinstance(err, urllib.error.URLError) and err.reason is not None:
        err = err.reason if isinstance(err.reason, BaseException) else OSError(str(err.reason))
    if isinstance(err, http.client.IncompleteRead):
        return "the connection closed before the file was complete"
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:160]}" if text else type(err).__name__

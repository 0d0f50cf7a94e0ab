"""A stand-in for the Hugging Face hub on 127.0.0.1: the HTTP that huggingface_hub and ``models fetch`` speak.

It serves one repo at one commit, the way huggingface.co does (read from huggingface_hub's own client code:
``HfApi.model_info``, ``get_hf_file_metadata``, ``http_get``):
- ``GET /api/models/{repo}/revision/{rev}?blobs=True``: model info whose ``siblings`` carry size, Git blob id
  and, for LFS files, ``lfs.sha256``; ``GET /api/models/{repo}/tree/{rev}``: the file listing;
- ``GET|HEAD /{repo}/resolve/{rev}/{file}``: small files directly (``ETag`` = blob id), LFS files as a 302 to a
  content-addressed file store (``/store/{sha256}``, another host name in the URL: ``localhost`` instead of
  ``127.0.0.1``), with ``X-Repo-Commit``, ``X-Linked-Etag`` and ``X-Linked-Size``;
- the store answers ``Range`` requests with 206.
Errors carry the hub's ``X-Error-Code`` (RevisionNotFound, EntryNotFound, GatedRepo).

Faults (attributes, changeable while it runs): ``drop_after`` (close the connection after N body bytes, for
the next ``drops`` store requests), ``down`` (the store closes every connection; ``down_after_drop`` sets it
after a drop: the network went away), ``ranges`` (False: Range ignored, 200 with the whole file), ``corrupt`` (file names served with one byte flipped), ``gated`` (401
without a token, 403 with one), ``trickle`` (seconds between 1 KiB blocks). ``requests`` logs what arrived,
``served`` counts the store's body bytes.
It listens on 127.0.0.1 only and shuts itself down after ``lifetime`` seconds.
Standard library only.
"""
from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LFS_THRESHOLD = 10_000  # files at least this large are stored in LFS (the real hub uses 10 MB)


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


class FakeHub:
    def __init__(self, repo: str, revision: str, files: dict[str, bytes], lifetime: float = 600.0):
        self.repo, self.revision, self.files = repo, revision, dict(files)
        self.sha256 = {name: hashlib.sha256(data).hexdigest() for name, data in self.files.items()}
        self.drop_after: int | None = None
        self.drops = 0
        self.corrupt: set[str] = set()
        self.gated = False
        self.trickle = 0.0
        self.ranges = True  # False: the store ignores Range and always sends the whole file (some proxies do)
        self.down = False  # the file store closes every connection at once (the network is gone)
        self.down_after_drop = False  # set ``down`` once a connection has been dropped
        self.served = 0  # body bytes the file store sent
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    @classmethod
    def from_folder(cls, repo: str, revision: str, folder: Path, **kwargs) -> "FakeHub":
        return cls(repo, revision, {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()},
                   **kwargs)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "FakeHub":
        self._thread.start()
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    def log(self, **entry) -> None:
        with self._lock:
            self.requests.append(entry)

    def count(self, sent: int) -> None:
        with self._lock:
            self.served += sent

    def take_drop(self) -> int | None:
        """The byte count after which to drop this response, if a drop is still owed."""
        with self._lock:
            if self.drop_after is None or self.drops <= 0:
                return None
            self.drops -= 1
            return self.drop_after

    def is_lfs(self, name: str) -> bool:
        return len(self.files[name]) >= LFS_THRESHOLD

    def tree(self) -> list[dict]:
        """The repo's file listing (``/api/models/{repo}/tree/{rev}``, what snapshot_download reads)."""
        entries = []
        for name, data in self.files.items():
            entry = {"type": "file", "oid": _blob_id(data), "size": len(data), "path": name}
            if self.is_lfs(name):
                entry["lfs"] = {"oid": self.sha256[name], "size": len(data), "pointerSize": 134}
            entries.append(entry)
        return entries

    def model_info(self) -> dict:
        siblings = []
        for name, data in self.files.items():
            sibling = {"rfilename": name, "size": len(data), "blobId": _blob_id(data)}
            if self.is_lfs(name):
                sibling["lfs"] = {"size": len(data), "sha256": self.sha256[name], "pointerSize": 134}
            siblings.append(sibling)
        return {"_id": "0" * 24, "id": self.repo, "modelId": self.repo, "sha": self.revision, "private": False,
                "gated": "manual" if self.gated else False, "disabled": False, "downloads": 0, "likes": 0,
                "tags": ["pytorch", "esm"], "library_name": "transformers", "siblings": siblings,
                "lastModified": "2024-01-01T00:00:00.000Z", "createdAt": "2023-10-30T00:00:00.000Z"}


def _handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: the test reads hub.requests
            pass

        def do_HEAD(self) -> None:
            self._route(body=False)

        def do_GET(self) -> None:
            self._route(body=True)

        def _route(self, body: bool) -> None:
            url = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(url.path)
            hub.log(method=self.command, path=path, range=self.headers.get("Range"),
                    authorization=self.headers.get("Authorization"))
            api = f"/api/models/{hub.repo}/revision/"
            tree = f"/api/models/{hub.repo}/tree/"
            resolve = f"/{hub.repo}/resolve/"
            if path.startswith(tree):
                if path[len(tree):].rstrip("/") != hub.revision:
                    return self._error(404, "RevisionNotFound", f"Invalid rev id: {path[len(tree):]}")
                return self._send(200, json.dumps(hub.tree()).encode(), body, {"Content-Type": "application/json"})
            if path.startswith(api):
                if path[len(api):] != hub.revision:
                    return self._error(404, "RevisionNotFound", f"Invalid rev id: {path[len(api):]}")
                return self._send(200, json.dumps(hub.model_info()).encode(), body,
                                  {"Content-Type": "application/json"})
            if path.startswith(resolve):
                revision, _, name = path[len(resolve):].partition("/")
                return self._resolve(revision, name, body)
            if path.startswith("/store/"):
                return self._store(path[len("/store/"):], body)
            return self._error(404, "RepoNotFound", "Repository not found")

        def _resolve(self, revision: str, name: str, body: bool) -> None:
            if revision != hub.revision:
                return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            if hub.gated:
                status = 403 if self.headers.get("Authorization") else 401
                return self._error(status, "GatedRepo", f"Access to model {hub.repo} is restricted.")
            if name not in hub.files:
                return self._error(404, "EntryNotFound", f"{name} does not exist on \"{revision}\"")
            data = hub.files[name]
            common = {"X-Repo-Commit": hub.revision, "Accept-Ranges": "bytes"}
            if not hub.is_lfs(name):
                return self._send(200, data, body, dict(common, ETag=f'"{_blob_id(data)}"'))
            store = f"http://localhost:{hub.port}/store/{hub.sha256[name]}?name={urllib.parse.quote(name)}"
            self._send(302, b"", body, dict(common, Location=store, ETag=f'"{_blob_id(data)}"',
                                             **{"X-Linked-Etag": f'"{hub.sha256[name]}"',
                                                "X-Linked-Size": str(len(data))}))

        def _store(self, sha: str, body: bool) -> None:
            if hub.down:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            names = [n for n, digest in hub.sha256.items() if digest == sha.split("?")[0]]
            if not names:
                return self._error(404, None, "no such object")
            name = names[0]
            data = hub.files[name]
            if name in hub.corrupt:
                data = data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF]) + data[len(data) // 2 + 1:]
            start, status, extra = 0, 200, {}
            wanted = self.headers.get("Range")
            if hub.ranges and wanted and wanted.startswith("bytes=") and wanted.endswith("-"):
                start = int(wanted[len("bytes="):-1])
                if start >= len(data):
                    return self._error(416, None, "range not satisfiable")
                status, extra = 206, {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
            part = data[start:]
            headers = dict(extra, ETag=f'"{hub.sha256[name]}"', **{"Accept-Ranges": "bytes",
                                                                     "Content-Type": "application/octet-stream"})
            drop = hub.take_drop() if body else None
            self._send(status, part, body, headers, drop=drop, count=True)
            if drop is not None and hub.down_after_drop:
                hub.down = True

        def _error(self, status: int, code: str | None, message: str) -> None:
            headers = {"Content-Type": "application/json", "X-Error-Message": message}
            if code:
                headers["X-Error-Code"] = code
            self._send(status, json.dumps({"error": message}).encode(), True, headers)

        def _send(self, status: int, data: bytes, body: bool, headers: dict, drop: int | None = None,
                  count: bool = False) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not body:
                return
            try:
                limit = len(data) if drop is None else min(drop, len(data))
                step = 1024 if hub.trickle else 1 << 16
                for offset in range(0, limit, step):
                    self.wfile.write(data[offset:min(offset + step, limit)])
                    self.wfile.flush()
                    if count:
                        hub.count(min(offset + step, limit) - offset)
                    if hub.trickle:
                        time.sleep(hub.trickle)
                if drop is not None:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
            except (BrokenPipeError, ConnectionResetError):  # the client went away (Ctrl-C)
                self.close_connection = True

    return Handler

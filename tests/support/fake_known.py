"""A stand-in for the EBI Proteins API and AlphaFold DB's file store on 127.0.0.1, serving known-variant files
at the paths the real services use: ``GET /proteins/api/variation/{ACC}`` (JSON) and
``GET /files/AF-{ACC}-F1-aa-substitutions.csv``. An accession it does not hold is a 404, as on the services.

Faults (attributes, changeable while it runs): ``delay`` (seconds to wait before answering: a timeout for a
client that waits less). ``requests`` logs the paths asked for. It listens on 127.0.0.1 only and shuts itself
down after ``lifetime`` seconds. Standard library only.
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from support.fake_hub import FakeHub


class FakeKnownServer(FakeHub):
    """Started, stopped and addressed as the hub stand-in is (``url``, ``with``, ``stop``)."""

    def __init__(self, variation: dict[str, bytes], alphamissense: dict[str, bytes], lifetime: float = 120.0):
        self.files = {f"/proteins/api/variation/{acc}": (data, "application/json") for acc, data in variation.items()}
        self.files.update({f"/files/AF-{acc}-F1-aa-substitutions.csv": (data, "text/csv")
                           for acc, data in alphamissense.items()})
        self.delay = 0.0
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    def environment(self) -> dict[str, str]:
        """The variables that point saprot-scan at this server."""
        return {"SAPROT_SCAN_UNIPROT_URL": f"{self.url}/proteins/api",
                "SAPROT_SCAN_ALPHAFOLD_URL": f"{self.url}/files"}


def _handler(server: FakeKnownServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            server.requests.append(self.path)
            if server.delay:
                time.sleep(server.delay)
            found = server.files.get(self.path.split("?")[0])
            if found is None:
                body = b'{"requestedURL": "%s", "errorMessage": ["Can not find accession"]}' % self.path.encode()
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
            else:
                body, kind = found
                self.send_response(200)
                self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler

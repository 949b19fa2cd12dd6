"""A stand-in for a student's single-user server in the hub end-to-end test.

The hub starts it exactly as it would start jupyterhub-singleuser (same environment,
same token with `server_token_scopes`). It records that environment for the test,
which then runs the student's code in a fresh Python process with it, and answers
HTTP so that the hub sees the server as up.
"""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

KEPT = ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "JUPYTERHUB_USER",
        "KIT_SERVICE_URL", "JUPYTERHUB_SERVICE_URL")  # fmt: skip


class _Up(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    """Record the environment, then serve until the hub stops this server."""
    record = {key: os.environ.get(key) for key in KEPT}
    folder = Path(os.environ["E2E_ENV_DIR"])
    target = folder / f"{os.environ['JUPYTERHUB_USER']}.json"
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(record))
    os.replace(partial, target)
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    try:
        ThreadingHTTPServer((url.hostname, url.port), _Up).serve_forever()
    except KeyboardInterrupt:  # the hub stops servers with SIGINT
        pass


if __name__ == "__main__":
    main()

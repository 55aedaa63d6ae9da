#!/usr/bin/env python3
"""details: the facts about a book, over HTTP. Python's standard library only
(http.server, json): the mesh asks nothing of an app, not even its language.

  GET /details/0  -> {"id": 0, "author": "Mary Shelley", ...}
  GET /health     -> ok

Environment:
  POD_IP, PORT  where to listen (0.0.0.0:9080 without them; PORT=0 picks a free port)
"""

import json
import os
import re
import signal
import socket
import sys
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DETAILS = {
    0: {
        "id": 0,
        "author": "Mary Shelley",
        "year": 1818,
        "type": "paperback",
        "pages": 280,
        "publisher": "Lackington, Hughes, Harding, Mavor & Jones (first edition)",
        "language": "English",
    },
}

PATH = re.compile(r"^/details/(\d{1,9})$")


def listen_port():
    raw = os.environ.get("PORT", "")
    if raw == "":
        return 9080
    if not raw.isdigit() or int(raw) > 65535:
        sys.stderr.write(f"PORT={raw!r}: expected an integer from 0 to 65535\n")
        sys.exit(2)
    return int(raw)


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open: the sidecar in front pools them.
    protocol_version = "HTTP/1.1"
    server_version = "details"
    sys_version = ""
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle and the
    # peer's delayed ACK hold the body back ~40 ms on every kept-alive request.
    disable_nagle_algorithm = True
    # A connection that sends nothing for this long gives its thread back.
    timeout = 60

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            return self.send(200, "ok\n", "text/plain; charset=utf-8")
        m = PATH.match(path)
        if not m:
            return self.send_json(404, {"error": f"no such resource: GET {path}"})
        book = DETAILS.get(int(m.group(1)))
        if book is None:
            return self.send_json(404, {"error": f"no details for product {m.group(1)}"})
        return self.send_json(200, book)

    def send_json(self, status, body):
        self.send(status, json.dumps(body), "application/json")

    def send(self, status, text, content_type):
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code="-", size="-"):
        # One line per request would drown the logs at the load generator's rate;
        # the sidecar's access log already has every request.
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    host = os.environ.get("POD_IP") or "0.0.0.0"
    port = listen_port()
    if ":" in host:
        Server.address_family = socket.AF_INET6
    try:
        server = Server((host, port), Handler)
    except OSError as err:
        sys.stderr.write(f"details: cannot listen on {host}:{port}: {err.strerror}\n")
        sys.exit(1)

    # SIGTERM (Kubernetes, trellis up) ends serve_forever like Ctrl-C does, and the process exits 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    bound = server.server_address
    # flush: stdout is a pipe under trellis up and kubectl logs, where Python would otherwise hold the line back.
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    print(f"{now} details listening on {bound[0]}:{bound[1]} (HTTP, Python {sys.version.split()[0]})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

"""A scriptable OpenAI-compatible chat server on 127.0.0.1 for the openai backend and judge tests.

`plan` decides each reply from the request body and the request number: return
(status, json_body) or (status, json_body, headers), or "hang" to sleep past the client timeout.
It records every request body and the peak number of requests in flight. GET /v1/models lists
`models` (None: the route answers 404, like a server without it).
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def ok_reply(text: str, tokens: int = 3, finish: str = "stop") -> dict:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": finish}],
            "usage": {"prompt_tokens": 5, "completion_tokens": tokens}}


class FakeServer:
    def __init__(self, plan, delay: float = 0.0, models=("m",)):
        self.plan, self.delay, self.models = plan, delay, models
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
        self.in_flight = self.peak = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.path.rstrip("/") != "/v1/models" or server.models is None:
                    self.send_error(404)
                    return
                data = json.dumps({"object": "list", "data": [{"id": m, "object": "model"}
                                                              for m in server.models]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    n = len(server.bodies)
                    server.bodies.append(body)
                    server.auth.append(self.headers.get("Authorization"))
                    server.in_flight += 1
                    server.peak = max(server.peak, server.in_flight)
                try:
                    time.sleep(server.delay)
                    out = server.plan(body, n)
                    if out == "hang":
                        time.sleep(2.0)
                        return
                finally:
                    # a request stops counting before its answer is sent: once the client has
                    # the answer it may send its next request, and on a busy machine that one
                    # could otherwise arrive before this thread is scheduled again
                    with server.lock:
                        server.in_flight -= 1
                status, payload, *rest = out
                data = json.dumps(payload).encode()
                self.send_response(status)
                for k, v in (rest[0] if rest else {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

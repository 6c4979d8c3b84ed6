"""Helpers for the act-and-report tests: a real local HTTP receiver, queueing, user reports.

All content is synthetic, short and schematic (see the brief's data rules):
fictional accounts (example_…), example.com, no real people.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from haris.model import stable_id
from haris.review import workflow as wf

PW = "a long enough password"
# For tests of rendering and command-line wrappers, whose store queries other tests cover on both backends.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)     # a Monday


class Receiver:
    """A real HTTP server on 127.0.0.1 whose paths fail, hang, redirect in a loop or succeed."""

    def __init__(self):
        self.requests: list[dict] = []
        self.flaky_failures = 0          # /flaky fails this many times, then succeeds
        self.slow_seconds = 1.5
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            wbufsize = 1 << 16         # status, headers and body in one write (no delayed-ACK stalls)

            def log_message(self, *args):   # keep test output clean
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                              "at": time.time()})
                    flaky = receiver.flaky_failures
                    if self.path.startswith("/flaky") and flaky > 0:
                        receiver.flaky_failures -= 1
                path = self.path.split("?")[0]
                if path == "/fail" or (path == "/flaky" and flaky > 0):
                    return self._send(500, b"receiver broke")
                if path == "/slow":
                    time.sleep(receiver.slow_seconds)
                    return self._send(200, b"late")
                if path == "/loop":
                    return self._send(302, b"", {"Location": "/loop"})
                if path == "/gone":
                    return self._send(410, b"no such hook")
                if path.startswith("/ncmec/"):
                    return self._ncmec(path.rsplit("/", 1)[1])
                if path.startswith("/ncmec-bad/"):
                    return self._send(200, b"<reportResponse><responseCode>1000</responseCode>"
                                           b"<responseDescription>Server error</responseDescription></reportResponse>")
                return self._send(200, b'{"ok": true}')

            def _ncmec(self, step):
                if step == "finish":
                    return self._send(200, b"<reportDoneResponse><responseCode>0</responseCode>"
                                           b"<reportId>4242</reportId></reportDoneResponse>")
                return self._send(200, b"<reportResponse><responseCode>0</responseCode><responseDescription/>"
                                       b"<reportId>4242</reportId></reportResponse>")

            def _send(self, code, body, headers=None):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def to(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"].split("?")[0] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def queue_item(store, item_id, kind="message", policy="trafficking", priority="high", source="proactive"):
    with store.begin() as conn:
        return wf.enqueue(conn, item_id, kind, {"action": "queue", "priority": priority, "queue": policy},
                          policy=policy, score=0.9, source=source)


def add_user_report(store, *, platform="telegram", callback_url=None, category="trafficking", item="41"):
    """A user report row and its review item, as POST /v1/reports writes them."""
    from haris.service.tables import user_reports

    rid = stable_id("rep", platform, item, "reporter", datetime.now(timezone.utc).isoformat())
    with store.begin() as conn:
        conn.execute(user_reports.insert().values(id=rid, platform=platform, reporter="user_example", item_id=item,
                                                  account_id="1001", category=category, text="they sell people",
                                                  callback_url=callback_url, status="open",
                                                  created_at=datetime.now(timezone.utc)))
        review = wf.enqueue(conn, rid, "report", {"action": "queue", "priority": "high", "queue": "user-reports"},
                            policy=category, score=None, source="user_report")
    return rid, review


def body_json(request: dict) -> dict:
    return json.loads(request["body"])

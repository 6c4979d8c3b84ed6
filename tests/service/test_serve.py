"""`haris serve --workers 2`: real processes sharing a port with SO_REUSEPORT, stopped by SIGTERM."""
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from haris.service import auth
from haris.store.db import Store

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT (Linux, BSD)")
HARIS = [sys.executable, "-c", "from haris.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(log, pattern: str, count: int, proc: subprocess.Popen, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        if len(re.findall(pattern, text)) >= count:
            return text
        assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{text}"
        time.sleep(0.2)
    raise AssertionError(f"no {count} x {pattern!r} in {timeout} s:\n{log.read_text()}")


def test_two_workers_answer_on_one_port_and_stop_cleanly_on_sigterm(sqlite_url, tmp_path):
    store = Store.open(sqlite_url)
    _key, secret = auth.create_api_key(store, "platform", ["items:write"])
    store.dispose()
    port, log = _free_port(), tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*HARIS, "--db", sqlite_url, "serve", "--port", str(port), "--workers", "2",
                                 "--no-access-log"], stdout=out, stderr=subprocess.STDOUT)
    try:
        text = _wait_for(log, r"Application startup complete", 2, proc)
        assert len(set(re.findall(r"Started server process \[(\d+)\]", text))) == 2
        item = {"id": "p-1", "platform": "example", "text": "Selling my car, 2015 model, $12,500"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            r = client.post("/v1/items", json=item, headers={"Authorization": f"Bearer {secret}"})
            assert r.status_code == 200, r.text
            assert r.json()["platform_id"] == "p-1" and r.json()["decision"]["action"] == "none"
            assert client.post("/v1/items", json=item,
                               headers={"Authorization": "Bearer hk_wrong_key"}).status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()
        assert log.read_text().count("Application shutdown complete") == 2
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_port_in_use_fails_at_once_with_a_clear_error(sqlite_url, tmp_path):
    with socket.socket() as taken:               # an ordinary listener, without SO_REUSEPORT
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([*HARIS, "--db", sqlite_url, "serve", "--port", str(port), "--workers", "2"],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not run on Windows")
def test_the_server_runs_on_the_c_http_parser_and_the_libuv_loop():
    # Both are dependencies for their speed (docs/console.md, Performance); uvicorn silently falls back to
    # h11 and asyncio's loop when they are missing, which costs ~15% of the CPU an item.
    import asyncio

    import uvicorn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    async def app(scope, receive, send):  # pragma: no cover - never called
        pass

    config = uvicorn.Config(app, log_level="warning")
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    loop = config.get_loop_factory()()
    try:
        assert type(loop).__module__.startswith("uvloop"), type(loop)
    finally:
        loop.close()
    assert isinstance(loop, asyncio.AbstractEventLoop)

"""Running the service: one uvicorn process, or several that share the port evenly.

With ``--workers N`` uvicorn binds one socket and lets N processes accept from
it. Keep-alive clients (platform integrations, load balancers) open their
connections once, and the kernel hands each to whichever process is waiting
in ``accept`` at that moment, often the same one: 50 connections were seen
to split 49/1 or 35/15, leaving one process saturated and the other idle.
Here each process binds its own socket with ``SO_REUSEPORT`` instead, and the
kernel spreads new connections across them by a hash of the client's address
and port (Linux, BSD; elsewhere uvicorn's own workers are used).

A worker that dies is not restarted: the others stop and ``serve`` exits
non-zero, for the process manager (systemd, Kubernetes) to restart it whole.
The parent owns the signals: SIGTERM or SIGINT (Ctrl-C) to it asks every
worker to finish its requests in flight and stop (a second one: stop now),
and ``serve`` exits 0 when they all did. Workers ignore the terminal's
SIGINT (the parent forwards it) and stop by themselves if the parent dies.

>>> serve("haris.service.asgi:app", host="127.0.0.1", port=8000, workers=2)   # blocks until stopped
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import sys
import threading
from typing import Any, Iterator

import uvicorn


def serve(app: str, *, host: str, port: int, workers: int = 1, **uvicorn_options: Any) -> int:
    """Serve the ASGI app named by ``app`` (``module:attribute``); returns an exit status."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, host=host, port=port, workers=workers, **uvicorn_options)
        return 0
    # Bound (not listening) for as long as the workers run: a port in use fails here, once, with a clear
    # error; the kernel only gives connections to listening sockets, so this one takes none.
    reserved = _reuseport_socket(host, port)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(app, host, port, uvicorn_options, os.getpid()),
                         name=f"haris-worker-{i}") for i in range(workers)]
    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True
        for p in procs:
            if p.is_alive():
                p.terminate()     # SIGTERM: the worker finishes the requests in flight, then exits

    def clean(p) -> bool:
        # a worker asked to stop while still loading the app dies of the SIGTERM itself: that is a clean stop
        return p.exitcode == 0 or (stopping and p.exitcode == -signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for p in procs:
            if not stopping:
                p.start()
        status = 0
        while any(p.is_alive() for p in procs):
            for p in procs:
                if p.pid is None:            # never started: stopped while the others started
                    continue
                p.join(0.5)
                if p.exitcode is not None and not clean(p) and status == 0:
                    status = 1               # one worker died: stop the others (see the module's doc)
                    stop(None, None)
        if any(p.exitcode is not None and not clean(p) for p in procs):
            status = 1
        return status
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        reserved.close()


def _reuseport_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"cannot listen on {host}:{port}: {exc}") from exc
    return sock


class _WorkerServer(uvicorn.Server):
    """A uvicorn server that stops when the parent says so (SIGTERM) or is gone, and then exits 0.

    uvicorn's own handling would stop at the terminal's Ctrl-C as well (which reaches the whole process
    group, so a worker would see it twice, the second time as "stop now, drop the requests in flight"),
    and would re-raise the signal once stopped, making a clean stop look like a crash to the parent.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        def on_term(_signum, _frame):
            if self.should_exit:
                self.force_exit = True
            self.should_exit = True

        previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
                    signal.SIGTERM: signal.signal(signal.SIGTERM, on_term)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _watch_parent(server: uvicorn.Server, parent: int) -> None:
    # Killed parent (SIGKILL, OOM): nobody would stop this worker, which would keep the port.
    while not server.should_exit:
        if os.getppid() != parent:
            server.should_exit = True
            return
        threading.Event().wait(1.0)


def _worker(app: str, host: str, port: int, uvicorn_options: dict, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)        # the terminal's Ctrl-C: the parent forwards it
    sock = _reuseport_socket(host, port)
    server = _WorkerServer(uvicorn.Config(app, host=host, port=port, **uvicorn_options))
    threading.Thread(target=_watch_parent, args=(server, parent), name="haris-parent-watch", daemon=True).start()
    server.run(sockets=[sock])
    sys.exit(0 if server.started else 3)

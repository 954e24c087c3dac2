"""Query evaluation that can really be stopped: worker processes over read-only checkpoints of the
embedded on-disk store, killed at the deadline.

Why processes: pyoxigraph 0.5 cannot interrupt a running query (no cancellation handle, no signal
checks; ``Store.secondary`` is gone), and a query such as ``COUNT(*)`` over a cross product does all
its work before its first row, so a thread that runs it cannot be stopped. A process can: at the
deadline its worker is killed (SIGKILL) and the CPU it used is free at once; a new worker is forked
when one is next needed.

What the workers read: ``Store.read_only`` documents that opening a store another process writes is
undefined behaviour, so workers never open the live store. They open a *checkpoint* of it
(:meth:`kg.stores.oxigraph.OxigraphStore.checkpoint`: a RocksDB checkpoint, hard links, 3-10 ms on the
shipped graph), which no process writes. The store's ``generation`` says when the checkpoint went
stale: the first query after a write makes a new one (and each worker reopens it, 15-50 ms, once), so
a query always sees every write acknowledged before it arrived. A checkpoint no worker has open any
more is deleted.

Workers are forked from the server process (they share its loaded code, so a worker is ready in
milliseconds), close every inherited file descriptor but their pipe (they must not hold the server's
sockets or its store), and die with the server (``PR_SET_PDEATHSIG``). The callable each query runs is
pickled by reference, so it must be a module-level function taking the store first.

Used by :mod:`api.sparql_endpoint` for ``/sparql`` queries when the store is an on-disk Oxigraph store;
in-memory and remote stores are evaluated in threads as before (see there).
"""
from __future__ import annotations

import ctypes
import itertools
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import Any

from kg.errors import QueryError, QueryTimeoutError
from kg.stores.oxigraph import OxigraphStore

_PR_SET_PDEATHSIG = 1


class PoolClosed(QueryError):
    """The pool is shutting down (the server is stopping)."""


@dataclass
class _Worker:
    pid: int
    conn: Connection
    snapshot: Path | None = None  # the checkpoint this worker has open (None: none yet)
    jobs: int = 0


@dataclass
class PoolStats:
    """Counters for tests and benchmarks: workers forked and killed, checkpoints made."""

    forked: int = 0
    killed: int = 0
    checkpoints: int = 0


@dataclass
class _Snapshot:
    path: Path
    generation: int | None


def _worker_main(conn: Connection) -> None:
    """A worker's whole life: take (checkpoint, function, args), answer its result, until EOF."""
    store: OxigraphStore | None = None
    opened: Path | None = None
    while True:
        try:
            snapshot, fn, args = conn.recv()
        except (EOFError, OSError):
            return
        if snapshot != opened:
            if store is not None:
                store.close()
            store, opened = OxigraphStore.read_only(snapshot), snapshot
        try:
            result: Any = ("ok", fn(store, *args))
        except Exception as e:  # noqa: BLE001 - carried back to the server, which decides
            result = ("error", type(e).__name__, str(e), isinstance(e, QueryError))
        try:
            conn.send(result)
        except (OSError, ValueError):
            return


def _become_worker(conn: Connection, keep: set[int]) -> None:
    """In the forked child: detach from the server's resources, then serve; never returns."""
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C reaches the server, which stops us
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # not Linux: the pipe's EOF still ends an idle worker
            pass
        for fd in _open_fds():
            if fd > 2 and fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        _worker_main(conn)
    finally:
        os._exit(0)  # never run the server's atexit handlers or finalizers in a worker


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 1024))


class QueryPool:
    """At most ``size`` worker processes evaluating over checkpoints of ``store`` (on disk).

    :meth:`run` is blocking (call it from a thread); it waits for an idle worker (forking one while
    fewer than ``size`` exist) until the deadline, runs ``fn(store_view, *args)`` there and returns
    its result. Past the deadline the worker is killed and :class:`kg.errors.QueryTimeoutError` is
    raised; an exception of ``fn`` comes back as :class:`kg.errors.QueryError` (if it was one) or
    RuntimeError.
    """

    def __init__(self, store: OxigraphStore, size: int, snapshot_root: Path | None = None) -> None:
        if store.path is None:
            raise ValueError("a query pool needs an on-disk store (workers read its checkpoints)")
        self.store = store
        self.size = max(1, size)
        self.root = snapshot_root or store.path.with_name(f"{store.path.name}.query-checkpoints")
        shutil.rmtree(self.root, ignore_errors=True)  # left by a server that was killed
        self.root.mkdir(parents=True)
        self.stats = PoolStats()
        self._idle: list[_Worker] = []
        self._busy: set[int] = set()
        self._all: dict[int, _Worker] = {}
        self._cond = threading.Condition()
        self._snapshot_lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._names = itertools.count(1)
        self._closed = False

    # -- checkpoints ----------------------------------------------------------------------------

    def _current_snapshot(self) -> Path:
        """A checkpoint holding every write the store had finished when this was called."""
        with self._snapshot_lock:
            generation = self.store.generation
            if self._snapshot is None or self._snapshot.generation != generation:
                path = self.root / f"checkpoint-{next(self._names)}"
                self.store.checkpoint(path)
                self.stats.checkpoints += 1
                self._snapshot = _Snapshot(path, generation)
                self._delete_unused_snapshots()
            return self._snapshot.path

    def _delete_unused_snapshots(self) -> None:
        current = self._snapshot.path if self._snapshot else None
        with self._cond:
            in_use = {w.snapshot for w in self._all.values()}
        for path in self.root.iterdir():
            if path != current and path not in in_use:
                shutil.rmtree(path, ignore_errors=True)

    # -- workers --------------------------------------------------------------------------------

    def _fork(self) -> _Worker:
        parent_end, child_end = Pipe(duplex=True)
        pid = os.fork()
        if pid == 0:  # the child
            parent_end.close()
            _become_worker(child_end, {child_end.fileno()})
        child_end.close()
        self.stats.forked += 1
        return _Worker(pid, parent_end)

    def _acquire(self, deadline: float) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise PoolClosed("the server is shutting down")
                if self._idle:
                    worker = self._idle.pop()
                    break
                if len(self._all) < self.size:
                    worker = self._fork()
                    self._all[worker.pid] = worker
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise QueryTimeoutError("every query worker stayed busy until the time limit")
                self._cond.wait(remaining)
            self._busy.add(worker.pid)
            return worker

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            self._busy.discard(worker.pid)
            if self._closed:
                self._kill(worker)
            else:
                self._idle.append(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker) -> None:
        with self._cond:
            self._busy.discard(worker.pid)
            self._kill(worker)
            self._cond.notify()

    def _kill(self, worker: _Worker) -> None:
        """Kill and reap one worker (caller holds the condition); a worker already gone is left alone."""
        if self._all.pop(worker.pid, None) is None:
            return
        try:
            os.kill(worker.pid, signal.SIGKILL)
            self.stats.killed += 1
        except ProcessLookupError:
            pass
        try:
            os.waitpid(worker.pid, 0)
        except ChildProcessError:
            pass
        worker.conn.close()

    # -- running --------------------------------------------------------------------------------

    def run(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> Any:
        """``fn(view, *args)`` in a worker within ``timeout_s`` (waiting for a worker counts)."""
        deadline = time.monotonic() + timeout_s
        worker = self._acquire(deadline)
        try:
            snapshot = self._current_snapshot()
            worker.conn.send((snapshot, fn, args))
            worker.snapshot = snapshot
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                self._discard(worker)  # the query runs on past the limit: stop it for real
                raise QueryTimeoutError(f"query exceeded its {timeout_s:g} s time limit; it was stopped")
            answer = worker.conn.recv()
        except (EOFError, OSError) as e:
            self._discard(worker)
            if self._closed:
                raise PoolClosed("the server is shutting down") from None
            raise QueryError(f"the query worker ended unexpectedly ({type(e).__name__})") from None
        except BaseException:
            if worker.pid in self._busy:
                self._discard(worker)
            raise
        worker.jobs += 1
        self._release(worker)
        if answer[0] == "ok":
            return answer[1]
        _, kind, message, is_query_error = answer
        if is_query_error:
            raise (QueryTimeoutError if kind == QueryTimeoutError.__name__ else QueryError)(message)
        raise RuntimeError(f"{kind}: {message}")

    def workers(self) -> list[int]:
        """The worker processes' ids (alive now)."""
        with self._cond:
            return list(self._all)

    def close(self) -> None:
        """Kill every worker (running queries included) and delete the checkpoints."""
        with self._cond:
            self._closed = True
            for worker in list(self._all.values()):
                self._kill(worker)
            self._idle.clear()
            self._cond.notify_all()
        shutil.rmtree(self.root, ignore_errors=True)

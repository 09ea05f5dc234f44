"""Where parallel work runs: this machine (threads or processes) or a Ray cluster.

Every command that plays, regenerates or trains many independent items (``generate``,
``evaluate``, ``hindsight``, ``benchmark``) calls :func:`map_ordered`: a task function applied to
each item with per-worker state (an env and an agent, say) built once per worker, results
yielded in the items' order. The order and the per-item seeds make the output the same on every
backend and worker count; only where the work runs changes.

- ``local``: one process (``workers=1``); threads for I/O-bound work (LLM users and agents
  waiting on the network), each with its own state; spawned processes for CPU-bound work.
- ``ray``: Ray actors, started once per command (:func:`worker_session`) and reused by its
  maps; each holds the current map's state (and, for I/O-bound work, ``threads`` states served
  by as many threads: the per-worker concurrency limit). An actor killed mid-run is restarted
  and its tasks retried (Ray's ``max_restarts``/``max_task_retries``); results still arrive in
  order. The driver is the only writer of any output: workers return results.

Environment variables that workers need (the API key among them) reach them through Ray's
runtime environment, never as task arguments: :data:`FORWARDED_ENV`.

Why our own map and not ``ray.util.ActorPool``: the pool yields unordered or ordered results but
has no bounded in-flight window with a stop signal and no per-actor thread count; this is a few
lines on top of the actor API.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from .errors import InvalidInput, MissingDependency

T = TypeVar("T")
R = TypeVar("R")

BACKENDS = ("local", "ray")
FORWARDED_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "DIALOGUE_GYM_CACHE_DIR",
    "DIALOGUE_GYM_DATA",
    "HF_HUB_OFFLINE",
    "OMP_NUM_THREADS",
)
"""Variables copied from the driver's environment into every Ray worker's, when set."""


@dataclass(frozen=True)
class Backend:
    """Where work runs: ``local`` or ``ray`` (with the cluster ``address``: ``HOST:PORT``,
    ``auto`` or ``ray://HOST:PORT``; none starts a Ray instance on this machine) and how many
    Ray workers (actors) to use."""

    name: str = "local"
    address: str | None = None
    workers: int = 2

    def __post_init__(self) -> None:
        if self.name not in BACKENDS:
            raise InvalidInput(f"unknown backend {self.name!r}; allowed: {', '.join(BACKENDS)}")
        if self.address is not None and self.name != "ray":
            raise InvalidInput("a Ray address needs the ray backend")
        if self.workers < 1:
            raise InvalidInput(f"workers must be >= 1, got {self.workers}")


LOCAL = Backend()

LOCAL_RAY_CONFIG = {"prestart_worker_first_driver": False, "worker_niceness": 0}
"""Settings of a Ray instance started here: no idle task workers up front (ours are actors),
and workers at normal priority (Ray's default niceness of 15 starved them to a tenth of their
speed beside other busy processes)."""


def check_ray_concurrency(backend: Backend, concurrency: int, io_bound: bool) -> None:
    """On Ray, ``--concurrency`` is the threads per worker for I/O-bound (LLM) work; CPU-bound
    work runs one item per worker (``--workers`` sets the parallelism)."""
    if backend.name == "ray" and concurrency > 1 and not io_bound:
        raise InvalidInput(
            "on Ray, the number of workers sets the parallelism of the embedded simulator; "
            "concurrency (threads per worker) applies to LLM users and agents only"
        )


def map_ordered(
    task: Callable[[Any, T], R],
    items: Iterable[T],
    make_state: Callable[[], Any],
    *,
    workers: int = 1,
    io_bound: bool = False,
    backend: Backend = LOCAL,
    stop: threading.Event | None = None,
) -> Iterator[R]:
    """``task(state, item)`` for every item, in the items' order.

    ``make_state()`` builds a worker's state (called once per local thread or process, once per
    Ray actor thread). ``workers``: local parallelism (threads when ``io_bound``, else processes;
    1 runs here), or, on Ray, threads per actor for ``io_bound`` work. For local processes and
    Ray, ``task`` and ``make_state`` must pickle (module-level functions, ``functools.partial``).
    When ``stop`` is set, no new item starts; items in flight finish and are yielded."""
    items = list(items)
    stop = stop or threading.Event()
    if workers < 1:
        raise InvalidInput(f"workers must be >= 1, got {workers}")
    if not items:
        return iter(())
    if backend.name == "ray":
        return _ray_map(task, items, make_state, workers if io_bound else 1, backend, stop)
    if workers == 1:
        return _serial(task, items, make_state, stop)
    if io_bound:
        return _threads(task, items, make_state, workers, stop)
    return _processes(task, items, make_state, workers, stop)


# -- local ---------------------------------------------------------------------------------------


def _serial(task: Callable, items: list, make_state: Callable, stop: threading.Event) -> Iterator:
    state = make_state()
    for item in items:
        if stop.is_set():
            return
        yield task(state, item)


class _StatePool:
    """``n`` states shared by threads: each call takes one, runs, gives it back."""

    def __init__(self, make_state: Callable[[], Any], n: int) -> None:
        self._q: queue.Queue = queue.Queue()
        for _ in range(n):
            self._q.put(make_state())

    def run(self, task: Callable, item: Any) -> Any:
        state = self._q.get()
        try:
            return task(state, item)
        finally:
            self._q.put(state)


def _threads(
    task: Callable, items: list, make_state: Callable, n: int, stop: threading.Event
) -> Iterator:
    from concurrent.futures import ThreadPoolExecutor

    pool = _StatePool(make_state, n)
    skipped = object()

    def work(item: Any) -> Any:
        return skipped if stop.is_set() else pool.run(task, item)

    with ThreadPoolExecutor(n) as ex:
        for result in ex.map(work, items):
            if result is not skipped:
                yield result


_PROCESS_STATE: dict[str, Any] = {}


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""What caps the math libraries' threads in a process that has not loaded them yet."""


@contextmanager
def _thread_cap(threads: int) -> Iterator[None]:
    """Children spawned inside get at most ``threads`` math threads each, torch's included (it
    reads ``OMP_NUM_THREADS`` when imported), unless the user set the variables, so ``n``
    processes do not ask for ``n`` times the cores."""
    saved = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    for k in THREAD_VARIABLES:
        os.environ.setdefault(k, str(threads))
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)


def _init_process(make_state: Callable) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _PROCESS_STATE["state"] = make_state()


def _in_process(task: Callable, item: Any) -> Any:
    return task(_PROCESS_STATE["state"], item)


def _processes(
    task: Callable, items: list, make_state: Callable, n: int, stop: threading.Event
) -> Iterator:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    threads = max(1, (os.cpu_count() or 1) // n)
    with (
        _thread_cap(threads),
        ctx.Pool(n, initializer=_init_process, initargs=(make_state,)) as pool,
    ):
        chunk = max(1, min(64, len(items) // (n * 8) or 1))
        for result in pool.imap(partial(_in_process, task), items, chunksize=chunk):
            yield result
            if stop.is_set():
                pool.terminate()
                return


# -- Ray -----------------------------------------------------------------------------------------


def runtime_env() -> dict[str, Any]:
    """Ray's runtime environment for this driver's workers: :data:`FORWARDED_ENV` as set here."""
    return {"env_vars": {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}}


def _check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """For a ``HOST:PORT`` address, ``ValueError`` at once if nothing listens there (Ray itself
    retries for minutes)."""
    if address is None or address == "auto" or "://" in address:
        return
    import socket

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInput(
            f"the Ray address must be HOST:PORT, auto or ray://HOST:PORT; got {address!r}"
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise InvalidInput(f"cannot reach the Ray cluster at {address}: {e}") from None


def ray_init(backend: Backend) -> Any:
    """Connect to (or start) Ray once per process, forwarding :data:`FORWARDED_ENV`; returns the
    ``ray`` module."""
    try:
        import ray
    except ImportError:
        raise MissingDependency(
            "the ray backend needs Ray: pip install 'dialogue-gym[ray]' (or 'ray>=2.9')"
        ) from None
    if not ray.is_initialized():
        _check_reachable(backend.address)
        kwargs: dict[str, Any] = {"runtime_env": runtime_env(), "log_to_driver": False}
        if backend.address is None:
            kwargs.update(
                include_dashboard=False,
                num_cpus=max(backend.workers, os.cpu_count()),
                _system_config=LOCAL_RAY_CONFIG,
            )
        # pending tasks of a failed map are cancelled by killing their workers: not news
        os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")
        try:  # "local": a new instance here, never one that happens to run on this machine
            ray.init(address=backend.address or "local", **kwargs)
        except ConnectionError as e:
            raise InvalidInput(f"cannot reach the Ray cluster at {backend.address}: {e}") from None
    return ray


class RayWorker:
    """A Ray actor's body, kept for the driver's whole run (actors start and import the toolkit
    once, not once per command step). Each map sends its ``make_state`` once to the object store;
    a worker builds its ``threads`` states from it when that map's first task arrives (and again
    after Ray restarted it), then runs the map's tasks on them."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.key: str | None = None
        self.pool: _StatePool | None = None
        self.lock = threading.Lock()

    def ready(self) -> bool:
        """Answers once the worker runs (the driver waits for this before sending tasks)."""
        return True

    def run(self, key: str, make_state_ref: list, task: Callable, item: Any) -> Any:
        """``task(state, item)`` on a free state of map ``key`` (``make_state_ref``: a list
        holding the map's ``make_state`` object reference, fetched once per map)."""
        with self.lock:
            if self.key != key:
                import ray

                self.pool = _StatePool(ray.get(make_state_ref[0]), self.threads)
                self.key = key
            pool = self.pool
        return pool.run(task, item)


RESTARTS = 3
"""How often Ray restarts a dead worker and retries its tasks before the run fails."""
READY_TIMEOUT_S = 120.0
"""How long a map waits for its workers to start (a cluster without free CPUs never starts
them)."""

_ACTORS: dict[tuple[str, int], list[Any]] = {}
"""This driver's Ray workers by (Ray job, threads per worker), reused by the maps of one
:func:`worker_session`."""
_SESSIONS = 0


@contextmanager
def worker_session() -> Iterator[None]:
    """Keep Ray workers between the maps inside (the steps of one command: an evaluation and its
    reference agents, the benchmark's baselines and training seeds) and release them at the end,
    so that idle workers hold no cluster CPUs between commands. Outside a session each map
    releases its workers when it ends. Nothing happens on the local backend."""
    global _SESSIONS
    _SESSIONS += 1
    try:
        yield
    finally:
        _SESSIONS -= 1
        if _SESSIONS == 0:
            release_workers()


def release_workers() -> None:
    """Stop this driver's Ray workers (no-op when there are none)."""
    if not _ACTORS:
        return
    import ray

    for actors in _ACTORS.values():
        for a in actors:
            ray.kill(a)
    _ACTORS.clear()


def _workers(ray: Any, n: int, threads: int) -> list[Any]:
    key = (ray.get_runtime_context().get_job_id(), threads)
    actors = _ACTORS.setdefault(key, [])
    cls = ray.remote(RayWorker).options(
        max_restarts=RESTARTS, max_task_retries=RESTARTS, max_concurrency=threads, num_cpus=1
    )  # a killed worker is restarted and its tasks retried; a worker that keeps dying is an error
    while len(actors) < n:
        actors.append(cls.remote(threads))
    refs = [a.ready.remote() for a in actors[:n]]
    ready, waiting = ray.wait(refs, num_returns=n, timeout=READY_TIMEOUT_S)
    if waiting:  # the cluster has no free CPU for them: go on with those that started
        started = set(ready)
        alive = [a for a, r in zip(actors[:n], refs, strict=True) if r in started]
        for a, r in zip(actors[:n], refs, strict=True):
            if r not in started:
                ray.kill(a)
        actors[:] = alive
        if not alive:
            raise InvalidInput(
                f"no Ray worker started within {READY_TIMEOUT_S:.0f} s: the cluster has no free "
                "CPU (each worker asks for one); ask for fewer workers or free the cluster"
            )
        print(
            f"dialogue-gym: only {len(alive)} of {n} Ray workers could start (no free CPU "
            "for more); going on with them",
            file=sys.stderr,
        )
    return actors[: min(n, len(actors))]


def _result(ray: Any, ref: Any) -> Any:
    """A task's result; its own exception as itself (not wrapped in Ray's traceback), and a
    worker that kept dying as a :class:`~dialogue_gym.errors.BackendError` (not a result)."""
    from .errors import BackendError

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        cause = getattr(e, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None
        raise
    except ray.exceptions.RayActorError as e:
        raise BackendError(
            f"a Ray worker died {RESTARTS + 1} times (restarted and retried {RESTARTS} times); "
            f"the last time: {str(e).splitlines()[0]}"
        ) from None


def _ray_map(
    task: Callable,
    items: list,
    make_state: Callable,
    threads: int,
    backend: Backend,
    stop: threading.Event,
) -> Iterator:
    import uuid

    ray = ray_init(backend)
    actors = _workers(ray, min(backend.workers, len(items)), threads)
    key, ref = uuid.uuid4().hex, [ray.put(make_state)]
    window = 2 * len(actors) * threads
    pending: deque = deque()
    try:
        nxt = 0
        while nxt < len(items) or pending:
            while nxt < len(items) and len(pending) < window and not stop.is_set():
                actor = actors[nxt % len(actors)]
                pending.append(actor.run.remote(key, ref, task, items[nxt]))
                nxt += 1
            if not pending:
                break
            yield _result(ray, pending.popleft())
            if stop.is_set() and not pending:
                break
    except BaseException:  # a failed or abandoned map: its workers may still be busy with it
        release_workers()
        raise
    if _SESSIONS == 0:
        release_workers()

"""The job queue: Huey, built per app from its configuration.

Tasks are declared at import time on the unbound :data:`portal.extensions.jobs` (like Flask
commands on a blueprint) and bound to each app's own Huey in ``init_app``; nothing reads the
configuration before ``create_app``. Every task runs inside an application context of the app
that enqueued it, so it uses ``db.session`` and ``current_app.config`` like a command does,
and commits its own work.

A job that fails its last attempt is written to ``job_failures`` (our database, not the queue's
storage) for staff, who can enqueue it again from the back office.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey, Task, TaskWrapper
from huey.signals import SIGNAL_ERROR
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

QUEUE_NAME = "portal"


class JobsNotConfigured(RuntimeError):
    """The queue is used by an app that was built without it."""


class UnknownJob(LookupError):
    """No task of that name (e.g. a failure recorded by an older release)."""


@dataclass(frozen=True, slots=True)
class TaskSpec:
    name: str
    func: Callable[..., Any]
    retries: int = 0
    retry_delay: int = 0
    retry_backoff: float = 0
    schedule: crontab | None = None  # periodic tasks
    tracked: bool = False  # takes a Progress first and keeps a JobRun row up to date


@dataclass
class QueueState:
    """One app's queue: its Huey and the tasks bound to it."""

    app: Flask
    huey: Huey
    tasks: dict[str, TaskWrapper] = field(default_factory=dict)
    specs: dict[str, TaskSpec] = field(default_factory=dict)


class Job:
    """A declared task: ``.enqueue(...)`` puts it on the current app's queue; calling it runs
    it here and now (for commands that do the same work without a consumer)."""

    def __init__(self, queue: JobQueue, spec: TaskSpec) -> None:
        self.queue, self.spec = queue, spec

    @property
    def name(self) -> str:
        return self.spec.name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.spec.func(*args, **kwargs)

    def enqueue(self, *args: Any, **kwargs: Any) -> str:
        return self.queue.enqueue(self.spec.name, *args, **kwargs)


def build_huey(url: str, *, immediate: bool) -> Huey:
    """``sqlite:///path`` (a file; the default lives in the instance folder), ``redis://...``
    (production: shared by every machine) or ``memory://`` (one process only)."""
    if immediate:
        return MemoryHuey(QUEUE_NAME, immediate=True, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(path), results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(QUEUE_NAME, url=url, results=False)
    if url == "memory://":
        return MemoryHuey(QUEUE_NAME, results=False)
    raise ValueError(f"JOBS_URL {url!r}: use sqlite:///path, redis://host:6379/1 or memory://")


class JobQueue:
    """The unbound queue extension (``portal.extensions.jobs``)."""

    def __init__(self) -> None:
        self._specs: dict[str, TaskSpec] = {}
        self._states: list[QueueState] = []

    # --- declaring tasks ----------------------------------------------------------------

    def task(
        self, name: str, *, retries: int = 0, retry_delay: int = 0, retry_backoff: float = 0
    ) -> Callable[[Callable[..., Any]], Job]:
        """A task; a failed attempt is tried again ``retries`` times, ``retry_delay`` seconds
        later, each delay ``retry_backoff`` times the one before."""
        return self._declare(name, retries=retries, retry_delay=retry_delay,
                             retry_backoff=retry_backoff)  # fmt: skip

    def periodic(self, name: str, schedule: crontab) -> Callable[[Callable[..., Any]], Job]:
        """A task the consumer enqueues on ``schedule`` (a Huey ``crontab``). Not retried: the
        next run is the retry."""
        return self._declare(name, schedule=schedule)

    def tracked(
        self, name: str, *, retries: int = 0, retry_delay: int = 0
    ) -> Callable[[Callable[..., Any]], Job]:
        """A long task started from the web with :meth:`start`. It is called with a
        :class:`Progress` first; what it returns (JSON-able) is the run's result."""
        return self._declare(name, retries=retries, retry_delay=retry_delay, tracked=True)

    def _declare(self, name: str, **options: Any) -> Callable[[Callable[..., Any]], Job]:
        def decorator(func: Callable[..., Any]) -> Job:
            if name in self._specs and self._specs[name].func is not func:
                raise ValueError(f"a job named {name!r} exists already")
            spec = TaskSpec(name=name, func=func, **options)
            self._specs[name] = spec
            for state in self._states:
                self._bind(state, spec)
            return Job(self, spec)

        return decorator

    # --- binding to an app --------------------------------------------------------------

    def init_app(self, app: Flask) -> None:
        url = app.config.get("JOBS_URL") or f"sqlite:///{Path(app.instance_path) / 'jobs.sqlite3'}"
        huey = build_huey(url, immediate=bool(app.config.get("JOBS_IMMEDIATE")))
        state = QueueState(app=app, huey=huey)
        huey.signal(SIGNAL_ERROR)(self._failure_recorder(state))
        for spec in self._specs.values():
            self._bind(state, spec)
        app.extensions["jobs"] = state
        self._states.append(state)

    def _bind(self, state: QueueState, spec: TaskSpec) -> None:
        app, huey = state.app, state.huey
        if spec.tracked:
            runner = _tracked_runner(app, spec)
        else:

            def runner(*args: Any, **kwargs: Any) -> Any:
                with app.app_context():
                    return spec.func(*args, **kwargs)

        runner.__name__ = runner.__qualname__ = spec.name
        if spec.schedule is not None:
            wrapper = huey.periodic_task(spec.schedule, name=spec.name)(runner)
        else:
            wrapper = huey.task(
                name=spec.name,
                retries=spec.retries,
                retry_delay=spec.retry_delay,
                retry_backoff=spec.retry_backoff,
                context=spec.tracked,
            )(runner)
        state.tasks[spec.name] = wrapper
        state.specs[spec.name] = spec

    def _failure_recorder(self, state: QueueState) -> Callable[..., None]:
        app = state.app

        def record(signal: str, task: Task, exc: BaseException | None = None) -> None:
            if task.retries:
                return  # tried again later: not a failure yet
            from portal.extensions import db
            from portal.services.reporting.jobs import record_failure

            spec = state.specs.get(task.name)
            kwargs = {k: v for k, v in (task.kwargs or {}).items() if k != "task"}
            try:
                with app.app_context():
                    record_failure(
                        db.session,
                        task_id=task.id,
                        task_name=task.name,
                        args=task.args,
                        kwargs=kwargs,
                        error=f"{type(exc).__name__}: {exc}" if exc else "failed",
                        attempts=(spec.retries if spec else 0) + 1,
                        now=datetime.now(UTC),
                    )
                    db.session.commit()
            except Exception:
                log.exception("could not record the failure of job %s (%s)", task.id, task.name)

        return record

    # --- using it -----------------------------------------------------------------------

    def state(self, app: Flask | None = None) -> QueueState:
        app = app or current_app._get_current_object()  # type: ignore[attr-defined]
        state = app.extensions.get("jobs")
        if state is None:
            raise JobsNotConfigured("this app has no job queue")
        return state  # type: ignore[no-any-return]

    def huey(self, app: Flask | None = None) -> Huey:
        return self.state(app).huey

    def names(self) -> list[str]:
        return sorted(self._specs)

    def enqueue(self, name: str, *args: Any, **kwargs: Any) -> str:
        """Put job ``name`` on the queue; returns the queue's id for it. Enqueue after
        committing: the consumer (another process) only sees committed rows."""
        state = self.state()
        wrapper = state.tasks.get(name)  # a periodic job too: run now (e.g. a staff retry)
        if wrapper is None:
            raise UnknownJob(name)
        task = wrapper.s(*args, **kwargs)
        state.huey.enqueue(task)
        return str(task.id)

    def start(self, name: str, *args: Any, title: str, started_by: int | None = None) -> str:
        """Start a tracked job: a progress row (committed), then the job. Returns the run's id
        for its page, ``/admin/jobs/<id>``."""
        from portal.extensions import db
        from portal.services.reporting.jobs import new_run

        state = self.state()
        if name not in state.specs or not state.specs[name].tracked:
            raise UnknownJob(name)
        run = new_run(
            db.session, task_name=name, title=title, started_by=started_by,
            now=datetime.now(UTC),
        )  # fmt: skip
        run_id = run.id
        db.session.commit()
        self.enqueue(name, run_id, *args)
        return run_id


@dataclass
class Progress:
    """Handed to a tracked job: ``update(done, total, message)`` as it goes.

    Updates are written at once on a connection of their own, so the page shows them while the
    job's own transaction is still open. On SQLite a transaction holds the file's write lock,
    so an update that cannot get it within a moment is skipped (the final state always
    arrives).
    """

    run_id: str
    app: Flask

    def update(self, done: int, total: int | None = None, message: str | None = None) -> None:
        values: dict[str, Any] = {"done": max(0, done), "updated_at": datetime.now(UTC)}
        if total is not None:
            values["total"] = max(0, total)
        if message is not None:
            values["message"] = message[:500]
        _write_run(self.app, self.run_id, values, patient=False)


def _write_run(app: Flask, run_id: str, values: dict[str, Any], *, patient: bool) -> None:
    from portal.extensions import db
    from portal.models import JobRun

    with app.app_context():
        engine = db.engine
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None, "a live connection"
            impatient = not patient and isinstance(raw, sqlite3.Connection)
            if impatient:
                raw.execute("PRAGMA busy_timeout = 200")
            try:
                with connection.begin():
                    connection.execute(
                        update(JobRun).where(JobRun.id == run_id).values(**values)
                    )
            except OperationalError:
                if not impatient:
                    raise
                log.debug("progress of job run %s skipped: database busy", run_id)
            finally:
                if impatient:
                    raw.execute("PRAGMA busy_timeout = 10000")


def _tracked_runner(app: Flask, spec: TaskSpec) -> Callable[..., Any]:
    from portal.extensions import db
    from portal.models import RunState

    def runner(run_id: str, *args: Any, task: Task | None = None, **kwargs: Any) -> None:
        _write_run(app, run_id, {"state": RunState.RUNNING.value, "error": None,
                                 "finished_at": None, "updated_at": datetime.now(UTC)},
                   patient=True)  # fmt: skip
        try:
            with app.app_context():
                result = spec.func(Progress(run_id, app), *args, **kwargs)
                db.session.commit()
        except Exception as exc:
            final = task is None or not task.retries
            now = datetime.now(UTC)
            _write_run(app, run_id, {
                "state": RunState.FAILED.value if final else RunState.QUEUED.value,
                "error": f"{type(exc).__name__}: {exc}"[:2000],
                "finished_at": now if final else None,
                "updated_at": now,
            }, patient=True)  # fmt: skip
            raise
        now = datetime.now(UTC)
        _write_run(app, run_id, {
            "state": RunState.DONE.value,
            "result": json.dumps(result, default=str, ensure_ascii=False),
            "finished_at": now,
            "updated_at": now,
        }, patient=True)  # fmt: skip
        return None

    return runner

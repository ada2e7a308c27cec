"""Start the app as real gunicorn server processes for tests that need a live server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.factories import CLIENT_ID, SECRET_KEY

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"server did not listen on {port} within {timeout} s")


def server_environment(database_url: str, **extra: str) -> dict[str, str]:
    """Production-style configuration from the environment, as an operator would set it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOKU_", "FLASK_"))}
    env.update(
        SECRET_KEY="live-test-secret",
        DATABASE_URL=database_url,
        DOKU_CLIENT_ID=CLIENT_ID,
        DOKU_SECRET_KEY=SECRET_KEY,
        PUBLIC_BASE_URL="http://127.0.0.1",
        GUNICORN_ACCESSLOG="",
        DOKU_AUTH_FAILURE_LIMIT="1000000 per minute",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@contextmanager
def gunicorn(database_url: str, *, workers: int = 2, **extra_env: str) -> Iterator[str]:
    """A gunicorn master with ``workers`` processes on a free port; yields its base URL."""
    port = free_port()
    env = server_environment(database_url, GUNICORN_BIND=f"127.0.0.1:{port}",
                             WEB_CONCURRENCY=str(workers), **extra_env)  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process, timeout=20)


def stop(process: subprocess.Popen[bytes], *, timeout: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` s; its stderr is shown if it did not end well."""
    process.terminate()
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    if process.returncode not in (0, -15):
        sys.stderr.write(stderr.decode(errors="replace"))


@contextmanager
def job_consumer(database_url: str, **extra_env: str) -> Iterator[subprocess.Popen[bytes]]:
    """The real job consumer (``flask jobs worker``) beside a server, on the same queue
    (pass the same JOBS_URL to both). Stopped with SIGTERM at the end."""
    env = server_environment(database_url, **extra_env)
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker",
         "--workers", "1", "--max-delay", "0.2", "--no-periodic"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield process
    finally:
        stop(process, timeout=30)


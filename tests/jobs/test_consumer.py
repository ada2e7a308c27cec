"""The real consumer process (``flask --app wsgi jobs worker``) does the jobs the web enqueues:
a reset email asked for on /forgot arrives at a real SMTP server, with the embedded queue
(a SQLite file) and with the production broker (Redis, when one answers on 127.0.0.1:6379)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.live import ROOT, server_environment
from tests.policyholder.conftest import csrf_token, make_holder
from tests.smtp import smtp_server

pytestmark = pytest.mark.live


def _wait_for(condition: Any, timeout: float, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.1)
    return bool(condition())


# A database number of its own, so the test's queue meets no other queue on the same Redis.
REDIS_QUEUE = "redis://127.0.0.1:6379/7"


def _queue_url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError:
        pytest.skip("no Redis answers on 127.0.0.1:6379")
    from huey import RedisHuey

    from portal.jobs.queue import QUEUE_NAME

    RedisHuey(QUEUE_NAME, url=REDIS_QUEUE).flush()  # nothing left from an earlier run
    return REDIS_QUEUE


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_the_consumer_process_sends_the_reset_email_the_request_only_enqueued(
    make_app: Any,
    app: Flask,
    session: Session,
    database_url_for_tests: str,
    tmp_path: Path,
    kind: str,
) -> None:
    make_holder(session)
    queue_url = _queue_url(kind, tmp_path)
    web = make_app(JOBS_IMMEDIATE=False, JOBS_URL=queue_url)
    with smtp_server() as inbox:
        env = server_environment(database_url_for_tests, JOBS_URL=queue_url,
                                 MAIL_SERVER=inbox.host, MAIL_PORT=str(inbox.port))  # fmt: skip
        consumer = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker",
             "--workers", "1", "--max-delay", "0.2", "--no-periodic"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            client = web.test_client()
            started = time.monotonic()
            response = client.post(
                "/forgot",
                data={"csrf_token": csrf_token(client, "/forgot"), "email": "budi@example.com"},
            )
            answered = time.monotonic() - started
            assert response.status_code == 200
            arrived = _wait_for(lambda: len(inbox.messages) == 1, 30, consumer)
        finally:
            consumer.send_signal(signal.SIGTERM)
            try:
                output, _ = consumer.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                consumer.kill()
                output, _ = consumer.communicate()
    assert arrived, output.decode(errors="replace")
    message = inbox.only()
    assert message["To"] == "budi@example.com"
    assert "http://127.0.0.1/reset/" in message.get_body(("plain",)).get_content()
    assert answered < 5
    log = output.decode(errors="replace")
    assert "mail.password_reset" in log and "executed in" in log  # by the consumer, not the web
    assert consumer.returncode == 0, output.decode(errors="replace")

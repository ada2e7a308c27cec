"""The command line: help on every command, one clear line for a missing setting (flask and
gunicorn), and the DOKU simulator saying which side failed and why a code was refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.api import simulator
from portal.models import BillState, ReceivedNotification
from tests.factories import live_code, make_bill
from tests.live import ROOT, free_port, server_environment


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((prefix + name, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, prefix + name + " "))
    return found


def test_every_command_group_command_and_option_has_help(app: Flask) -> None:
    commands = _commands(app.cli)
    names = {name for name, _ in commands}
    assert {"bills import", "notify due", "doku reconcile", "doku pay", "jobs worker",
            "admin create", "payments report", "demo seed"} <= names  # fmt: skip
    for name, command in commands:
        assert (command.help or command.short_help or "").strip(), f"flask {name}: no help"
        for param in command.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), f"flask {name} {param.opts[0]}: no help"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )  # fmt: skip


def _without_secret(tmp_path: Path) -> dict[str, str]:
    env = server_environment(f"sqlite:///{tmp_path}/x.sqlite3", PORTAL_INSTANCE_PATH=str(tmp_path))
    del env["SECRET_KEY"]
    return env


def test_a_flask_command_without_a_setting_says_so_in_one_line_and_fails(
    tmp_path: Path,
) -> None:
    result = _run([sys.executable, "-m", "flask", "--app", "wsgi", "doku", "credentials"],
                  _without_secret(tmp_path))  # fmt: skip
    assert result.returncode == 78  # EX_CONFIG: systemd does not restart it in a loop
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "missing SECRET_KEY" in lines[0], result.stderr
    assert "Secret Key" not in result.stdout


def test_flask_help_lists_the_apps_commands_or_says_why_not(tmp_path: Path) -> None:
    configured = server_environment(f"sqlite:///{tmp_path}/x.sqlite3",
                                    PORTAL_INSTANCE_PATH=str(tmp_path))  # fmt: skip
    listed = _run([sys.executable, "-m", "flask", "--app", "wsgi", "--help"], configured)
    assert listed.returncode == 0, listed.stderr
    for group in ("bills", "notify", "doku", "jobs", "admin", "payments", "demo"):
        assert f"  {group} " in listed.stdout, listed.stdout
    unconfigured = _run([sys.executable, "-m", "flask", "--app", "wsgi", "--help"],
                        _without_secret(tmp_path))  # fmt: skip
    assert "Traceback" not in unconfigured.stderr
    assert [line for line in unconfigured.stderr.splitlines() if line.strip()] == [
        line for line in unconfigured.stderr.splitlines() if "missing SECRET_KEY" in line
    ]


@pytest.mark.live
def test_gunicorn_without_a_setting_stops_with_one_clear_line(tmp_path: Path) -> None:
    env = _without_secret(tmp_path)
    env["GUNICORN_BIND"] = f"127.0.0.1:{free_port()}"
    result = _run([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], env)
    assert result.returncode == 78
    assert "Traceback" not in result.stderr
    assert "portal: Cannot start: missing SECRET_KEY" in result.stderr
    assert "Booting worker" not in result.stderr


def test_simulator_shows_why_a_code_is_declined(runner: Any, session: Session) -> None:
    code = live_code(make_bill(session, state=BillState.CANCELLED))
    result = runner.invoke(args=["doku", "inquire", code])
    assert "Status        : decline" in result.output
    assert "Reason        : bill is cancelled" in result.output


def test_simulator_says_when_the_answer_signature_is_wrong(
    runner: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = live_code(make_bill(session))
    real_send = simulator._send

    def tampered(*args: Any) -> simulator.Exchange:
        exchange = real_send(*args)
        return simulator.Exchange(exchange.status, exchange.headers, exchange.body + b" ")

    monkeypatch.setattr(simulator, "_send", tampered)
    result = runner.invoke(args=["doku", "inquire", code])
    assert result.exit_code != 0
    assert "HTTP 200: the server's ANSWER has a WRONG signature" in result.output
    assert "refused OUR request" not in result.output


def _notifications(session: Session) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(ReceivedNotification)) or 0
    session.commit()
    return count


def test_pay_sends_no_notification_after_a_refused_inquiry_unless_forced(
    runner: Any, session: Session
) -> None:
    code = live_code(make_bill(session, policy_status="lapsed"))
    refused = runner.invoke(args=["doku", "pay", code])
    assert refused.exit_code != 0
    assert "the inquiry answered decline (policy status is 'lapsed')" in refused.output
    assert "no notification was sent" in refused.output
    assert _notifications(session) == 0
    forced = runner.invoke(args=["doku", "pay", code, "--force"])
    assert "Notification: SUCCESS" in forced.output, forced.output
    assert _notifications(session) == 1

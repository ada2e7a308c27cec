"""Configuration layers and failing fast on a missing secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from portal import create_app
from portal.config import ConfigError, database_url
from portal.services.traffic.inquiries import InquiryRules
from tests.live import ROOT, server_environment


def test_missing_secrets_stop_start_up_naming_each_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "DOKU_CLIENT_ID", "DOKU_SECRET_KEY", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as caught:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for name in ("SECRET_KEY", "DOKU_CLIENT_ID", "DOKU_SECRET_KEY", "PUBLIC_BASE_URL"):
        assert name in str(caught.value)


def test_environment_configures_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.setenv("DOKU_CLIENT_ID", "MCH-1")
    monkeypatch.setenv("DOKU_SECRET_KEY", "SK-1")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://premi.example.co.id")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/portal")
    monkeypatch.setenv("DOKU_INQUIRY_TARGET", "/alfa/doku/inquiry")
    monkeypatch.setenv("ALFA_MAX_AMOUNT", "9000000")
    monkeypatch.setenv("ACTIVE_POLICY_STATUSES", "aktif, Masa  Tenggang")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/portal"
    assert app.config["DOKU_INQUIRY_TARGET"] == "/alfa/doku/inquiry"
    assert app.config["ALFA_MAX_AMOUNT"] == 9_000_000
    assert app.config["ACTIVE_POLICY_STATUSES"] == ("aktif", "Masa  Tenggang")
    assert InquiryRules.from_config(app.config).payability.payable_statuses == {
        "aktif",
        "masa tenggang",
    }


def test_sqlite_under_instance_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    path = Path(app.instance_path) / "portal.sqlite3"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{path}"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"PAYMENT_CODE_PREFIX": "08"}, "PAYMENT_CODE_PREFIX"),
        ({"PAYMENT_CODE_PREFIX": "88a"}, "PAYMENT_CODE_PREFIX"),
        ({"PAYMENT_CODE_LENGTH": 21}, "PAYMENT_CODE_LENGTH"),
        ({"PAYMENT_CODE_PREFIX": "889612345678", "PAYMENT_CODE_LENGTH": 16}, "8 random digits"),
        ({"ALFA_MIN_AMOUNT": 10, "ALFA_MAX_AMOUNT": 5}, "ALFA_MIN_AMOUNT"),
        ({"DOKU_INQUIRY_TARGET": "doku/inquiry"}, "DOKU_INQUIRY_TARGET"),
        ({"DOKU_NOTIFICATION_TARGET": "/n?x=1"}, "DOKU_NOTIFICATION_TARGET"),
        ({"DEFAULT_FOOTER_MESSAGE": "x" * 121}, "receipt"),
        ({"DEFAULT_INFO": "x" * 33}, "receipt"),
    ],
)
def test_inconsistent_settings_stop_start_up(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", **settings})


def test_bad_number_in_the_environment_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALFA_MAX_AMOUNT", "5 juta")
    with pytest.raises(ConfigError, match="ALFA_MAX_AMOUNT"):
        create_app({"TESTING": True})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_use_psycopg_3(given: str, expected: str) -> None:
    assert database_url(given) == expected


def test_gunicorn_without_secrets_exits_with_a_clear_message(tmp_path: Path) -> None:
    env = server_environment(f"sqlite:///{tmp_path}/x.sqlite3")
    del env["DOKU_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert result.returncode != 0
    assert b"Cannot start: missing DOKU_SECRET_KEY" in result.stderr


def test_a_payable_status_outside_the_vocabulary_stops_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACTIVE_POLICY_STATUSES", "aktif, grace")
    with pytest.raises(ConfigError, match="ACTIVE_POLICY_STATUSES has grace"):
        create_app({"TESTING": True})

"""The import contracts in pyproject.toml bite: a service that reaches for the web layer fails
``lint-imports``, and every Flask extension installed is on the forbidden list."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
WEB_CONTRACT = "Services and models never touch the web layer"


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["importlinter"]["contracts"])


def _web_contract() -> dict[str, object]:
    [contract] = [c for c in _contracts() if str(c["name"]).startswith(WEB_CONTRACT)]
    return contract


def test_every_installed_flask_extension_and_werkzeug_is_forbidden_in_services() -> None:
    forbidden = set(_web_contract()["forbidden_modules"])  # type: ignore[call-overload]
    installed = {
        name
        for name in importlib.metadata.packages_distributions()
        if name.lower().startswith(("flask", "werkzeug", "wtforms"))
    }
    assert installed, "Flask is installed, so this finds at least flask"
    assert installed <= forbidden, f"not forbidden: {sorted(installed - forbidden)}"


@pytest.mark.parametrize(
    ("module", "statement"),
    [
        ("portal/services/billing/probe.py", "from flask_login import current_user"),
        ("portal/services/traffic/probe.py", "from portal.extensions import db"),
        ("portal/models/probe.py", "from werkzeug.exceptions import NotFound"),
        ("portal/services/probe.py", "from portal.web import code_settings"),
    ],
)
def test_a_service_importing_the_web_layer_fails_lint_imports(
    tmp_path: Path, module: str, statement: str
) -> None:
    """A copy of the package with one violating import: lint-imports names it and fails."""
    shutil.copytree(ROOT / "portal", tmp_path / "portal", ignore=shutil.ignore_patterns("static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(f"{statement}  # noqa: F401\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout
    probe = module.removesuffix(".py").replace("/", ".")
    assert f"{WEB_CONTRACT}, the app's globals or its config BROKEN" in result.stdout
    assert f"-   {probe} -> " in result.stdout  # the chain starts at the violating module
    assert " kept, 1 broken." in result.stdout

"""README.md stays true: every setting the app reads is in its configuration table, and every
file of this repository it names exists."""

from __future__ import annotations

import re
import subprocess

from portal.config import ENVIRONMENT
from tests.live import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
# Read outside portal/config.py: by create_app (the runtime folder).
READ_ELSEWHERE = {"PORTAL_INSTANCE_PATH"}


def _configuration_table() -> set[str]:
    section = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_every_setting_the_app_reads_is_in_the_readme_configuration_table() -> None:
    documented = _configuration_table()
    read = set(ENVIRONMENT) | READ_ELSEWHERE
    assert sorted(read - documented) == [], "settings missing from README's table"
    assert sorted(documented - read) == [], "README's table lists settings nobody reads"


# Paths into the repository: under one of its folders, or one of its top-level files.
_PATH = re.compile(
    r"(?<![\w./-])((?:portal|deploy|scripts|bench|tests|migrations)/[\w./<>*-]*"
    r"|[\w-]+\.(?:md|toml|cfg)|wsgi\.py|gunicorn\.conf\.py)"
)


def test_every_repository_file_the_readme_names_exists() -> None:
    named = {match.rstrip(".,:;)") for match in _PATH.findall(README)}
    concrete = {path for path in named if not re.search(r"[<>*]", path)}
    assert "deploy/portal-jobs.service" in concrete  # the pattern finds what it should
    missing = sorted(path for path in concrete if not (ROOT / path).exists() and not _ignored(path))
    assert missing == []


def _ignored(path: str) -> bool:
    """A folder the README names as git-ignored (bench/work/) is made at run time."""
    done = subprocess.run(
        ["git", "check-ignore", "-q", path], cwd=ROOT, capture_output=True, check=False
    )
    return done.returncode == 0


def test_the_files_readme_links_to_are_in_the_repository() -> None:
    """The protocol notes README cites are the project's own page, not a file elsewhere."""
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", README)
    assert "docs/protocol.md" in links
    missing = [link for link in links if not (ROOT / link).exists()]
    assert missing == []

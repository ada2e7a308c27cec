"""Print a short fingerprint of the code under test ($BENCH_SRC: portal/, migrations/,
gunicorn.conf.py, wsgi.py) and where it comes from, as JSON. With BENCH_CODE=worktree, portal/
may be edited while the benchmark runs: run.sh takes one when each server starts and one when it
stops, and report.py flags any difference."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

repo = Path(__file__).resolve().parents[2]
root = Path(os.environ.get("BENCH_SRC") or repo)
mode = os.environ.get("BENCH_CODE", "worktree")
digest = hashlib.sha256()
paths = sorted(
    [
        *root.glob("portal/**/*.py"),
        *root.glob("migrations/**/*.py"),
        root / "gunicorn.conf.py",
        root / "wsgi.py",
    ]
)
for path in paths:
    if path.is_file():
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
rev = "HEAD" if mode == "worktree" else mode
head = subprocess.run(
    ["git", "rev-parse", "--short", rev], cwd=repo, capture_output=True, text=True
).stdout.strip()
dirty = []
if mode == "worktree":
    dirty = subprocess.run(
        [
            "git",
            "status",
            "--porcelain",
            "--",
            "portal",
            "migrations",
            "gunicorn.conf.py",
            "wsgi.py",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
print(
    json.dumps(
        {
            "head": head,
            "fingerprint": digest.hexdigest()[:12],
            "source": "working tree" if mode == "worktree" else f"git archive {rev}",
            "uncommitted": [line[3:] for line in dirty if line.strip()],
        }
    )
)

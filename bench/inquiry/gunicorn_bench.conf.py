"""The project's gunicorn.conf.py, unchanged, except that an empty GUNICORN_ACCESSLOG means
"no access log".

Why this file exists: at commit 689521f gunicorn.conf.py set ``accesslog =
os.environ.get("GUNICORN_ACCESSLOG", "-")``, so ``GUNICORN_ACCESSLOG=`` gave ``accesslog = ""``
and gunicorn refused to start: ``Error: Error: '' isn't writable [FileNotFoundError(2, 'No such
file or directory')]`` (348f170 added ``or None``). gunicorn has no command-line spelling for
"no access log" (``--access-logfile`` only takes a path or ``-``; ``/dev/null`` would still
format every line), so the benchmark loads the project's file (the one in ``$BENCH_SRC``, the
code under test) and sets ``accesslog = None``; it also logs where each worker imported
``portal`` from, which lib.sh checks. Every other setting (workers, worker class, timeout,
keepalive, max_requests, the project's hooks...) is the project's.
"""

import os
import runpy

# $BENCH_SRC: the code under test (lib.sh), else this repository.
_src = os.environ.get("BENCH_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."
)
_project = runpy.run_path(os.path.join(_src, "gunicorn.conf.py"))
globals().update({k: v for k, v in _project.items() if not k.startswith("_")})
if not os.environ.get("GUNICORN_ACCESSLOG"):
    accesslog = None


_project_post_worker_init = _project.get("post_worker_init")


def post_worker_init(worker):
    """Log where the worker imported portal from: lib.sh checks it is the code under test."""
    import sys

    if _project_post_worker_init is not None:
        _project_post_worker_init(worker)
    portal = sys.modules.get("portal")
    worker.log.info("bench: portal imported from %s", getattr(portal, "__file__", None))

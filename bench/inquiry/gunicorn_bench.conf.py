"""The project's gunicorn.conf.py, unchanged, except that an empty GUNICORN_ACCESSLOG means
"no access log".

Why this file exists: gunicorn.conf.py sets ``accesslog = os.environ.get("GUNICORN_ACCESSLOG",
"-")``, so ``GUNICORN_ACCESSLOG=`` gives ``accesslog = ""`` and gunicorn refuses to start:
``Error: Error: '' isn't writable [FileNotFoundError(2, 'No such file or directory')]``.
gunicorn has no command-line spelling for "no access log" (``--access-logfile`` only takes a
path or ``-``; ``/dev/null`` would still format every line), so the benchmark loads the project's
file and sets ``accesslog = None``. Every other setting (workers, worker class, timeout,
keepalive, max_requests...) is the project's.
"""

import os
import runpy

_project = runpy.run_path(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "gunicorn.conf.py")
)
globals().update({k: v for k, v in _project.items() if not k.startswith("_")})
if not os.environ.get("GUNICORN_ACCESSLOG"):
    accesslog = None

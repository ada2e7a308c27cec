"""The app for gunicorn (``gunicorn wsgi:app``) and for ``flask --app wsgi``.

A missing or wrong setting ends the process with one line naming it, not a traceback, and
exit status 78 (EX_CONFIG), which systemd is told not to restart in a loop.
"""

import sys

from portal import create_app
from portal.config import EX_CONFIG, ConfigError

try:
    app = create_app()
except ConfigError as exc:
    print(f"portal: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(EX_CONFIG) from None

"""The app for gunicorn (``gunicorn wsgi:app``) and for ``flask --app wsgi``.

A missing or wrong setting ends the process with one line naming it, not a traceback.
"""

from portal import create_app
from portal.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    raise SystemExit(f"portal: {exc}") from None

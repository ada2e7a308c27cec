"""The real app (``wsgi:app``) with wall-clock and CPU timers around each phase of an inquiry.

For profiling only: ``gunicorn -c ... --pythonpath bench/inquiry profile_app:app``. Nothing in
portal/ changes; the timers wrap the names the view looks up at call time (module attributes),
so the view runs its own code unchanged. Each worker writes its totals to
``$BENCH_PROFILE_DIR/phases.<pid>.json`` every 200 requests; ``profile_summary.py`` adds them up.

Phases (nested ones are reported both inclusive and, for the parents, net of their children):

- wsgi          everything Flask does for one request (Flask.wsgi_app)
- view          the ``inquiry`` view function
- auth          ``authenticate``: header checks, signature verify, timestamp
- auth.verify   ``signature.verify`` (``matching_key`` since key rotation): digest + HMAC + compare
- parse         ``parse_inquiry_request``: JSON + marshmallow
- parse.json    ``decode_json_object``: UTF-8 decode + json.loads
- decide        ``inquiries.decide``: the lookup query + building the snapshot
- answer        ``_answer`` + ``inquiry_response_body``: response dataclass + JSON encode
- record        ``inquiries.record``: INSERT .. ON CONFLICT DO NOTHING RETURNING
- commit        ``db.session.commit()``
- sign          ``signed`` (was ``_signed``): Response object + response signature headers
- teardown      ``db.session.remove()`` at app-context teardown (connection back to the pool)
- flask.before  ``preprocess_request``: every before_request hook
- flask.after   ``process_response``: every after_request hook, session save
- flask.session_open  the session interface opening the (cookie) session
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from typing import Any

from sqlalchemy.orm import scoping

import portal.api.auth as auth_module
import portal.api.routes as routes
import portal.doku.messages as messages
import portal.services.traffic.inquiries as inquiries
from wsgi import app as _flask_app

_OUT = os.environ.get("BENCH_PROFILE_DIR", "/tmp/bench_inquiry/profile")
os.makedirs(_OUT, exist_ok=True)

_wall: dict[str, float] = defaultdict(float)
_cpu: dict[str, float] = defaultdict(float)
_calls: dict[str, int] = defaultdict(int)
_requests = 0


def _timed(name: str, fn: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        w0, c0 = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _wall[name] += time.perf_counter() - w0
            _cpu[name] += time.thread_time() - c0
            _calls[name] += 1

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def _wrap(module: Any, names: tuple[str, ...], label: str) -> None:
    """Wrap the first of ``names`` that ``module`` has (portal/ is being refactored: names move)."""
    for name in names:
        if hasattr(module, name):
            setattr(module, name, _timed(label, getattr(module, name)))
            return
    print(f"profile_app: no {' or '.join(names)} in {module.__name__}; phase {label!r} not timed")


_wrap(routes, ("authenticate",), "auth")
_wrap(auth_module, ("verify", "matching_key"), "auth.verify")
_wrap(routes, ("parse_inquiry_request",), "parse")
_wrap(messages, ("decode_json_object",), "parse.json")
_wrap(inquiries, ("decide",), "decide")
_wrap(routes, ("_answer", "answer"), "answer")
_wrap(routes, ("inquiry_response_body",), "answer.encode")
_wrap(inquiries, ("record",), "record")
_wrap(routes, ("_signed", "signed"), "sign")
_wrap(scoping.scoped_session, ("commit",), "commit")
_wrap(scoping.scoped_session, ("remove",), "teardown")
# Flask's own per-request work around the view: before_request hooks (rate limiter, request id,
# CSRF, Talisman...), after_request hooks (security headers, session save, ...), session open.
_flask_app.preprocess_request = _timed("flask.before", _flask_app.preprocess_request)
_flask_app.process_response = _timed("flask.after", _flask_app.process_response)
_session = _flask_app.session_interface
_session.open_session = _timed("flask.session_open", _session.open_session)
_flask_app.view_functions["doku.inquiry"] = _timed(
    "view", _flask_app.view_functions["doku.inquiry"]
)
_wsgi_app = _timed("wsgi", _flask_app.wsgi_app)


def _dump() -> None:
    data = {
        "pid": os.getpid(),
        "requests": _requests - _SKIP,
        "wall": _wall,
        "cpu": _cpu,
        "calls": _calls,
    }
    tmp = f"{_OUT}/phases.{os.getpid()}.json.tmp"
    with open(tmp, "w") as out:
        json.dump(data, out)
    os.replace(tmp, f"{_OUT}/phases.{os.getpid()}.json")


_SKIP = 50  # per worker: the first requests compile statements and fill caches


def app(environ: dict[str, Any], start_response: Any) -> Any:
    global _requests
    try:
        return _wsgi_app(environ, start_response)
    finally:
        _requests += 1
        if _requests == _SKIP:
            _wall.clear()
            _cpu.clear()
            _calls.clear()
        elif _requests > _SKIP and _requests % 200 == 0:
            _dump()

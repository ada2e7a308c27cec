"""gunicorn settings for production: ``gunicorn wsgi:app``. Every value can be overridden
from the environment (GUNICORN_* below) or the command line."""

import multiprocessing
import os
import sys
import tempfile
from pathlib import Path

# Behind a proxy (PROXY_FIX_X_FOR set) the app listens on loopback only, so nothing reaches it
# around the proxy; without one it listens on every interface.
_behind_proxy = os.environ.get("PROXY_FIX_X_FOR", "0") not in ("", "0")
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000" if _behind_proxy else "0.0.0.0:8000")
# One sync worker per core, plus one to use a core while another waits on the database. The
# DOKU endpoints are short and CPU-bound (bench/: 2 workers on 2 cores gave 698 req/s, 3 gave
# 657, the usual 2 x cores + 1 = 5 gave 555, with more CPU per request from switching).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "sync"
# DOKU waits on the inquiry while the cashier waits on DOKU: never hold a request long.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take the service down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = 1000
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # empty: no access log
errorlog = "-"
# Activation and reset tokens in URLs never reach the access log (portal/access_log.py).
logger_class = "portal.access_log.RedactingLogger"
# The app is created in each worker, never shared across fork: database connections stay
# per process.
preload_app = False
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus metrics summed over all workers: each worker writes its counters to files in
# this folder and GET /metrics reads them all (prometheus_client's multiprocess mode).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="portal-metrics-")


def on_starting(server):
    # A missing setting stops the master with one line, before any worker boots (a worker
    # that cannot boot would otherwise be restarted again and again, each with a traceback).
    from portal import check_settings
    from portal.config import EX_CONFIG, ConfigError

    try:
        check_settings()
    except ConfigError as exc:
        print(f"portal: {exc}", file=sys.stderr, flush=True)
        sys.exit(EX_CONFIG)
    # Counters start from zero with the server: clear files a previous run left behind.
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

"""deploy/nginx/ in front of real gunicorn sync workers: slow clients are absorbed by nginx and
never hold a worker, the app sees the client's address (not one the client wrote), and a body
over the cap is refused by nginx before it reaches the app.

The nginx here runs the shipped deploy/nginx/portal-proxy.conf and the shipped upstream block
of deploy/nginx/portal.conf, on plain HTTP on a free loopback port (TLS is left out)."""

from __future__ import annotations

import getpass
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from tests.live import ROOT, free_port, gunicorn, wait_for_port

NGINX = Path("/usr/sbin/nginx")
SHIPPED = ROOT / "deploy" / "nginx"
CLIENT, OTHER_CLIENT = "127.0.0.2", "127.0.0.1"  # nginx itself talks to gunicorn from 127.0.0.1
WORKERS = 2
SLOW_CLIENTS = WORKERS + 1
TRICKLE_SECONDS = 5.0

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not NGINX.exists(),
        reason="nginx is not installed (/usr/sbin/nginx): apt-get install nginx, "
        "or run scripts/test.sh as root",
    ),
]


@dataclass
class Edge:
    nginx_port: int
    gunicorn_port: int


def _pointed_at(shipped: str, upstream_port: int) -> str:
    """Shipped configuration text with its upstream at the test's gunicorn."""
    text, replaced = re.subn(r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream_port};",
                             shipped)  # fmt: skip
    assert replaced == 1, "the upstream no longer names 127.0.0.1:8000"
    return text


def _upstream_block(upstream_port: int) -> str:
    """The shipped ``upstream portal_app`` block of portal.conf."""
    shipped = (SHIPPED / "portal.conf").read_text(encoding="utf-8")
    match = re.search(r"^upstream portal_app \{.*?^\}", shipped, re.S | re.M)
    assert match, "deploy/nginx/portal.conf has no upstream portal_app block"
    return _pointed_at(match.group(0), upstream_port)


def _nginx_conf(tmp: Path, servers: str) -> Path:
    """A main configuration with every file nginx writes inside ``tmp``, around ``servers``;
    ``include snippets/portal-proxy.conf`` finds the shipped snippet."""
    (tmp / "snippets").mkdir()
    (tmp / "snippets" / "portal-proxy.conf").symlink_to(SHIPPED / "portal-proxy.conf")
    # As root, nginx's workers would run as nobody, who cannot enter pytest's private temp
    # folders (where bodies larger than the memory buffer are written).
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    default_type application/octet-stream;
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{servers}
}}
""",
        encoding="utf-8",
    )
    return conf


@contextmanager
def _nginx(tmp: Path, conf: Path, port: int) -> Iterator[None]:
    process = subprocess.Popen(
        [str(NGINX), "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, process, timeout=10)
        yield
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture(scope="module")
def gunicorn_port(_migrated_app: Flask, database_url_for_tests: str) -> Iterator[int]:
    with gunicorn(database_url_for_tests, workers=WORKERS, PROXY_FIX_X_FOR="1",
                  PROXY_FIX_X_PROTO="1", TRUSTED_PROXIES="127.0.0.1/32",
                  METRICS_ALLOW_NETWORKS=f"{CLIENT}/32") as url:  # fmt: skip
        yield int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def edge(gunicorn_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    tmp = tmp_path_factory.mktemp("nginx")
    port = free_port()
    server = f"server {{ listen 127.0.0.1:{port}; include snippets/portal-proxy.conf; }}"
    conf = _nginx_conf(tmp, _upstream_block(gunicorn_port) + "\n" + server)
    with _nginx(tmp, conf, port):
        yield Edge(nginx_port=port, gunicorn_port=gunicorn_port)


def _request(
    port: int, method: str, path: str, *, body: bytes | None = None,
    headers: dict[str, str] | None = None, source: str = "127.0.0.1", timeout: float = 10,
) -> http.client.HTTPResponse:  # fmt: skip
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0)
    )
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _healthz_seconds(port: int, deadline: float) -> float:
    """How long /healthz takes to answer 200; ``deadline`` if it does not answer by then."""
    started = time.monotonic()
    try:
        response = _request(port, "GET", "/healthz", timeout=deadline)
    except TimeoutError:
        return deadline
    assert response.status == 200
    return time.monotonic() - started


def _slow_clients(port: int) -> list[threading.Thread]:
    """SLOW_CLIENTS connections that POST an inquiry body one byte a second, then give up
    after TRICKLE_SECONDS (before the body is complete)."""
    connected = threading.Barrier(SLOW_CLIENTS + 1, timeout=5)

    def trickle() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST /doku/inquiry HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            )
            connected.wait()
            stop = time.monotonic() + TRICKLE_SECONDS
            while time.monotonic() < stop:
                sock.sendall(b"{")
                time.sleep(1)

    threads = [threading.Thread(target=trickle, daemon=True) for _ in range(SLOW_CLIENTS)]
    for thread in threads:
        thread.start()
    connected.wait()
    time.sleep(1.5)  # every slow client has started its body, and is mid-way through it
    return threads


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=TRICKLE_SECONDS + 5)
        assert not thread.is_alive()


def test_slow_clients_through_nginx_do_not_hold_the_sync_workers(app: Flask, edge: Edge) -> None:
    slow = _slow_clients(edge.nginx_port)
    through_nginx = max(_healthz_seconds(edge.nginx_port, deadline=10) for _ in range(3))
    _join(slow)
    # The same slow clients straight at gunicorn hold both workers until they give up.
    slow = _slow_clients(edge.gunicorn_port)
    direct = _healthz_seconds(edge.gunicorn_port, deadline=10)
    _join(slow)
    print(f"/healthz with {SLOW_CLIENTS} clients sending 1 byte/s to {WORKERS} workers: "
          f"{through_nginx:.3f} s through nginx, {direct:.3f} s straight at gunicorn")  # fmt: skip
    assert through_nginx < 2, f"/healthz took {through_nginx:.1f} s through nginx"
    assert direct > through_nginx


def test_the_app_sees_the_address_nginx_forwards_not_the_one_the_client_wrote(
    app: Flask, edge: Edge
) -> None:
    # /metrics is open to CLIENT only (METRICS_ALLOW_NETWORKS); gunicorn sees nginx's 127.0.0.1.
    assert _request(edge.nginx_port, "GET", "/metrics", source=CLIENT).status == 200
    forged = _request(
        edge.nginx_port, "GET", "/metrics", source=OTHER_CLIENT,
        headers={"X-Forwarded-For": CLIENT},
    )  # fmt: skip
    assert forged.status == 403
    # Every request carries nginx's own request id, whatever the client sent.
    response = _request(
        edge.nginx_port, "GET", "/healthz", headers={"X-Request-Id": "chosen-by-client"}
    )
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


def test_a_body_over_the_cap_is_refused_by_nginx_and_the_import_upload_may_be_larger(
    app: Flask, edge: Edge
) -> None:
    large = b"x" * (100 * 1024)
    with socket.create_connection(("127.0.0.1", edge.nginx_port), timeout=5) as sock:
        # nginx answers from the declared length, before any of the body is sent.
        sock.sendall(
            b"POST /doku/inquiry HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 102400\r\n\r\n"
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    upload = _request(
        edge.nginx_port, "POST", "/admin/import", body=large,
        headers={"Content-Type": "application/octet-stream"},
    )  # fmt: skip
    # The app answers (a login redirect or a CSRF refusal): nginx let the body through.
    assert upload.status != 413 and upload.status < 500, upload.status


@dataclass
class ShippedServer:
    http_port: int
    https_port: int
    cert: Path
    logs: Path


@contextmanager
def _shipped_server(gunicorn_port: int, tmp_path: Path) -> Iterator[ShippedServer]:
    """The whole of portal.conf, with its ports, certificate and logs moved into the test."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-days", "1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    http_port, https_port = free_port(), free_port()
    text = _pointed_at((SHIPPED / "portal.conf").read_text(encoding="utf-8"), gunicorn_port)
    for old, new in [
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("/etc/ssl/portal/fullchain.pem", str(cert)),
        ("/etc/ssl/portal/privkey.pem", str(key)),
        ("/var/log/nginx/", f"{tmp_path}/"),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    text = re.sub(r"^\s*listen \[::\]:.*$", "", text, flags=re.M)
    with _nginx(tmp_path, _nginx_conf(tmp_path, text), https_port):
        yield ShippedServer(http_port, https_port, cert, tmp_path)


def _https_get(
    server: ShippedServer, path: str, headers: dict[str, str] | None = None
) -> tuple[int, str | None]:
    """Status and TLS version of a GET to the HTTPS server block."""
    context = ssl.create_default_context(cafile=str(server.cert))
    connection = http.client.HTTPSConnection(
        "localhost", server.https_port, context=context, timeout=10
    )
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.read()
    version = connection.sock.version()
    connection.close()
    return response.status, version


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is needed for a test certificate")
def test_the_shipped_server_blocks_redirect_to_https_but_never_redirect_doku(
    app: Flask, gunicorn_port: int, tmp_path: Path
) -> None:
    with _shipped_server(gunicorn_port, tmp_path) as server:
        plain = _request(
            server.http_port, "GET", "/login?next=%2Fadmin", headers={"Host": "localhost"}
        )
        assert plain.status == 301
        assert plain.headers["Location"] == "https://localhost/login?next=%2Fadmin"
        # A DOKU URL registered with http:// fails plainly instead of being redirected.
        assert _request(server.http_port, "POST", "/doku/inquiry", body=b"{}").status == 404

        status, version = _https_get(server, "/healthz")
        assert status == 200
        assert version in ("TLSv1.2", "TLSv1.3")


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is needed for a test certificate")
def test_the_shipped_servers_access_logs_keep_link_tokens_out(
    app: Flask, gunicorn_port: int, tmp_path: Path
) -> None:
    token = "eyJpZCI6MX0.Zq1yXw.c2VjcmV0LXRva2Vu"
    with _shipped_server(gunicorn_port, tmp_path) as server:
        referer = {"Referer": f"https://localhost/activate/{token}"}
        for path in (f"/reset/{token}", f"/activate/{token}?lang=en"):
            # An invalid link answers 400; what matters is the log line.
            assert _https_get(server, path, referer)[0] == 400
        _https_get(server, "/healthz", referer)
        # A link opened over plain HTTP is logged before it is redirected.
        _request(server.http_port, "GET", f"/reset/{token}", headers={"Host": "localhost"})
    logged = "".join(p.read_text() for p in server.logs.glob("*access.log"))
    assert token not in logged
    assert "GET /reset/[redacted] HTTP/1.1" in logged
    assert "GET /activate/[redacted]?lang=en HTTP/1.1" in logged
    assert '"https://localhost/activate/[redacted]"' in logged  # the referrer
    assert "GET /healthz HTTP/1.1" in logged  # other lines as before

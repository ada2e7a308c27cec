"""``flask doku ...``: play DOKU's part for people without DOKU's sandbox.

Requests are built and signed exactly as DOKU sends them; answers are checked the way DOKU
would check them (the response signature) before anything is printed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import click
from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.api import bp
from portal.doku.messages import inquiry_request_body, notification_body
from portal.doku.signature import format_timestamp, signed_headers, verify
from portal.extensions import db
from portal.models import Inquiry
from portal.services.billing.money import format_rupiah
from portal.services.billing.payment_codes import grouped_code
from portal.services.billing.receipt import ReceiptTextError, layout_footer


@dataclass(frozen=True, slots=True)
class Exchange:
    status: int
    headers: dict[str, str]
    body: bytes
    request_id: str = ""


def _send(url: str | None, flask_path: str, headers: dict[str, str], body: bytes) -> Exchange:
    if url is None:
        response = current_app.test_client().post(flask_path, data=body, headers=headers)
        return Exchange(response.status_code, dict(response.headers), response.get_data())
    if urlsplit(url).scheme not in ("http", "https"):
        raise click.BadParameter("must be an http:// or https:// URL", param_hint="--url")
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (checked above)
            return Exchange(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as answer:
        return Exchange(answer.code, dict(answer.headers), answer.read())


def _flask_path(endpoint: str) -> str:
    with current_app.test_request_context():
        return url_for(endpoint)


def _endpoint(base_url: str | None, target: str) -> str | None:
    """A base URL gets our public target appended; a URL with a path is used as given."""
    if base_url is None:
        return None
    if urlsplit(base_url).path in ("", "/"):
        return base_url.rstrip("/") + target
    return base_url


@bp.cli.command("inquire")
@click.argument("payment_code")
@click.option("--url", help="Server to call, e.g. http://127.0.0.1:5000 (default: in-process).")
@click.option("--agent-id", default="ALFAMART", show_default=True, help="AGENT_ID (the chain)")
@click.option("--store", "store_id", default="TZ01", show_default=True, help="AGENT_STORE_ID")
def inquire(payment_code: str, url: str | None, agent_id: str, store_id: str) -> None:
    """Send a signed inquiry for PAYMENT_CODE as DOKU would, and print the answer."""
    exchange = _inquiry(payment_code, url, agent_id, store_id)
    _print_answer(exchange)


def _inquiry(payment_code: str, url: str | None, agent_id: str, store_id: str) -> Exchange:
    now = format_timestamp(datetime.now(UTC))
    body = inquiry_request_body(
        payment_code,
        now,
        {"AGENT_ID": agent_id, "AGENT_STORE_ID": store_id, "AGENT_TRX_ID": uuid.uuid4().hex},
    )
    return _call("doku.inquiry", "DOKU_INQUIRY_TARGET", url, body, now)


def _call(
    endpoint_name: str, target_setting: str, url: str | None, body: bytes, now: str
) -> Exchange:
    """Sign and send one request as DOKU does; check the answer's signature before use."""
    config = current_app.config
    client_id, secret = config["DOKU_CLIENT_ID"], config["DOKU_SECRET_KEY"]
    endpoint = _endpoint(url, config[target_setting])
    target = urlsplit(endpoint).path if endpoint else config[target_setting]
    request_id = str(uuid.uuid4())
    headers = signed_headers(
        secret, client_id=client_id, request_id=request_id, timestamp=now,
        request_target=target, body=body,
    )  # fmt: skip
    headers["Content-Type"] = "application/json"
    try:
        exchange = _send(endpoint, _flask_path(endpoint_name), headers, body)
    except (urllib.error.URLError, OSError) as exc:
        raise click.ClickException(f"Could not reach {endpoint}: {exc}") from None
    click.echo(f"POST {endpoint or target} (Request-Id {request_id})")
    exchange = Exchange(exchange.status, exchange.headers, exchange.body, request_id)
    if exchange.status == 401:
        raise click.ClickException(
            f"HTTP 401: the server refused OUR request ({_error_text(exchange)}). Check that "
            f"DOKU_CLIENT_ID and DOKU_SECRET_KEY here are the server's, and that "
            f"{target_setting} ({target}) is the path the server signs for."
        )
    _check_response_signature(exchange, client_id, secret, request_id, target)
    return exchange


def _error_text(exchange: Exchange) -> str:
    try:
        error = json.loads(exchange.body).get("error", {})
        return f"{error.get('code')}: {error.get('message')}"
    except (ValueError, AttributeError):
        return exchange.body[:200].decode("utf-8", "replace")


def _recorded_reason(request_id: str) -> str | None:
    """Why the app decided as it did, from its record of the inquiry (when the server shares
    this configuration's database, e.g. in-process or a local server)."""
    try:
        reason = db.session.scalar(select(Inquiry.reason).where(Inquiry.request_id == request_id))
    except SQLAlchemyError:
        reason = None
    db.session.rollback()
    return reason


def _check_response_signature(
    exchange: Exchange, client_id: str, secret: str, request_id: str, target: str
) -> None:
    headers = {k.lower(): v for k, v in exchange.headers.items()}
    signature = headers.get("signature")
    if signature is None:
        raise click.ClickException(
            f"HTTP {exchange.status}: the server's ANSWER is not signed; DOKU would reject it."
        )
    if headers.get("request-id") != request_id:
        raise click.ClickException("The server's ANSWER does not echo our Request-Id.")
    valid = verify(
        (secret,),
        signature,
        client_id=headers.get("client-id", ""),
        request_id=request_id,
        timestamp=headers.get("response-timestamp", ""),
        request_target=target,
        body=exchange.body,
        response=True,
    )
    if not valid or headers.get("client-id") != client_id:
        raise click.ClickException(
            f"HTTP {exchange.status}: the server's ANSWER has a WRONG signature (our request "
            "was accepted, but the answer is signed with another key or over other bytes); "
            "DOKU would reject it."
        )
    click.echo(f"HTTP {exchange.status}, response signature verified")


def _print_answer(exchange: Exchange) -> None:
    answer: dict[str, Any] = json.loads(exchange.body)
    if "error" in answer:
        click.echo(f"Error {answer['error'].get('code')}: {answer['error'].get('message')}")
        return
    status = answer.get("online_to_offline_inquiry", {}).get("status")
    click.echo(f"Status        : {status}")
    if status != "success" and (reason := _recorded_reason(exchange.request_id)):
        click.echo(f"Reason        : {reason}")
    code = answer.get("online_to_offline_info", {}).get("payment_code", "")
    click.echo(f"Payment code  : {grouped_code(code)}")
    if order := answer.get("order"):
        click.echo(f"Invoice       : {order['invoice_number']}")
        click.echo(f"Amount        : {format_rupiah(order['amount'])}")
    if customer := answer.get("customer"):
        email = f" <{customer['email']}>" if customer.get("email") else ""
        click.echo(f"Customer      : {customer['name']}{email}")
    if info := answer.get("online_to_offline_info", {}).get("info"):
        click.echo(f"Info at till  : {info}")
    insurance = answer.get("additional_info", {}).get("insurance_info")
    if insurance:
        click.echo(
            f"Policy        : {insurance['policy_type']} {insurance['policy_number']} "
            f"({insurance['policy_status']}), account {insurance['policy_account_name']}, "
            f"due {insurance['bill_due_date']}"
        )
    footer = answer.get("alfa_info", {}).get("receipt", {}).get("footer_message")
    if footer:
        click.echo("Receipt footer, as the till prints it:")
        try:
            lines = layout_footer(footer).lines
        except ReceiptTextError as exc:
            click.echo(f"  (cannot be printed: {exc})")
        else:
            for line in lines:
                click.echo(f"  |{line}|")


@bp.cli.command("pay")
@click.argument("payment_code")
@click.option("--url", help="Server to call, e.g. http://127.0.0.1:5000 (default: in-process).")
@click.option("--amount", type=int, help="Amount paid (default: what the inquiry answers).")
@click.option("--invoice", help="Invoice number (default: what the inquiry answers).")
@click.option(
    "--status",
    type=click.Choice(["SUCCESS", "FAILED"]),
    default="SUCCESS",
    show_default=True,
    help="transaction.status of the notification.",
)
@click.option("--agent-id", default="ALFAMART", show_default=True, help="AGENT_ID (the chain)")
@click.option("--store", "store_id", default="TZ01", show_default=True, help="AGENT_STORE_ID")
@click.option(
    "--force",
    is_flag=True,
    help="Send the notification even when the inquiry refuses the code (the till would not).",
)
def pay(
    payment_code: str,
    url: str | None,
    amount: int | None,
    invoice: str | None,
    status: str,
    agent_id: str,
    store_id: str,
    force: bool,
) -> None:
    """Pay PAYMENT_CODE at the till: an inquiry, then the HTTP Notification DOKU would send.

    Without --invoice and --amount the inquiry comes first, as at the till, and a refusal
    stops there unless --force."""
    if amount is None or invoice is None:
        click.echo("Inquiry first, as the till does:")
        inquiry = _inquiry(payment_code, url, agent_id, store_id)
        answer = json.loads(inquiry.body)
        order = answer.get("order")
        inquiry_status = answer.get("online_to_offline_inquiry", {}).get("status")
        if inquiry_status != "success" and not force:
            reason = _recorded_reason(inquiry.request_id)
            because = f" ({reason})" if reason else ""
            raise click.ClickException(
                f"HTTP {inquiry.status}: the inquiry answered {inquiry_status}{because}. The till "
                "takes no money for this code, so no notification was sent (--force sends one)."
            )
        if order is None:
            raise click.ClickException(
                f"The inquiry answered {inquiry_status} without an order: give --invoice and "
                "--amount."
            )
        amount = order["amount"] if amount is None else amount
        invoice = order["invoice_number"] if invoice is None else invoice
    assert amount is not None and invoice is not None
    now = format_timestamp(datetime.now(UTC))
    body = notification_body(
        payment_code=payment_code,
        invoice_number=invoice,
        amount=amount,
        status=status,
        transaction_date=now,
        original_request_id=str(uuid.uuid4()),
        identifiers={
            "AGENT_ID": agent_id,
            "AGENT_STORE_ID": store_id,
            "AGENT_TRX_ID": uuid.uuid4().hex,
        },
    )
    click.echo(f"Notification: {status} {format_rupiah(amount)} for {invoice}")
    exchange = _call("doku.notification", "DOKU_NOTIFICATION_TARGET", url, body, now)
    outcome = json.loads(exchange.body)
    if "error" in outcome:
        click.echo(f"Error {outcome['error'].get('code')}: {outcome['error'].get('message')}")
    else:
        click.echo(f"Outcome       : {outcome.get('status')}: {outcome.get('message')}")
    if exchange.status >= 300:
        raise SystemExit(1)


@bp.cli.command("credentials")
def credentials() -> None:
    """Print the DOKU Client-Id, Secret Key and request targets this app uses."""
    config = current_app.config
    click.echo(f"Client-Id          : {config['DOKU_CLIENT_ID']}")
    click.echo(f"Secret Key         : {config['DOKU_SECRET_KEY']}")
    click.echo(f"Inquiry target     : {config['DOKU_INQUIRY_TARGET']}")
    click.echo(f"Notification target: {config['DOKU_NOTIFICATION_TARGET']}")

"""``flask`` commands. Each parses its arguments, calls a service and commits once."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask, current_app

from portal.extensions import db
from portal.jobs.mail import sweep_notices
from portal.services import demo, spreadsheets
from portal.services.bill_import import ImportRejected, import_bills
from portal.services.money import format_rupiah
from portal.services.reports import (
    MoneyState,
    Total,
    payments_report,
    report_filename,
    report_table,
)
from portal.web import code_settings

bills_cli = click.Group("bills", help="Bills from the insurer's core system.")


@bills_cli.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def import_command(csv_file: click.utils.LazyFile) -> None:
    """Import bills from CSV_FILE: every row or none."""
    try:
        report = import_bills(
            db.session, csv_file.read(), settings=code_settings(), now=datetime.now(UTC)
        )
    except ImportRejected as exc:
        db.session.rollback()
        for error in exc.report.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(
            f"{len(exc.report.errors)} error(s) in {csv_file.name}; nothing was imported."
        ) from None
    db.session.commit()
    click.echo(
        f"Imported {report.rows} rows: {report.bills_created} bills created, "
        f"{report.bills_updated} updated, {report.policyholders_created} new policyholders, "
        f"{report.policies_created} new policies."
    )


demo_cli = click.Group("demo", help="Demo data for trying the app out.")


@demo_cli.command("seed")
def seed_command() -> None:
    """Create demo bills (once) and print their payment codes."""
    secret = current_app.config["SECRET_KEY"]
    created = demo.seed(
        db.session, settings=code_settings(), now=datetime.now(UTC), secret_key=secret
    )
    db.session.commit()
    click.echo("Demo data created." if created else "Demo data already present.")
    click.echo("Demo payment codes (try: flask --app wsgi doku inquire CODE):")
    for bill, code in demo.demo_codes(db.session):
        click.echo(f"  {code}  {bill.invoice_number}  expect {bill.expected:<21} {bill.note}")
    db.session.rollback()  # end the read: on SQLite an open transaction holds the write lock
    click.echo("Demo logins (development only):")
    for email in demo.DEMO_LOGINS:
        click.echo(f"  portal /login        {email} / {demo.demo_password(secret, email)}")
    for email, _name, role in demo.DEMO_STAFF:
        click.echo(
            f"  staff  /admin/login  {email} / {demo.demo_password(secret, email)}  ({role})"
        )


payments_cli = click.Group("payments", help="Payments received through DOKU.")


@payments_cli.command("report")
@click.option(
    "--from",
    "start",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="First day (WIB), YYYY-MM-DD.",
)
@click.option(
    "--to",
    "end",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day (WIB), YYYY-MM-DD, included.",
)
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write every payment to this CSV file.")  # fmt: skip
@click.option("--format", "file_format", type=click.Choice(spreadsheets.FORMATS),
              help="Write every payment as csv or xlsx (to --output, or a file named after "
              "the days).")  # fmt: skip
@click.option("--output", "output_path", type=click.Path(dir_okay=False, writable=True),
              help="The file --format writes.")  # fmt: skip
def report_command(
    start: datetime,
    end: datetime,
    csv_path: str | None,
    file_format: str | None,
    output_path: str | None,
) -> None:
    """Every payment DOKU reported between two days (WIB): applied, or held in an exception
    (open, refunded, applied by staff); totals per day, chain and store; open exceptions."""
    if output_path and not file_format:
        raise click.BadParameter("give --format csv or xlsx with --output", param_hint="--output")
    try:
        report = payments_report(db.session, start.date(), end.date())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from None
    click.echo(f"Payments DOKU reported {report.start} to {report.end} (times in WIB)")
    for line in report.lines:
        late = "  LATE" if line.late else ""
        ids = ",".join(map(str, line.exception_ids))
        held = f"  {line.kind} #{ids}" if ids else ""
        click.echo(
            f"  {line.paid_at:%Y-%m-%d %H:%M:%S}  {line.state.value:<16} "
            f"{line.invoice_number or '-':<20} {line.payment_code or '-':<20} "
            f"{format_rupiah(line.amount):>16}  {line.chain} store {line.agent_store_id or '-'} "
            f"trx {line.agent_trx_id or '-'}{late}{held}"
        )
    click.echo("Per day:")
    _echo_totals(report.per_day)
    click.echo("Per store chain:")
    _echo_totals(report.per_chain)
    click.echo("Per store:")
    _echo_totals(report.per_store)
    total = report.total
    click.echo(f"Total: {total.count} payments, {format_rupiah(total.amount)}")
    click.echo(
        f"  applied {format_rupiah(total.amount_in(MoneyState.APPLIED))}, held in exceptions "
        f"{format_rupiah(total.held)} (open {format_rupiah(total.amount_in(MoneyState.OPEN))}, "
        f"refunded {format_rupiah(total.amount_in(MoneyState.REFUNDED))}, applied by staff "
        f"{format_rupiah(total.amount_in(MoneyState.APPLIED_BY_STAFF))})"
    )
    click.echo(f"Open exceptions: {len(report.open_exceptions)}")
    for item in report.open_exceptions:
        click.echo(
            f"  #{item.id} {item.created_at:%Y-%m-%d %H:%M} {item.kind:<18} "
            f"{item.invoice_number or '-'} {item.payment_code or '-'}: {item.detail}"
        )
    table = report_table(report)
    if csv_path:
        _write(csv_path, spreadsheets.render(table, "csv")[0], len(report.lines))
    if file_format:
        path = output_path or report_filename(report, file_format)
        _write(path, spreadsheets.render(table, file_format)[0], len(report.lines))


def _write(path: str, content: bytes, count: int) -> None:
    with open(path, "wb") as handle:
        handle.write(content)
    click.echo(f"Wrote {count} payments to {path}")


def _echo_totals(totals: list[Total]) -> None:
    for total in totals:
        click.echo(
            f"  {total.key:<12} {total.count:>6} payments  {format_rupiah(total.amount):>18}"
            f"  (held {format_rupiah(total.held)})"
        )


notify_cli = click.Group("notify", help="Emails to policyholders: receipts and reminders.")


@notify_cli.command("due")
@click.option(
    "--queue",
    "through_queue",
    is_flag=True,
    help="Queue each email for the job consumer instead of sending it from here.",
)
def notify_due_command(through_queue: bool) -> None:
    """Send payment receipts and due/expiry reminders not sent yet (idempotent).

    The job consumer does this every 5 minutes by itself; this command is for cron instead
    of the consumer's schedule, or to send them now.
    """
    result = sweep_notices(send_now=not through_queue)
    for problem in result.problems:
        click.echo(problem, err=True)
    if through_queue:
        click.echo(f"Queued {result.queued} email(s); {result.failed} could not be queued.")
    else:
        click.echo(f"Sent {result.sent} email(s); {result.failed} failed and will be retried.")
    if result.failed:
        raise SystemExit(1)


def register(app: Flask) -> None:
    app.cli.add_command(bills_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(payments_cli)
    app.cli.add_command(notify_cli)

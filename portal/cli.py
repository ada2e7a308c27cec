"""``flask`` commands. Each parses its arguments, calls a service and commits once."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app

from portal.extensions import db
from portal.jobs.mail import sweep_notices
from portal.services import demo
from portal.services.billing import exports
from portal.services.billing.imports import ImportReport, apply_import, create_run
from portal.services.billing.money import format_rupiah
from portal.services.reporting import spreadsheets
from portal.services.reporting.reconciliation import (
    MoneyState,
    Total,
    payments_report,
    report_filename,
    report_table,
)
from portal.services.reporting.spreadsheets import FORMATS, render
from portal.web import code_settings, policy_statuses

bills_cli = click.Group("bills", help="Bills from the insurer's core system.")


CHUNK_PAUSE_SECONDS = 0.03


def clock() -> datetime:
    """The time the import and export commands act at (tests move it)."""
    return datetime.now(UTC)


def echo_import_report(report: ImportReport) -> None:
    """What an import did (or would do), for the terminal: counts, then one line per kind."""
    if not report.ok:
        for summary in report.error_summary():
            click.echo(str(summary), err=True)
        return
    if report.run_id is not None:
        click.echo(
            f"Import run #{report.run_id} of {report.filename}: started "
            f"{report.wib(report.started_at)}, finished {report.wib(report.finished_at)}."
        )
    if report.completes_run_id is not None:
        click.echo(
            f"Completes import run #{report.completes_run_id} (started "
            f"{report.wib(report.completes_run_at)}), which was cut off: its rows already "
            "applied count as unchanged."
        )
    click.echo(("Imported " if report.applied else "Would import ") + report.counts() + ".")
    for summary in report.note_summary():
        click.echo(f"  {summary}")


@bills_cli.command("import")
@click.argument("bill_file", type=click.Path(exists=True, dir_okay=False, readable=True))
def import_command(bill_file: str) -> None:
    """Import bills from BILL_FILE (CSV or .xlsx): checked whole, then applied in chunks.

    Running the same file again is harmless, and completes a run that was cut off.
    """
    path = Path(bill_file)
    now = clock()
    run = create_run(db.session, path.read_bytes(), filename=path.name, actor="cli", now=now)
    db.session.commit()
    click.echo(f"Checking {path.name} ...", err=True)
    bars: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(click.progressbar(length=total, label="Importing", file=sys.stderr))
            bars[0].render_progress()
        bars[0].update(done - bars[0].pos)

    # On SQLite a writer waiting for the lock (a DOKU notification, an inquiry's record)
    # polls for it; a short pause after each chunk lets it in instead of the next chunk.
    pause = CHUNK_PAUSE_SECONDS if db.engine.dialect.name == "sqlite" else 0.0

    def commit() -> None:
        db.session.commit()
        if pause:
            time.sleep(pause)

    try:
        report = apply_import(db.session, run.id, now=now, settings=code_settings(),
                              policy_statuses=policy_statuses(),
                              commit=commit, progress=progress, clock=clock)  # fmt: skip
    finally:
        if bars:
            bars[0].render_finish()
    echo_import_report(report)
    if not report.ok:
        raise click.ClickException(
            f"{len(report.errors)} error(s) in {path.name}; nothing was imported."
        )


def _write_export(data: bytes, output: str) -> str:
    """Write the file whole or not at all (a temporary file renamed into place)."""
    if output == "-":
        sys.stdout.buffer.write(data)
        return "standard output"
    target = Path(output)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, target)
    return str(target)


FORMAT_OPTION = click.option(
    "--format", "file_format", type=click.Choice(FORMATS), default="csv", show_default=True,
    help="CSV (UTF-8 with BOM) or an Excel workbook.",
)  # fmt: skip
OUTPUT_OPTION = click.option(
    "--output", type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="File to write (- for standard output); default: <kind>-<time WIB>.<format> here.",
)  # fmt: skip


@bills_cli.command("export")
@click.option("--state", "states", multiple=True, type=click.Choice(exports.STATES),
              help="Only bills in this state (repeatable); default: every bill.")  # fmt: skip
@FORMAT_OPTION
@OUTPUT_OPTION
def bills_export_command(states: tuple[str, ...], file_format: str, output: str | None) -> None:
    """Bills with their live payment codes, for the core system."""
    now = clock()
    data, _type = render(exports.bills_table(db.session, states), file_format)
    db.session.rollback()
    where = _write_export(data, output or exports.file_name("bills", now, file_format))
    click.echo(f"Wrote the bills to {where}.", err=True)


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


@payments_cli.command("export")
@click.option(
    "--since-last",
    is_flag=True,
    help="The payments no earlier --since-last run handed over (moves the feed).",
)
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Re-export payments paid from this day (WIB); the feed does not move.",
)
@click.option(
    "--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="... to this day (WIB), included."
)
@FORMAT_OPTION
@OUTPUT_OPTION
def payments_export_command(
    since_last: bool, start: datetime | None, end: datetime | None, file_format: str,
    output: str | None,
) -> None:  # fmt: skip
    """Payments for the core system: each exactly once with --since-last, or a period again."""
    if since_last == bool(start or end):
        raise click.UsageError("Give either --since-last or --from and --to.")
    now = clock()
    if since_last:
        export = exports.payments_since_last(db.session, now=now)
    else:
        if start is None or end is None:
            raise click.UsageError("--from and --to go together.")
        try:
            export = exports.payments_between(db.session, start.date(), end.date())
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--to") from None
    data, _type = render(export.table, file_format)
    try:
        where = _write_export(data, output or exports.file_name("payments", now, file_format))
    except OSError:
        db.session.rollback()  # not written: the feed hands these over again next time
        raise
    db.session.commit()
    if export.count:
        click.echo(f"Wrote {export.count} payment(s) (ids {export.first_id} to "
                   f"{export.last_id}) to {where}.", err=True)  # fmt: skip
    else:
        click.echo(f"No {'new ' if since_last else ''}payments; wrote an empty file to {where}.",
                   err=True)  # fmt: skip


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

"""``flask`` commands. Each parses its arguments, calls a service and commits once."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask, current_app

from portal.extensions import db
from portal.services import demo
from portal.services.bill_import import ImportRejected, import_bills
from portal.services.payment_codes import CodeSettings


def code_settings() -> CodeSettings:
    config = current_app.config
    return CodeSettings(
        prefix=config["PAYMENT_CODE_PREFIX"],
        length=config["PAYMENT_CODE_LENGTH"],
        grace_days=config["PAYMENT_CODE_GRACE_DAYS"],
    )


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
    created = demo.seed(db.session, settings=code_settings(), now=datetime.now(UTC))
    db.session.commit()
    click.echo("Demo data created." if created else "Demo data already present.")
    click.echo("Demo payment codes (try: flask --app wsgi doku inquire CODE):")
    for bill, code in demo.demo_codes(db.session):
        click.echo(f"  {code}  {bill.invoice_number}  expect {bill.expected:<21} {bill.note}")


def register(app: Flask) -> None:
    app.cli.add_command(bills_cli)
    app.cli.add_command(demo_cli)

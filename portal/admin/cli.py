"""``flask admin create EMAIL``: a staff account from the command line (the first admin)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from portal.admin import bp
from portal.extensions import db
from portal.models import StaffRole
from portal.services.accounts import PasswordRejected
from portal.services.staff import StaffError, create_staff

bp.cli.help = "Staff accounts of the back office."


@bp.cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="Full name (default: the part of EMAIL before the @).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in StaffRole]),
    default=StaffRole.ADMIN.value,
    show_default=True,
    help="admin: everything; viewer: read-only.",
)
def create_command(email: str, name: str, role: str) -> None:
    """Create a staff account. The password is asked twice, never taken from the command line."""
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        staff = create_staff(
            db.session,
            email=email,
            name=name or email.split("@", 1)[0],
            password=password,
            role=StaffRole(role),
            now=datetime.now(UTC),
            actor="command line",
        )
    except (StaffError, PasswordRejected) as exc:
        db.session.rollback()
        raise click.ClickException(f"Not created: {exc}.") from None
    db.session.commit()
    click.echo(f"Created {staff.role} {staff.email}; log in at /admin/login.")

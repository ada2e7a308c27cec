"""``flask admin create|disable|enable|password EMAIL``: staff accounts from the command line
(the first admin, and the ones who leave or forget their password)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import select

from portal.admin import bp
from portal.extensions import db
from portal.models import StaffRole, StaffUser
from portal.services.accounts import audit
from portal.services.accounts.credentials import PasswordRejected, end_sessions, set_password
from portal.services.accounts.staff import StaffError, create_staff

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


def _staff_by_email(email: str) -> StaffUser:
    staff = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if staff is None:
        raise click.ClickException(f"No staff account for {email}.")
    return staff


def _set_active(email: str, active: bool) -> None:
    staff = _staff_by_email(email)
    before = {"active": staff.active}
    staff.active = active
    end_sessions(staff)  # disabling ends every session at once; enabling starts afresh
    audit.record(
        db.session,
        actor="command line",
        action="staff.enable" if active else "staff.disable",
        entity="staff",
        entity_id=staff.id,
        before=before,
        after={"active": active},
        now=datetime.now(UTC),
        entity_label=staff.email,
    )
    db.session.commit()


@bp.cli.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable a staff account and end all its sessions at once."""
    _set_active(email, False)
    click.echo(f"Disabled {email.strip().lower()}; its sessions have ended.")


@bp.cli.command("enable")
@click.argument("email")
def enable_command(email: str) -> None:
    """Enable a disabled staff account again (it must log in anew)."""
    _set_active(email, True)
    click.echo(f"Enabled {email.strip().lower()}.")


@bp.cli.command("password")
@click.argument("email")
def password_command(email: str) -> None:
    """Set a staff member's password (asked twice); all their sessions end."""
    staff = _staff_by_email(email)
    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        set_password(staff, password, now=datetime.now(UTC))
    except PasswordRejected as exc:
        db.session.rollback()
        raise click.ClickException(f"Not changed: {exc}.") from None
    audit.record(
        db.session,
        actor="command line",
        action="staff.password",
        entity="staff",
        entity_id=staff.id,
        before=None,
        after=None,
        now=datetime.now(UTC),
        entity_label=staff.email,
    )
    db.session.commit()
    click.echo(f"Password of {staff.email} set; its sessions have ended.")

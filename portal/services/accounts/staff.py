"""Staff accounts for the back office: admins change things, viewers only look."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.models import StaffRole, StaffUser
from portal.services.accounts import audit
from portal.services.accounts.credentials import hash_password
from portal.services.billing.validation import field_problems
from portal.services.session import Session


class StaffError(ValueError):
    """A staff account that cannot be created as asked; the message says why."""


def create_staff(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: StaffRole,
    now: datetime,
    actor: StaffUser | str,
) -> StaffUser:
    """Create a staff account (flushed, audited). Raises ``StaffError`` or ``PasswordRejected``."""
    email = email.strip().lower()
    name = name.strip()
    problems = field_problems(customer_email=email, customer_name=name)
    if problems:
        raise StaffError(" ".join(str(p) for ps in problems.values() for p in ps))
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffError(f"A staff account for {email} exists already.")
    staff = StaffUser(
        email=email,
        name=name,
        password_hash=hash_password(password, personal=(email, name)),
        role=StaffRole(role).value,
        active=True,
        created_at=now,
    )
    session.add(staff)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="staff.create",
        entity="staff",
        entity_id=staff.id,
        before=None,
        after={"email": email, "name": name, "role": staff.role},
        now=now,
    )
    return staff

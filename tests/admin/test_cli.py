"""``flask admin create``: staff accounts from the command line, password prompted twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import StaffUser
from portal.services.accounts.credentials import password_matches
from tests.admin.conftest import audit_rows

PASSWORD = "a long staff password"


def _staff(session: Session, email: str) -> StaffUser | None:
    session.expire_all()
    staff = session.scalar(select(StaffUser).where(StaffUser.email == email))
    return staff


def test_create_makes_an_admin_with_the_password_typed_twice(runner: Any, session: Session) -> None:
    result = runner.invoke(
        args=["admin", "create", "Boss@Insurer.example", "--name", "Boss"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss@insurer.example" in result.output
    assert PASSWORD not in result.output  # hidden input: never echoed
    staff = _staff(session, "boss@insurer.example")
    assert staff is not None
    assert staff.role == "admin" and staff.name == "Boss" and staff.active
    assert password_matches(staff.password_hash, PASSWORD)
    [entry] = audit_rows(session, "staff.create")
    assert entry.actor == "command line"


def test_create_can_make_a_viewer(runner: Any, session: Session) -> None:
    result = runner.invoke(
        args=["admin", "create", "look@insurer.example", "--role", "viewer"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    staff = _staff(session, "look@insurer.example")
    assert staff is not None and staff.role == "viewer" and not staff.can_write


def test_the_password_is_never_an_argument(runner: Any, session: Session) -> None:
    result = runner.invoke(args=["admin", "create", "x@insurer.example", "--password", "abc"])
    assert result.exit_code != 0
    assert "No such option" in result.output
    assert _staff(session, "x@insurer.example") is None


def test_two_different_passwords_ask_again(runner: Any, session: Session) -> None:
    result = runner.invoke(
        args=["admin", "create", "x@insurer.example"],
        input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output.lower() or "don't match" in result.output.lower()
    staff = _staff(session, "x@insurer.example")
    assert staff is not None and password_matches(staff.password_hash, PASSWORD)


def test_a_weak_password_or_a_taken_email_creates_nothing(runner: Any, session: Session) -> None:
    weak = runner.invoke(args=["admin", "create", "x@insurer.example"], input="short\nshort\n")
    assert weak.exit_code == 1
    assert "Not created: at least 10 characters." in weak.output
    assert _staff(session, "x@insurer.example") is None
    runner.invoke(args=["admin", "create", "x@insurer.example"], input=f"{PASSWORD}\n{PASSWORD}\n")
    again = runner.invoke(
        args=["admin", "create", "X@insurer.example"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert again.exit_code == 1
    assert "exists already" in again.output
    invalid = runner.invoke(
        args=["admin", "create", "not-an-email"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert invalid.exit_code == 1
    assert "Not a valid email address." in invalid.output


def test_a_guessable_staff_password_is_refused_with_the_reason(
    runner: Any, session: Session
) -> None:
    result = runner.invoke(
        args=["admin", "create", "weak@insurer.example"], input="aaaaaaaaaa\naaaaaaaaaa\n"
    )
    assert result.exit_code != 0
    assert "too easy to guess" in result.output
    assert _staff(session, "weak@insurer.example") is None


def test_disabling_enabling_and_a_new_password_from_the_command_line_are_audited(
    runner: Any, session: Session
) -> None:
    email = "ops@insurer.example"
    created = runner.invoke(args=["admin", "create", email], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert created.exit_code == 0, created.output
    for args in (["admin", "disable", email], ["admin", "enable", email]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    new = "another long staff password"
    result = runner.invoke(args=["admin", "password", email], input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.output
    [disabled] = audit_rows(session, "staff.disable")
    [enabled] = audit_rows(session, "staff.enable")
    [changed] = audit_rows(session, "staff.password")
    assert (disabled.actor, disabled.entity_label) == ("command line", email)
    assert '"active": true' in (disabled.before or "")
    assert '"active": false' in (disabled.after or "")
    assert '"active": true' in (enabled.after or "")
    assert changed.actor == "command line" and new not in str(vars(changed))

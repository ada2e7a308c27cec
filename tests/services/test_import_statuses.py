"""Policy statuses in the daily file are the configured vocabulary: case and spacing are
normalised, an unknown status refuses the file with the list of allowed ones."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Policy
from portal.services.billing.imports import check, import_bills
from tests.factories import CODE_SETTINGS
from tests.services.test_bill_import import NOW, csv_text, row


def test_a_status_written_with_other_case_and_spacing_is_stored_as_the_vocabulary_has_it(
    session: Session,
) -> None:
    import_bills(session, csv_text(row(policy_status="  Masa   Tenggang ")), settings=CODE_SETTINGS,
                 now=NOW)  # fmt: skip
    session.commit()
    assert session.scalar(select(Policy.status)) == "masa tenggang"


def test_an_unknown_status_refuses_the_file_naming_the_allowed_ones(session: Session) -> None:
    report = check(session, csv_text(row(policy_status="Actve")).encode(), filename="b.csv",
                   settings=CODE_SETTINGS, now=NOW)  # fmt: skip
    [summary] = report.error_summary()
    assert summary.key == "policy_status"
    assert "use one of: aktif, masa tenggang, lapse, batal, berakhir" in str(summary.message)


def test_the_configured_vocabulary_decides(session: Session) -> None:
    text = csv_text(row(policy_status="in force")).encode()
    assert not check(session, text, filename="b.csv", settings=CODE_SETTINGS, now=NOW).ok
    allowed = check(session, text, filename="b.csv", settings=CODE_SETTINGS, now=NOW,
                    policy_statuses=("in force", "lapsed"))  # fmt: skip
    assert allowed.ok

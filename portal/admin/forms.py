"""Staff forms. They check what a form can (a field is there, a date is a date, an amount is
digits); the fields' rules are the services' (``services.billing.validation``, shared with the
import), which report a problem under the import's column name: the form's field names."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.services.billing.receipt import FOOTER_MAX, INFO_MAX, LINE_WIDTH
from portal.services.traffic.cases import NOTE_MAX


def whole_rupiah(form: FlaskForm, field: Any) -> None:
    """An amount as staff type it: digits only, so ``int()`` reads exactly what they meant
    (no ``150.000``, no ``1_000``, no signs); its range is the field's rule in the service."""
    value = field.data.strip() if isinstance(field.data, str) else ""
    if not (value.isascii() and value.isdigit()):
        raise ValidationError(_l("Whole rupiah in digits only, e.g. 150000 (no dots or commas)."))


class LoginForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=128)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class LanguageForm(FlaskForm):
    """The language switch: which language, and the page to return to."""

    language = HiddenField()
    next = HiddenField()


class PolicyholderForm(FlaskForm):
    customer_name = StringField(_l("Name"), validators=[DataRequired()])
    customer_email = StringField(_l("Email"), validators=[DataRequired()])


class PolicyForm(FlaskForm):
    policy_number = StringField(_l("Policy number"), validators=[DataRequired()])
    policy_type = StringField(_l("Type"), validators=[DataRequired()])
    policy_account_name = StringField(_l("Account name"), validators=[DataRequired()])
    # Choices: the configured vocabulary (POLICY_STATUSES), set by the view.
    policy_status = SelectField(_l("Status"), validators=[DataRequired()], choices=[])


class PolicyEditForm(PolicyForm):
    policy_number = StringField(_l("Policy number"), render_kw={"readonly": True})


class ReceiptTextFields:
    info = StringField(
        _l("Info at the till"),
        description=_l(
            "At most %(max)d printable ASCII characters; empty: the default.", max=INFO_MAX
        ),
    )
    footer_message = TextAreaField(
        _l("Receipt footer"),
        description=_l(
            "At most %(max)d printable ASCII characters, printed in lines of %(width)d; empty: "
            "the default.",
            max=FOOTER_MAX,
            width=LINE_WIDTH,
        ),
    )


class BillEditForm(FlaskForm, ReceiptTextFields):
    amount = StringField(_l("Amount (whole rupiah)"), validators=[DataRequired(), whole_rupiah])
    due_date = DateField(_l("Due date"), validators=[DataRequired()])


class BillForm(BillEditForm):
    invoice_number = StringField(_l("Invoice number"), validators=[DataRequired()])
    expires_on = DateField(
        _l("Code valid until (end of day, WIB)"),
        validators=[Optional()],
        description=_l(
            "Empty: the due date plus the grace days (overdue: the grace days from today)."
        ),
    )


class ReceiptDefaultsForm(FlaskForm, ReceiptTextFields):
    pass


class CancelForm(FlaskForm):
    note = TextAreaField(
        _l("Why (shown on the bill and kept in the audit log)"),
        validators=[
            DataRequired(_l("Say why the bill is cancelled.")),
            Length(max=NOTE_MAX),
        ],
    )


class ExpiryForm(FlaskForm):
    expires_on = DateField(
        _l("Code valid until (end of day, WIB)"),
        validators=[DataRequired(_l("Give the date the code stays valid until."))],
    )


class ReissueForm(FlaskForm):
    expires_on = DateField(
        _l("New code valid until (end of day, WIB)"),
        validators=[Optional()],
        description=_l(
            "Empty: the old code's expiry if later, else as for a new bill (the due date plus "
            "the grace days; overdue: the grace days from today)."
        ),
    )


class ResolveForm(FlaskForm):
    # The choices depend on the exception: the view sets them (services.traffic.cases).
    outcome = RadioField(
        _l("What happened to the money"),
        choices=[],
        validate_choice=False,  # the service says which outcomes fit
        validators=[DataRequired(message=_l("Say what happened to the money."))],
    )
    note = TextAreaField(
        _l("What was done"),
        validators=[DataRequired(message=_l("Say what was done in a note.")), Length(max=NOTE_MAX)],
    )


class ImportUploadForm(FlaskForm):
    csv_file = FileField(_l("File (CSV or .xlsx)"), validators=[FileRequired()])


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Length(max=64)])

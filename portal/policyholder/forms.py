"""The portal's forms. Every one carries a CSRF token (Flask-WTF)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from portal.models.billing import EMAIL_MAX
from portal.services.accounts.credentials import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    PasswordProblem,
    password_problem,
)

# Deliberately loose: the address only has to be one we could have on file.
_EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+$"


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


def _email_field() -> Any:
    return EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=EMAIL_MAX, message=_l("This email address is too long.")),
            Regexp(_EMAIL_SHAPE, message=_l("Enter an email address like name@example.com.")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=PASSWORD_MAX),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me logged in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


PASSWORD_PROBLEMS = {
    PasswordProblem.TOO_SHORT: _l("Use at least %(count)d characters.", count=PASSWORD_MIN),
    PasswordProblem.TOO_LONG: _l("Use at most %(count)d characters.", count=PASSWORD_MAX),
    PasswordProblem.DIGITS_ONLY: _l("Use more than digits alone."),
    PasswordProblem.GUESSABLE: _l(
        "This password is too easy to guess (a common password, a pattern, or your own name "
        "or email). Use a longer phrase of unrelated words."
    ),
}


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password."))],
        render_kw={"autocomplete": "new-password", "minlength": PASSWORD_MIN},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(_l("Repeat the password.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    # The account's name and email, which a password must not be built from (set by the view).
    personal: tuple[str, ...] = ()

    def validate_password(self, field: Any) -> None:
        # The rules are services.accounts.credentials.password_problem; this says them in the
        # user's language.
        problem = password_problem(field.data or "", personal=self.personal)
        if problem is not None:
            raise ValidationError(PASSWORD_PROBLEMS[problem])


class LanguageForm(FlaskForm):
    """The language switch: which language, and the page to return to."""

    language = HiddenField()
    next = HiddenField()

"""Accounts of policyholders and staff: passwords, and one-time links to set them.

Links are signed tokens (itsdangerous) that carry the account, the purpose and a fingerprint
of the current password hash: once a password is set the fingerprint changes, so a link works
once, and it expires after its maximum age.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from zxcvbn import zxcvbn

from portal.models import Policyholder, StaffUser
from portal.services.session import Session

PASSWORD_MIN = 10
PASSWORD_MAX = 256
_hasher = PasswordHasher()
# Verified against when the account does not exist, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")

Account = Policyholder | StaffUser


class PasswordProblem(StrEnum):
    """Why a new password is refused (forms say it in the reader's language)."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    DIGITS_ONLY = "digits_only"
    GUESSABLE = "guessable"


_PROBLEM_TEXT = {
    PasswordProblem.TOO_SHORT: f"at least {PASSWORD_MIN} characters",
    PasswordProblem.TOO_LONG: f"at most {PASSWORD_MAX} characters",
    PasswordProblem.DIGITS_ONLY: "not only digits",
    PasswordProblem.GUESSABLE: "too easy to guess (a common password, a pattern or your own "
    "name or email); use a longer phrase of unrelated words",
}
# zxcvbn's scale: 0-2 fall to an online or offline guessing attack in hours to days.
MIN_STRENGTH = 3
_ESTIMATED_PREFIX = 72  # zxcvbn's own limit; the rest only adds strength


class PasswordRejected(ValueError):
    """A new password that does not meet the rules; the message says which."""

    def __init__(self, problem: PasswordProblem) -> None:
        super().__init__(_PROBLEM_TEXT[problem])
        self.problem = problem


class LinkInvalid(ValueError):
    """A link that is forged, used already, for something else, or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "expired" or "invalid"


def hash_password(password: str, *, personal: Iterable[str] = ()) -> str:
    check_new_password(password, personal=personal)
    return _hasher.hash(password)


def password_problem(password: str, *, personal: Iterable[str] = ()) -> PasswordProblem | None:
    """What is wrong with ``password`` as a new password, if anything: the one place the rules
    live. ``personal``: the account's name and email, which make a password guessable.

    Strength is zxcvbn's estimate (common and breached-style passwords, keyboard patterns,
    repeats, dates, the account's own words), not a character-class recipe."""
    if len(password) < PASSWORD_MIN:
        return PasswordProblem.TOO_SHORT
    if len(password) > PASSWORD_MAX:
        return PasswordProblem.TOO_LONG
    if password.isdigit():
        return PasswordProblem.DIGITS_ONLY
    words = [w for text in personal for w in re.split(r"[\s@._+-]+", text.lower()) if len(w) > 2]
    joined = ["".join(re.split(r"[\s._+-]+", text.lower().split("@")[0])) for text in personal]
    estimate = zxcvbn(password[:_ESTIMATED_PREFIX], user_inputs=[*personal, *words, *joined])
    if estimate["score"] < MIN_STRENGTH:
        return PasswordProblem.GUESSABLE
    return None


def check_new_password(password: str, *, personal: Iterable[str] = ()) -> None:
    problem = password_problem(password, personal=personal)
    if problem is not None:
        raise PasswordRejected(problem)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def personal_words(account: Account) -> tuple[str, ...]:
    """What a password must not be built from: the account's email, and its name."""
    return (account.email, account.name)


def end_sessions(account: Account) -> None:
    """End every session and remember-me cookie of the account, on every device: they carry
    the session version, which no longer matches (logout, password change, disabling)."""
    account.session_version = (account.session_version or 1) + 1


def set_password(account: Account, password: str, *, now: datetime) -> None:
    """Set a new password; every existing session and link of the account ends."""
    account.password_hash = hash_password(password, personal=personal_words(account))
    end_sessions(account)
    if isinstance(account, Policyholder) and account.activated_at is None:
        account.activated_at = now


def authenticate_policyholder(
    session: Session, email: str, password: str, *, now: datetime
) -> Policyholder | None:
    holder = session.scalar(select(Policyholder).where(Policyholder.email == email.strip().lower()))
    if not password_matches(holder.password_hash if holder else None, password):
        return None
    assert holder is not None
    holder.last_login_at = now
    return holder


def authenticate_staff(
    session: Session, email: str, password: str, *, now: datetime
) -> StaffUser | None:
    staff = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if not password_matches(staff.password_hash if staff else None, password):
        return None
    assert staff is not None
    if not staff.active:
        return None
    staff.last_login_at = now
    return staff


@dataclass(frozen=True, slots=True)
class LinkSettings:
    secret_key: str
    max_age_seconds: int


def _fingerprint(account: Account) -> str:
    source = f"{account.password_hash or ''}:{account.session_version}"
    return hashlib.sha256(source.encode()).hexdigest()[:20]


def _serializer(settings: LinkSettings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=f"portal.accounts.{purpose}")


def make_link_token(account: Account, purpose: str, settings: LinkSettings) -> str:
    payload = {"kind": account.ACCOUNT_KIND, "id": account.id, "fp": _fingerprint(account)}
    return _serializer(settings, purpose).dumps(payload)


def account_from_link(
    session: Session, token: str, purpose: str, settings: LinkSettings
) -> Policyholder:
    """The policyholder a link was made for, if it is still good. Raises ``LinkInvalid``."""
    try:
        payload = _serializer(settings, purpose).loads(token, max_age=settings.max_age_seconds)
    except SignatureExpired:
        raise LinkInvalid("expired") from None
    except BadSignature:
        raise LinkInvalid("invalid") from None
    if not isinstance(payload, dict) or payload.get("kind") != Policyholder.ACCOUNT_KIND:
        raise LinkInvalid("invalid")
    holder = session.get(Policyholder, payload.get("id"))
    if holder is None or payload.get("fp") != _fingerprint(holder):
        raise LinkInvalid("invalid")  # used already, or superseded by a newer password
    return holder

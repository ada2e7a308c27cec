"""How dates, times and durations are written, in the portal and in every email alike.

One function per shape, given the reader's language ("id" or "en"): the pages call them with
the request's language, the emails with the policyholder's. Times are shown in WIB.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_date, format_time

from portal.services.billing.payment_codes import WIB


def _locale(language: str) -> str:
    return "en" if language == "en" else "id"


def long_date(value: date | datetime, language: str) -> str:
    """``21 Mei 2026`` / ``21 May 2026``; a datetime is first moved to WIB."""
    if isinstance(value, datetime):
        value = value.astimezone(WIB).date()
    return str(format_date(value, "d MMMM y", locale=_locale(language)))


def wib_time(value: datetime, language: str) -> str:
    """``21 Mei 2026, 16.59 WIB`` / ``21 May 2026, 16:59 WIB``."""
    moment = value.astimezone(WIB)
    clock = "HH.mm" if _locale(language) == "id" else "HH:mm"
    time_text = format_time(moment.time(), clock, locale=_locale(language))
    return f"{long_date(moment, language)}, {time_text} WIB"


_UNITS = {
    "id": (("hari", "hari"), ("jam", "jam"), ("menit", "menit")),
    "en": (("day", "days"), ("hour", "hours"), ("minute", "minutes")),
}


def duration(value: timedelta, language: str) -> str:
    """A length of time in words, in its largest whole unit: ``7 hari``, ``1 day``,
    ``36 jam`` (not ``1,5 hari``), ``15 minutes``; never less than one minute."""
    day, hour, minute = _UNITS[_locale(language)]
    seconds = max(60, int(value.total_seconds()))
    for (one, many), size in ((day, 86400), (hour, 3600), (minute, 60)):
        if seconds % size == 0 or size == 60:
            count = seconds // size
            return f"{count} {one if count == 1 else many}"
    raise AssertionError("unreachable")  # pragma: no cover

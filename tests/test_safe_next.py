"""One check guards every ``next`` redirect, the policyholder's and the staff's alike."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.web import safe_next

OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "/\t/evil.example",
    "/\x7f/evil.example",
    "payments",
    "",
    None,
]


@pytest.mark.parametrize("target", OFF_SITE)
@pytest.mark.parametrize("area", ["", "/admin"])
def test_no_area_lets_a_redirect_leave_the_site(app: Flask, target: str | None, area: str) -> None:
    with app.test_request_context("/"):
        assert safe_next(target, area=area) is None


def test_a_path_on_the_site_is_kept_with_its_query(app: Flask) -> None:
    with app.test_request_context("/"):
        assert safe_next("/bills/3?lang=en") == "/bills/3?lang=en"
        assert safe_next("/admin/bills?q=x", area="/admin") == "/admin/bills?q=x"
        assert safe_next("/admin", area="/admin") == "/admin"


@pytest.mark.parametrize("target", ["/account", "/administrator", "/admin.evil", "/"])
def test_the_staff_area_only_goes_back_into_the_staff_area(app: Flask, target: str) -> None:
    with app.test_request_context("/"):
        assert safe_next(target, area="/admin") is None


def test_under_a_script_root_the_target_must_be_under_it_too(app: Flask) -> None:
    with app.test_request_context("/", base_url="http://localhost/portal"):
        assert safe_next("/portal/bills") == "/portal/bills"
        assert safe_next("/portal/admin/x", area="/admin") == "/portal/admin/x"
        assert safe_next("/bills") is None
        assert safe_next("/admin/x", area="/admin") is None

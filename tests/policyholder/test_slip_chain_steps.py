"""The PDF slip carries the steps of the chain the policyholder chose, from the same list as
the bill page (services/billing/chains), in the policyholder's language."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.services.billing.chains import CHAINS, chosen_chain
from tests.pdf_text import drawn_strings
from tests.policyholder.conftest import add_bill, log_in, make_holder, page_text


def _pdf_text(document: bytes) -> str:
    return drawn_strings(document)


def _slip(client: FlaskClient, session: Session, query: str = "") -> str:
    holder = make_holder(session)
    bill = add_bill(session, holder)
    log_in(client, holder.email)
    response = client.get(f"/bills/{bill.id}/slip.pdf{query}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return _pdf_text(response.data)


def test_the_slip_carries_the_chosen_chains_steps_and_not_anothers(
    client: FlaskClient, session: Session
) -> None:
    text = _slip(client, session, "?chain=lawson")
    assert "Cara membayar di Lawson" in text
    assert "Datang ke kasir gerai Lawson." in text  # Lawson's own first step
    assert "Simpan struk Lawson." in text
    assert "Alfamart" not in text and "mana saja" not in text  # Alfamart's first step


def test_alfaexpress_slips_alone_carry_the_small_store_step(
    client: FlaskClient, other_client: FlaskClient, session: Session
) -> None:
    alfaexpress = _slip(client, session, "?chain=alfaexpress")
    assert "Datang ke kasir gerai Alfaexpress mana saja." in alfaexpress
    assert "Gerai kecil mungkin hanya punya satu kasir" in alfaexpress
    holder = make_holder(session, name="Siti Rahayu", email="siti@example.com")
    bill = add_bill(session, holder)
    log_in(other_client, holder.email)
    lawson = _pdf_text(other_client.get(f"/bills/{bill.id}/slip.pdf?chain=dandan").data)
    assert "Dan+Dan" in lawson and "Gerai kecil" not in lawson


def test_without_a_known_chain_the_slip_carries_alfamarts_steps_like_the_page(
    client: FlaskClient, session: Session
) -> None:
    text = _slip(client, session, "?chain=indomaret")
    assert "Cara membayar di Alfamart" in text
    assert "Datang ke kasir gerai Alfamart mana saja." in text
    assert chosen_chain(None) == chosen_chain("indomaret") == CHAINS[0]


def test_the_slip_speaks_the_policyholders_language(client: FlaskClient, session: Session) -> None:
    client.set_cookie("lang", "en")
    text = _slip(client, session, "?chain=alfamidi")
    assert "How to pay at Alfamidi" in text
    assert "Go to the cashier of any Alfamidi store." in text
    assert "Datang ke kasir" not in text


def test_the_bill_page_links_the_slip_of_the_chosen_chain_and_of_each_panel(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    bill = add_bill(session, holder)
    log_in(client, holder.email)
    page = page_text(client.get(f"/bills/{bill.id}?chain=lawson"))
    main = page.split('id="slip-pdf" href="', 1)[1].split('"', 1)[0]
    assert main == f"/bills/{bill.id}/slip.pdf?chain=lawson"
    for chain in CHAINS:
        link = page.split(f'id="slip-{chain.slug}" href="', 1)[1].split('"', 1)[0]
        assert link == f"/bills/{bill.id}/slip.pdf?chain={chain.slug}"
    # The page's steps are the same texts as the slip's.
    assert "Datang ke kasir gerai Lawson. Kasirnya menerima pembayaran Alfa Group" in page
    default = page_text(client.get(f"/bills/{bill.id}"))
    assert f'id="slip-pdf" href="/bills/{bill.id}/slip.pdf"' in default

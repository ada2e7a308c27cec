"""Seed N live bills for the inquiry benchmark with psycopg 3 COPY (no ORM); on SQLite
(DATABASE_URL=sqlite:///...) with SQLAlchemy Core inserts of the app's own tables.

One policyholder, one policy (status from ACTIVE_POLICY_STATUSES), one unpaid bill (amount within
ALFA_MIN_AMOUNT..ALFA_MAX_AMOUNT, due in 1-60 days) and one live payment code per bill. Codes come
from the app's own generator (prefix + CSPRNG digits + Luhn digit, app's prefix and length) and
expire ``PAYMENT_CODE_GRACE_DAYS`` after the due date, like codes the app issues. Then
VACUUM ANALYZE and CHECKPOINT (needs a superuser), so the measurement starts from a settled
database.

Usage: DATABASE_URL=... SECRET_KEY=... DOKU_CLIENT_ID=... DOKU_SECRET_KEY=... \
       python bench/inquiry/seed.py N
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, date, datetime, timedelta

import psycopg

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import app_config, conninfo, is_sqlite

from portal.services.billing.payment_codes import (
    CodeSettings,
    default_expiry,
    generate_code,
    luhn_valid,
)

CHUNK = 50_000
POLICY_TYPES = ("Asuransi Jiwa", "Asuransi Kesehatan", "Asuransi Pendidikan", "Asuransi Mobil")


def unique_codes(n: int, settings: CodeSettings) -> list[str]:
    seen: set[str] = set()
    codes: list[str] = []
    while len(codes) < n:
        code = generate_code(settings)
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return codes


def copy_rows(cur: psycopg.Cursor, table: str, columns: str, n: int, row) -> None:
    """COPY ... FROM STDIN in text format, written in chunks of pre-formatted lines."""
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for start in range(1, n + 1, CHUNK):
            stop = min(start + CHUNK, n + 1)
            copy.write("".join([row(i) for i in range(start, stop)]))


def main() -> None:
    n = int(sys.argv[1])
    t0 = time.monotonic()
    cfg = app_config()
    settings = CodeSettings(
        prefix=cfg["PAYMENT_CODE_PREFIX"],
        length=cfg["PAYMENT_CODE_LENGTH"],
        grace_days=cfg["PAYMENT_CODE_GRACE_DAYS"],
    )
    min_amount, max_amount = cfg["ALFA_MIN_AMOUNT"], cfg["ALFA_MAX_AMOUNT"]
    status = cfg["ACTIVE_POLICY_STATUSES"][0]
    rng = random.Random(20261127)

    codes = unique_codes(n, settings)
    assert all(luhn_valid(c) for c in codes[:1000])
    today = date.today()
    now = datetime.now(UTC).isoformat()
    dues = [today + timedelta(days=d) for d in range(1, 61)]
    expiry = {d: default_expiry(d, settings).isoformat() for d in dues}
    due_of = [None] + [rng.choice(dues) for _ in range(n)]
    # Amounts in whole thousands of rupiah within the Alfa limits.
    lo, hi = -(-min_amount // 1000), max_amount // 1000
    amount_of = [None] + [rng.randint(lo, hi) * 1000 for _ in range(n)]
    t_gen = time.monotonic() - t0
    if is_sqlite():
        live = seed_sqlite(n, codes, due_of, amount_of, status, settings)
        print(f"seeded {n} bills ({live} live codes) into SQLite in {time.monotonic() - t0:.1f} s")
        if live != n:
            sys.exit(f"expected {n} live codes, found {live}")
        return

    with psycopg.connect(conninfo()) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        copy_rows(
            cur,
            "policyholders",
            "id, name, email, created_at",
            n,
            lambda i: f"{i}\tPemegang Polis {i}\tph{i}@bench.example\t{now}\n",
        )
        copy_rows(
            cur,
            "policies",
            "id, policyholder_id, number, type, account_name, status, created_at",
            n,
            lambda i: (
                f"{i}\t{i}\tPOL-{i:010d}\t{POLICY_TYPES[i % 4]}\tPemegang Polis {i}"
                f"\t{status}\t{now}\n"
            ),
        )
        copy_rows(
            cur,
            "bills",
            "id, policy_id, invoice_number, amount, due_date, state, info, footer_message,"
            " created_at, updated_at",
            n,
            lambda i: (
                f"{i}\t{i}\tINV-BENCH-{i:010d}\t{amount_of[i]}\t{due_of[i].isoformat()}"
                f"\tunpaid\t\\N\t\\N\t{now}\t{now}\n"
            ),
        )
        copy_rows(
            cur,
            "payment_codes",
            "id, bill_id, code, expires_at, issued_at, retired_at",
            n,
            lambda i: f"{i}\t{i}\t{codes[i - 1]}\t{expiry[due_of[i]]}\t{now}\t\\N\n",
        )
        for table in ("policyholders", "policies", "bills", "payment_codes"):
            cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (table, n))
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE policyholders, policies, bills, payment_codes, inquiries")
        # Flush the bulk load now, so that no checkpoint of it runs during the measurement.
        cur.execute("CHECKPOINT")
        cur.execute(
            "SELECT count(*) FROM payment_codes WHERE retired_at IS NULL AND expires_at > now()"
        )
        live = cur.fetchone()[0]
    print(
        f"seeded {n} bills ({live} live codes, prefix {settings.prefix}, length {settings.length}) "
        f"in {time.monotonic() - t0:.1f} s (generation {t_gen:.1f} s)"
    )
    if live != n:
        sys.exit(f"expected {n} live codes, found {live}")


def seed_sqlite(
    n: int,
    codes: list[str],
    due_of: list,
    amount_of: list,
    status: str,
    settings: CodeSettings,
) -> int:
    """The same rows as the COPY path, through the app's tables (its UTC datetime type)."""
    import os

    from sqlalchemy import create_engine, func, select

    from portal.models import Bill, PaymentCode, Policy, Policyholder

    now = datetime.now(UTC)
    engine = create_engine(os.environ["DATABASE_URL"])
    ids = range(1, n + 1)
    with engine.begin() as conn:
        conn.execute(
            Policyholder.__table__.insert(),
            [{"id": i, "name": f"Pemegang Polis {i}", "email": f"ph{i}@bench.example",
              "created_at": now} for i in ids],
        )  # fmt: skip
        conn.execute(
            Policy.__table__.insert(),
            [{"id": i, "policyholder_id": i, "number": f"POL-{i:010d}",
              "type": POLICY_TYPES[i % 4], "account_name": f"Pemegang Polis {i}",
              "status": status, "created_at": now} for i in ids],
        )  # fmt: skip
        conn.execute(
            Bill.__table__.insert(),
            [{"id": i, "policy_id": i, "invoice_number": f"INV-BENCH-{i:010d}",
              "amount": amount_of[i], "due_date": due_of[i], "state": "unpaid", "info": None,
              "footer_message": None, "created_at": now, "updated_at": now} for i in ids],
        )  # fmt: skip
        conn.execute(
            PaymentCode.__table__.insert(),
            [{"id": i, "bill_id": i, "code": codes[i - 1],
              "expires_at": default_expiry(due_of[i], settings), "issued_at": now,
              "retired_at": None} for i in ids],
        )  # fmt: skip
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        live: int = conn.execute(
            select(func.count())
            .select_from(PaymentCode)
            .where(PaymentCode.retired_at.is_(None), PaymentCode.expires_at > now)
        ).scalar_one()
    engine.dispose()
    return live


if __name__ == "__main__":
    main()

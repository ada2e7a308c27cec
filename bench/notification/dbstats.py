"""Database figures for the notification benchmark's checks, as JSON on stdout.

``dbstats.py mark``   -> the highest ids of notifications, payments and payment_exceptions
``dbstats.py since N P E`` -> what rows after those ids say: deliveries stored, by verdict,
outcome and HTTP status; payments added; whether every bill delivered got exactly one payment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inquiry"))
from common import conninfo

MARK = """
SELECT (SELECT coalesce(max(id), 0) FROM notifications),
       (SELECT coalesce(max(id), 0) FROM payments),
       (SELECT coalesce(max(id), 0) FROM payment_exceptions)
"""

# The bills the new deliveries were about (by payment code, set once a delivery is processed),
# and the payments added since the mark.
SINCE = """
WITH delivered AS (
    SELECT DISTINCT payment_code FROM notifications WHERE id > %(n)s AND payment_code IS NOT NULL
), new_payments AS (
    SELECT * FROM payments WHERE id > %(p)s
)
SELECT
    (SELECT count(*) FROM delivered),
    (SELECT count(*) FROM new_payments),
    (SELECT count(*) FROM delivered d
      WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.payment_code = d.payment_code)),
    (SELECT count(*) FROM new_payments p
      WHERE NOT EXISTS (SELECT 1 FROM delivered d WHERE d.payment_code = p.payment_code)),
    (SELECT count(*) - count(DISTINCT bill_id) FROM payments),
    (SELECT count(*) FROM payments),
    (SELECT count(*) FROM bills WHERE state = 'paid'),
    (SELECT count(*) FROM payment_exceptions WHERE id > %(e)s),
    (SELECT count(*) FROM notifications WHERE id > %(n)s AND processed_at IS NULL),
    (SELECT count(DISTINCT request_id) FROM notifications WHERE id > %(n)s)
"""


def main() -> None:
    with psycopg.connect(conninfo()) as conn:
        if sys.argv[1] == "mark":
            n, p, e = conn.execute(MARK).fetchone()
            print(json.dumps({"notification_id": n, "payment_id": p, "exception_id": e}))
            return
        ids = {"n": int(sys.argv[2]), "p": int(sys.argv[3]), "e": int(sys.argv[4])}
        by = conn.execute(
            "SELECT verdict, coalesce(outcome, '-'), coalesce(http_status, 0), count(*)"
            " FROM notifications WHERE id > %(n)s GROUP BY 1, 2, 3",
            ids,
        ).fetchall()
        (
            bills,
            payments,
            unpaid,
            stray,
            extra_payments,
            all_payments,
            paid_bills,
            exceptions,
            unprocessed,
            request_ids,
        ) = conn.execute(SINCE, ids).fetchone()
        outcomes: dict[str, int] = {}
        for _, outcome, _, n in by:
            outcomes[outcome] = outcomes.get(outcome, 0) + n
        print(
            json.dumps(
                {
                    "rows": sum(n for *_, n in by),
                    "by_outcome": outcomes,
                    "by_status": {f"{s} {v} {o}": n for v, o, s, n in by},
                    "distinct_request_ids": request_ids,
                    "bills_delivered": bills,
                    "payments_added": payments,
                    "bills_delivered_without_payment": unpaid,
                    "payments_for_undelivered_bills": stray,
                    "bills_with_two_payments": extra_payments,
                    "payments_total": all_payments,
                    "bills_paid_total": paid_bills,
                    "exceptions_added": exceptions,
                    "unprocessed": unprocessed,
                }
            )
        )


if __name__ == "__main__":
    main()

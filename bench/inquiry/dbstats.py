"""Inquiry-table figures for run.sh's checks, as JSON on stdout.

``dbstats.py mark``        -> {"max_id": ..., "rows": ...}
``dbstats.py since MAX_ID`` -> rows recorded after MAX_ID, by HTTP status and verdict
"""

from __future__ import annotations

import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import connect


def main() -> None:
    with connect() as conn:
        if sys.argv[1] == "mark":
            max_id, rows = conn.execute(
                "SELECT coalesce(max(id), 0), count(*) FROM inquiries"
            ).fetchone()
            print(json.dumps({"max_id": max_id, "rows": rows}))
            return
        since = int(sys.argv[2])
        by = conn.execute(
            "SELECT http_status, verdict, count(*) FROM inquiries WHERE id > %s GROUP BY 1, 2",
            (since,),
        ).fetchall()
        dupes = conn.execute(
            "SELECT count(*) - count(DISTINCT request_id) FROM inquiries WHERE id > %s", (since,)
        ).fetchone()[0]
        print(
            json.dumps(
                {
                    "rows": sum(n for _, _, n in by),
                    "by_status": {f"{s} {v}": n for s, v, n in by},
                    "duplicate_request_ids": dupes,
                }
            )
        )


if __name__ == "__main__":
    main()

"""The database session a service takes.

Services work on whatever session they are given and never commit (the caller does). The
web layer passes ``db.session``, Flask-SQLAlchemy's ``scoped_session``, which proxies every
``Session`` method to the request's session; tests, the CLI and the job consumer pass the
same or a plain ``sqlalchemy.orm.Session``. ``Session`` here names both, so the services are
typed for what they really receive, with no casts and no ``db.session()`` at every call.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import scoped_session

Session: TypeAlias = OrmSession | scoped_session[Any]

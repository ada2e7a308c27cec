"""Extensions, created unbound; ``create_app`` binds them."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from portal.jobs.queue import JobQueue
from portal.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# No default limits: only the routes that ask (logins, password links) are limited.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()
talisman = Talisman()
# The job queue (Huey): each app gets its own, built from JOBS_URL in create_app.
jobs = JobQueue()

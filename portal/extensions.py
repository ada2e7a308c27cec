"""Extensions, created unbound; ``create_app`` binds them."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from portal.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()

"""A bare Flask app with one POST route: the ceiling for any Flask view under the same gunicorn.

Run with the project's settings: ``gunicorn -c gunicorn.conf.py --pythonpath bench hello_app:app``.
"""

from flask import Flask, Response, request

app = Flask(__name__)


@app.post("/hello")
def hello() -> Response:
    request.get_data(cache=False)  # read the body, as the inquiry view does
    return Response(b'{"hello":"world"}', mimetype="application/json")

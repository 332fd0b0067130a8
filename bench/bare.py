"""The baseline: the smallest Flask app that answers JSON. Served by the same gunicorn
settings as the real app, its req/s is what "no API-key pipeline at all" costs on this
machine; every other number is reported as a fraction of it."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return {"status": "ok", "service": "bare"}

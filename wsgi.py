"""WSGI entry point: ``gunicorn -w 4 wsgi:app`` and ``flask --app wsgi ...``."""
from dotenv import load_dotenv

load_dotenv()  # optional .env for local settings; it is git-ignored

from app import create_app  # noqa: E402

app = create_app()

"""``/docs`` works offline: the Swagger UI page that flask-smorest renders loads its
scripts and styles from ``/docs/assets/``, served here from the installed
``swagger-ui-bundle`` package, never from a CDN. The page then needs nothing but this
server (and reads the document from ``/openapi.json``)."""
from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/docs/assets/"  # OPENAPI_SWAGGER_UI_URL in app/config.py
blp = Blueprint("docs", __name__)


@blp.route(ASSETS_URL + "<path:filename>")
def assets(filename):
    """Swagger UI's own files (send_from_directory refuses paths outside the folder)."""
    return send_from_directory(swagger_ui_path, filename, max_age=86400)

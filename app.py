"""taskhub's Chalice app: mounts every face, the queue handlers and schedules. Thin."""

from chalice import Chalice

from chalicelib import __version__
from chalicelib.core.config import settings
from chalicelib.core.face import json_response
from chalicelib.faces import load_faces

app = Chalice(app_name="taskhub")
app.api.binary_types = []

for face in load_faces():
    app.register_blueprint(face.blueprint, url_prefix=face.prefix)


@app.route("/health")
def health():
    """Unauthenticated liveness: version and stage only."""
    return json_response({"status": "ok", "version": __version__, "stage": settings().stage})


if settings().embedded:
    from chalicelib.core import embedded

    embedded.start(app)

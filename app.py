"""taskhub's Chalice app: mounts every face, the queue handlers and schedules. Thin.

Importing it is a Lambda's cold start: every route is registered, but each face's domain
loads with the first request that uses it (`chalicelib.core.lazy`).
"""

from chalice import Chalice, Rate

from chalicelib import __version__
from chalicelib.core import observability
from chalicelib.core.config import settings
from chalicelib.core.face import json_response
from chalicelib.faces import load_faces

app = Chalice(app_name="taskhub", configure_logs=False)  # observability configures them
app.api.binary_types = []
observability.install(app)  # JSON logs, metrics and traces around every handler

for face in load_faces(domains=False):
    app.register_blueprint(face.blueprint, url_prefix=face.prefix)


@app.route("/health")
def health():
    """Unauthenticated liveness: version and stage only."""
    return json_response({"status": "ok", "version": __version__, "stage": settings().stage})


@app.on_sqs_message(queue=settings().resource_name("jobx"), batch_size=1)
def jobx_queue(event):
    """JOBX engine: each message moves one task's state machine by one step."""
    from chalicelib.jobs import worker

    return worker.handle_sqs(event.to_dict(), event.context)


@app.on_sqs_message(queue=settings().resource_name("jobx-local"), batch_size=1)
def jobx_local(event):
    """JOBX local executor: runs one order of a step's nodes and records their outcomes."""
    from chalicelib.jobs import runner

    return runner.handle_sqs(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def jobx_reaper(event):
    """JOBX: re-drive work stuck past its deadline; time out approvals and decisions."""
    from chalicelib.jobs import worker

    worker.reap()


@app.on_sqs_message(queue=settings().resource_name("scans"), batch_size=1)
def scan_queue(event):
    """Scan engine: each message starts a job, runs a shard, merges a task or closes a job."""
    from chalicelib.scans import worker

    return worker.handle_sqs(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def scan_reaper(event):
    """Scans: re-drive jobs that make no progress; close those past their deadline."""
    from chalicelib.scans import worker

    worker.reap()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def fire_schedules(event):
    """Cron schedules: fire the JOBX runs and scans due this minute, each slot at most once."""
    from chalicelib.schedules import firing

    firing.run()


@app.on_sqs_message(queue=settings().resource_name("webhooks"), batch_size=1)
def webhook_queue(event):
    """Completion webhooks: each message is one signed POST of one delivery."""
    from chalicelib.webhooks import worker

    return worker.handle_sqs(event.to_dict(), event.context)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def webhook_reaper(event):
    """Completion webhooks: send again pending deliveries whose message never came."""
    from chalicelib.webhooks import worker

    worker.reap()


if settings().embedded:
    from chalicelib.core import embedded

    embedded.start(app)

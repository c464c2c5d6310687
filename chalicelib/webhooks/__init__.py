"""Completion webhooks: signed JSON events to allow-listed URLs when a JOBX task or a scan
ends, delivered through SQS with retries, a dead-letter queue, listing and redelivery."""

FACES = ("jobx", "tca", "codearts")  # the faces whose tasks and scans may name callbacks

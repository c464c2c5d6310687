"""The `taskhub` command line: follows JOBX tasks and scans with live progress, answers
their gates, and runs the everyday verbs against a taskhub server over HTTP. It is a
client only: the Lambda app never imports it, and it imports nothing of the server's but
the standard-library helpers in `chalicelib.core.documents`."""

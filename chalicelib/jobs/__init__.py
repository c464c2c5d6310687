"""JOBX (seed 002): rolling jobs over machine groups, run in batches by an SQS-driven engine."""

FACE = "jobx"  # the face whose permissions (read, write, control, delete) guard JOBX

"""Huawei CodeArts Check (seed 004): check tasks, their runs and defects, on the scan engine.

A CodeArts task is a scan project of the engine: its repository registered under the
CodeArts project's owner (`codearts:<project id>`), its scheme made for it from the task's
languages. A task's runs are the project's scan jobs; its defects are the project's issues.
Clients are Huawei's own SDK (AK/SK signatures) and the REST docs' `X-Auth-Token` callers.
"""

FACE = "codearts"  # the face's name: its namespaces are CodeArts projects

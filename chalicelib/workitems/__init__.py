"""ONES work items (seed 001): the legacy task API of ONES Project, plus paged list and history."""

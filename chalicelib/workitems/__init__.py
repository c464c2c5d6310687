"""ONES work items (seed 001): the legacy task API of ONES Project, plus paged list and history."""

# The face's name (its namespaces are teams) and its permissions per role, here so that the
# face module registers them without importing the domain.
FACE = "ones"
PERMISSIONS = {
    "viewer": ["view_tasks"],
    "member": ["view_tasks", "create_tasks", "update_tasks", "transit_tasks"],
    "admin": ["view_tasks", "create_tasks", "update_tasks", "delete_tasks", "transit_tasks"],
}

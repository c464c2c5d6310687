"""The web console (`/console`): read-only HTML pages over the faces' data, for the people
who run jobs and scans. A face of its own with no domain: each page calls the services of
the domain it shows (JOBX reports, the scan engine's queries, ONES's lists)."""

FACE = "console"

# the permission that lets a caller read a namespace, in each face's own names (core.auth)
READ = {"jobx": "read", "tca": "read", "codearts": "task:view", "ones": "view_tasks"}

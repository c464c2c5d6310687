"""Code scans: repositories, projects, scan jobs and their tool tasks, run on SQS."""

FACE_TCA = "tca"  # the face whose namespaces (organisations, teams) own repositories

"""Code scans: repositories, projects, scan jobs and their tool tasks, run on SQS."""

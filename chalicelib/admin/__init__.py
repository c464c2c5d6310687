"""Admin surface: the workspace document over HTTP (`/admin/v1`) and as a CLI."""

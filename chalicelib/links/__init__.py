"""DTask links: tasks linked to Bugzilla bugs, Gerrit changes and Tower todos (seed 000)."""

"""Users, API tokens, access keys, namespaces and memberships shared by every face."""

"""Shared parts every face stands on: config, AWS clients, identity, errors, ids, paging."""

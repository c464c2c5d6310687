"""API Gateway takes one variable name per path level; `chalice local` does not check it."""

from collections import defaultdict

from app import app as chalice_app


def test_one_variable_name_per_path_level():
    names = defaultdict(set)
    for path in chalice_app.routes:
        if not path.startswith("/jobx/"):
            continue
        assert not path.endswith("/")
        parts = path.strip("/").split("/")
        for depth, part in enumerate(parts):
            if part.startswith("{"):
                names["/".join(parts[:depth])].add(part)
    clashes = {parent: sorted(found) for parent, found in names.items() if len(found) > 1}
    assert clashes == {}

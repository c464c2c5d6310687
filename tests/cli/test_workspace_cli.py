"""`taskhub workspace apply` / `export` against `/admin/v1/workspace`: apply a file, export
it back page by page (small pages, so a namespace's members run over several), and apply
the export again: everything unchanged."""

from __future__ import annotations

import json

from .conftest import ADMIN_TOKEN

DOCUMENT = {
    "users": [
        {"uuid": f"CLIws{i:03d}", "name": f"U{i}", "email": f"u{i}@cli.example.com"}
        for i in range(6)
    ],
    "namespaces": [
        {
            "face": "jobx",
            "id": "cliws",
            "members": {f"CLIws{i:03d}": "member" for i in range(6)},
        }
    ],
    "jobx_nodes": [{"project": "cliws", "name": f"n{i}"} for i in range(3)],
}


def test_apply_export_round_trip(cli, server, tmp_path):
    cli.env.update(TASKHUB_URL=server.base, TASKHUB_TOKEN=ADMIN_TOKEN)
    source = tmp_path / "workspace.json"
    source.write_text(json.dumps(DOCUMENT))
    applied = cli("workspace", "apply", str(source), "--json")
    assert applied.code == 0, applied
    assert applied.json()["users"]["created"] + applied.json()["users"]["unchanged"] == 6
    table = cli("workspace", "apply", str(source))
    assert table.code == 0 and "unchanged" in table.out and "namespaces" in table.out

    out = tmp_path / "export.json"
    exported = cli("workspace", "export", "--limit", "2", "--out", str(out), "--json")
    assert exported.code == 0, exported
    assert exported.json()["pages"] > 3
    document = json.loads(out.read_text())
    mine = [n for n in document["namespaces"] if n["id"] == "cliws"]
    assert len(mine) == 1 and mine[0]["members"] == DOCUMENT["namespaces"][0]["members"]
    assert {u["uuid"] for u in document["users"]} >= {u["uuid"] for u in DOCUMENT["users"]}
    assert "token" not in out.read_text() and "password" not in out.read_text()

    again = cli("workspace", "apply", str(out), "--json").json()
    assert all(c["created"] == 0 and c["updated"] == 0 for c in again.values()), again
    same = cli("workspace", "export", "--limit", "1000")
    assert json.loads(same.out) == document  # stdout without --out: the document alone


def test_a_bad_document_is_the_admin_envelope_in_one_line(cli, server, tmp_path):
    cli.env.update(TASKHUB_URL=server.base, TASKHUB_TOKEN=ADMIN_TOKEN)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"namespaces": [{"face": "nosuchface", "id": "x"}]}))
    done = cli("workspace", "apply", str(bad))
    assert done.code == 3 and done.err.startswith("taskhub: 400: ") and done.err.count("\n") == 1
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    done = cli("workspace", "apply", str(broken))
    assert done.code == 3 and "is not JSON" in done.err

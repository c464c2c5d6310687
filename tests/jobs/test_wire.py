"""The original's wire shapes (open-c3 JOBX), which its web UI and CI flowlines read: field
names, JSON types, ordering and uuid conventions. taskhub's extras ride along as more fields."""

import re
from concurrent.futures import ThreadPoolExecutor

from chalicelib.jobs import catalog

from .conftest import PROJECT

TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
ALNUM12 = re.compile(r"^[A-Za-z0-9]{12}$")


def _create_group(jobx, name, **fields):
    body = {"name": name, "group_type": "list", "node": "n01", **fields}
    return jobx.ok("POST", f"/group/{PROJECT}", body)


def test_group_ids_are_digit_strings_newest_first_with_a_group_uuid(jobx):
    first = _create_group(jobx, "a", node="n01;n02")
    second = _create_group(jobx, "b", group_type="percent", percent="1:50%", node="")
    assert (first["data"], second["data"]) == (True, True)  # create answers data: true
    assert (first["id"], second["id"]) == ("1", "2")  # the id is an extra, digits
    listed = jobx.ok("GET", f"/group/{PROJECT}")["data"]
    assert [g["id"] for g in listed] == ["2", "1"]  # order by id desc
    original = {"id", "name", "note", "group_type", "group_uuid", "edit_time"}
    assert all(original <= set(g) for g in listed)
    assert all(ALNUM12.match(g["group_uuid"]) and TIME.match(g["edit_time"]) for g in listed)
    detail = jobx.ok("GET", f"/group/{PROJECT}/1")["data"]
    assert {k: detail[k] for k in ("id", "projectid", "group_type", "name", "note", "node")} == {
        "id": "1",
        "projectid": PROJECT,
        "group_type": "list",
        "name": "a",
        "note": "",
        "node": "n01;n02",
    }
    assert "percent" not in detail
    percent = jobx.ok("GET", f"/group/{PROJECT}/2")["data"]
    assert percent["percent"] == "1:50%" and "node" not in percent
    edited = jobx.ok(
        "POST", f"/group/{PROJECT}/1", {"name": "a", "group_type": "list", "node": "n03"}
    )
    assert edited["data"] is True
    after = jobx.ok("GET", f"/group/{PROJECT}/1")["data"]
    assert after["node"] == "n03" and after["group_uuid"] != detail["group_uuid"]
    assert jobx.ok("GET", f"/group/{PROJECT}/0001")["data"]["id"] == "1"


def test_group_routes_take_digits_only_and_answer_the_originals_errors(jobx, admin):
    _create_group(jobx, "a")
    for method, path in (
        ("GET", "/abc"),
        ("GET", "/abc/node"),
        ("POST", "/1a"),
        ("DELETE", "/x"),
    ):
        body = {"name": "a", "group_type": "list", "node": "n01"}
        status, data = jobx.call(method, f"/group/{PROJECT}{path}", body, headers=admin)
        assert (status, data) == (400, {"stat": False, "info": "check format fail id"}), path
    for method, path in (("GET", "/7"), ("POST", "/7"), ("DELETE", "/7"), ("GET", "9" * 40)):
        body = {"name": "z", "group_type": "list", "node": "n01"}
        status, data = jobx.call(method, f"/group/{PROJECT}/{path.lstrip('/')}", body, admin)
        assert (status, data) == (404, {"stat": False, "info": "mismatch id"}), path
    status, data = jobx.call("GET", f"/group/{PROJECT}/7/node")
    assert (status, data) == (404, {"stat": False, "info": "group id mismatch: 7"})


def test_group_ids_come_from_one_atomic_counter(jobx):
    """Writers racing for ids never share one: each id is one ADD on the project's counter."""

    def take(_):
        return [catalog.next_ids(PROJECT, group=1)["group"] for _ in range(10)]

    with ThreadPoolExecutor(4) as pool:  # an error in a writer is raised here
        taken = [n for ids in pool.map(take, range(4)) for n in ids]
    assert sorted(taken) == list(range(1, 41))
    assert catalog.next_ids(PROJECT, task=1, subtask=5) == {"task": 1, "subtask": 5}
    assert _create_group(jobx, "after")["id"] == "41"


def _yaml_xs(variables: dict) -> str:
    """YAML::XS's Dump as an oracle: libyaml's emitter (PyYAML's port of it), with YAML::XS's
    rule for strings (quoted when number-like, empty, true, false, null or ~; otherwise the
    emitter picks plain where YAML allows it) and keys in order. No folding: wide width."""
    import yaml

    class Resolver(yaml.resolver.BaseResolver):
        pass  # no implicit types: the emitter never quotes a string for looking like one

    class Dumper(
        yaml.emitter.Emitter, yaml.serializer.Serializer, yaml.representer.SafeRepresenter, Resolver
    ):
        def __init__(self, stream, **kwargs):
            yaml.emitter.Emitter.__init__(self, stream, allow_unicode=True, width=10**6)
            yaml.serializer.Serializer.__init__(self, explicit_start=True)
            yaml.representer.SafeRepresenter.__init__(
                self, default_flow_style=False, sort_keys=True
            )
            Resolver.__init__(self)

    def string(dumper, value):
        quoted = value in ("", "~", "true", "false", "null") or NUMBER.match(value)
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, "'" if quoted else None)

    Dumper.add_representer(str, string)
    return yaml.dump(variables, Dumper=Dumper)


NUMBER = re.compile(
    r"^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)\s*$", re.I
)


def test_variable_text_is_yaml_xs_style():
    from chalicelib.jobs.views import yaml_text

    values = [
        "1.2.3",
        "1.2",
        "12",
        "-3",
        "+4",
        "1e5",
        ".5",
        "5.",
        "0x10",
        "inf",
        "NaN",
        "",
        "true",
        "false",
        "null",
        "~",
        "yes",
        "no",
        "on",
        "a b",
        "a: b",
        "a:b",
        "a:",
        "- x",
        "-x",
        "? x",
        "?x",
        ":x",
        "#x",
        "x #y",
        "x#y",
        "[x]",
        "x,y",
        "{x}",
        "&x",
        "*x",
        "!x",
        "|x",
        ">x",
        "'x'",
        '"x"',
        "%x",
        "@x",
        "`x",
        " x",
        "x ",
        "---x",
        "...x",
        "中文 版本",
        "it's",
        "tab\there",
        "bell\x07",
        "line\nbreak",
        "C:\\path",
        "x=1&y=2",
        "v1.0-rc.1",
    ]
    for value in values:
        variables = {"version": value, "_rollbackVersion_": "1"}
        mine = yaml_text(variables)
        if "\n" in value:  # taskhub writes it double-quoted on one line; YAML reads the same
            import yaml

            assert yaml.safe_load(mine) == variables
            continue
        assert mine == _yaml_xs(variables), (value, mine, _yaml_xs(variables))
    assert yaml_text({}) == "" and yaml_text(None) == ""
    assert yaml_text({"n": 3, "f": 1.5, "s": "3"}) == "---\nf: 1.5\nn: 3\ns: '3'\n"


def _ended_tasks(jobx):
    from .conftest import drain

    jobx.group(node="n01;n02")
    jobx.job(steps=[{"name": "x", "script": '[ "$node" != n01 ] || [ "$v" = ok ]'}])
    good = jobx.run(variable={"v": "ok", "version": "1.2", "_rollbackVersion_": "1.1"})
    bad = jobx.run()  # fails in batch 1, waits for confirm
    drain()
    return good, bad


def test_task_rows_have_the_originals_fields_and_json_types(jobx):
    from .conftest import drain

    good, bad = _ended_tasks(jobx)
    rows = jobx.ok("GET", f"/task/{PROJECT}")["data"]
    assert [r["uuid"] for r in rows] == [good, bad]  # oldest first
    assert [r["id"] for r in rows] == ["1", "2"]
    original = {
        "id",
        "projectid",
        "uuid",
        "name",
        "user",
        "slave",
        "status",
        "starttime",
        "finishtime",
        "calltype",
        "runtime",
        "reason",
        "variable",
    }
    assert all(original <= set(r) for r in rows)
    first = rows[0]
    assert (first["projectid"], first["slave"], first["calltype"]) == (PROJECT, "taskhub", "page")
    assert first["variable"] == "---\n_rollbackVersion_: '1.1'\nv: ok\nversion: '1.2'\n"
    assert re.match(r"^\d+\.\d{3}$", first["runtime"]) and first["reason"] is None
    assert TIME.match(first["starttime"]) and TIME.match(first["finishtime"])
    assert isinstance(first["duration"], float) and first["variables"]["v"] == "ok"
    second = rows[1]  # waiting for confirm: still running
    assert (second["status"], second["runtime"], second["finishtime"]) == ("running", None, None)
    assert second["variable"] == "" and second["reason"] is None
    detail = jobx.task(good)
    more = {"pid", "starttimems", "finishtimems"}
    assert (original - {"projectid"}) | more <= set(detail)
    assert detail["pid"] is None
    start, finish = float(detail["starttimems"]), float(detail["finishtimems"])
    assert re.match(r"^\d{10}\.\d{3}$", detail["starttimems"]) and start <= finish
    assert jobx.task(bad)["finishtimems"] is None
    # a stopped task did not run to its end: its reason is the error text
    jobx.ok("DELETE", f"/task/{PROJECT}/{bad}")
    drain()
    stopped = jobx.task(bad)
    assert (stopped["reason"], stopped["summary"]) == ("stopped by Member01",) * 2
    assert re.match(r"^\d+\.\d{3}$", stopped["runtime"])


def test_task_uuids_end_in_a_lower_case_letter_and_unknown_ones_are_null(jobx):
    from .conftest import drain

    jobx.group(node="n01")
    jobx.job()
    made = [jobx.run() for _ in range(3)]
    drain()
    assert all(re.match(r"^[A-Za-z0-9]{11}[a-z]$", uuid) for uuid in made)
    assert jobx.ok("GET", f"/task/{PROJECT}/abcdefghijkl") == {"stat": True, "data": None}
    status, body = jobx.call("GET", f"/task/{PROJECT}/short")
    assert (status, body) == (400, {"stat": False, "info": "check format fail uuid"})


def test_the_full_list_is_capped_and_keeps_the_newest(jobx, monkeypatch):
    from chalicelib.jobs import reports

    jobx.group(node="n01")
    jobx.job()
    made = [jobx.run() for _ in range(5)]
    monkeypatch.setattr(reports, "LIST_MAX_ROWS", 3)
    monkeypatch.setattr(reports, "LIST_PAGE", 2)
    capped = jobx.ok("GET", f"/task/{PROJECT}")
    assert [t["uuid"] for t in capped["data"]] == made[2:]  # the newest 3, oldest first
    rest = jobx.ok("GET", f"/task/{PROJECT}?cursor={capped['cursor']}")
    assert [t["uuid"] for t in rest["data"]] == made[:2][::-1]  # older, as newest-first pages
    # the read cap: filters that match little never read more than LIST_MAX_READ tasks
    monkeypatch.setattr(reports, "LIST_MAX_READ", 4)
    none = jobx.ok("GET", f"/task/{PROJECT}?user=nobody")
    assert none["data"] == [] and none["cursor"] is not None
    monkeypatch.setattr(reports, "LIST_MAX_READ", 100)
    assert jobx.ok("GET", f"/task/{PROJECT}?user=nobody") == {
        "stat": True,
        "data": [],
        "cursor": None,
    }


def test_subtasks_have_12_character_uuids_nodecount_and_the_originals_confirm(jobx):
    from .conftest import drain

    jobx.group(node="n01,n02;n03;n04")
    jobx.job(steps=[{"name": "x", "script": '[ "$node" != n03 ]'}])
    uuid = jobx.run()
    before = jobx.subtasks(uuid)
    assert [s["confirm"] for s in before] == [None] * 3  # null until the batch ends
    assert all(s["starttime"] is None and s["runtime"] is None for s in before)
    drain()
    subs = jobx.subtasks(uuid)
    original = {
        "id",
        "parent_uuid",
        "uuid",
        "nodelist",
        "nodecount",
        "starttime",
        "finishtime",
        "runtime",
        "status",
        "confirm",
    }
    assert all(original <= set(s) for s in subs)
    assert all(ALNUM12.match(s["uuid"]) for s in subs) and len({s["uuid"] for s in subs}) == 3
    assert [s["id"] for s in subs] == ["1", "2", "3"]  # the project's subtask sequence
    assert [(s["nodelist"], s["nodecount"]) for s in subs] == [
        ("n01,n02", "2"),
        ("n03", "1"),
        ("n04", "1"),
    ]
    assert [(s["status"], s["confirm"]) for s in subs] == [
        ("success", ""),
        ("fail", "WaitConfirm"),
        ("init", None),
    ]
    assert re.match(r"^\d+\.\d{3}$", subs[0]["runtime"]) and TIME.match(subs[0]["finishtime"])
    assert subs[2]["starttime"] is None and subs[2]["runtime"] is None
    # the routes that take a subtask uuid resolve the new one; the old form still works
    nodes = jobx.ok("GET", f"/subtask/{PROJECT}/{subs[1]['uuid']}/node")["data"]
    assert [(r["node"], r["status"]) for r in nodes] == [("n03", "fail")]
    assert jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-1/node")["data"] == nodes
    jobx.ok("PUT", f"/subtask/{PROJECT}/{subs[1]['uuid']}/confirm")
    drain()
    subs = jobx.subtasks(uuid)
    assert [(s["status"], s["confirm"]) for s in subs] == [
        ("success", ""),
        ("fail", "task stop"),  # what JOBX's confirm writes
        ("success", ""),
    ]
    later = jobx.run()
    assert [s["id"] for s in jobx.subtasks(later)] == ["4", "5", "6"]
    # a subtask uuid no task has, one of another project's task, and an unknown task
    assert jobx.call("PUT", f"/subtask/{PROJECT}/ZZZZZZZZaaab/confirm")[0] == 404
    assert jobx.ok("GET", f"/subtask/{PROJECT}/abcdefghijkl") == {"stat": True, "data": []}
    assert jobx.call("GET", f"/subtask/{PROJECT}/short")[0] == 400


def test_a_subtask_uuid_of_another_project_is_not_found(jobx, apply_workspace):
    from .conftest import MEMBER, workspace

    jobx.group(node="n01")
    jobx.job()
    uuid = jobx.run()
    sub = jobx.subtasks(uuid)[0]["uuid"]
    other = workspace()
    other["namespaces"] = [{"face": "jobx", "id": "p2", "members": {"Member01": "member"}}]
    other["jobx_nodes"] = []
    apply_workspace(other)
    status, body = jobx.api.call("GET", f"/jobx/subtask/p2/{sub}/node", None, MEMBER)
    assert status == 404 and body["stat"] is False


def _flip(uuid: str) -> str:
    """The web UI's `changeUuid`: the other case of the last letter."""
    return uuid[:-1] + uuid[-1].swapcase()


def test_rollback_uuid_is_the_deploys_upper_cased_and_the_answers_are_ok(jobx):
    from .conftest import drain

    jobx.group(node="n01;n02")
    jobx.job(steps=[{"name": "x", "script": "true"}])
    deploy = jobx.run(variable={"version": "2", "_rollbackVersion_": "1", "a": "b"})
    drain()
    assert jobx.ok("GET", f"/task/{PROJECT}/{_flip(deploy)}")["data"] is None  # undecided
    status, body = jobx.call("PUT", f"/task/{PROJECT}/{deploy}/rollback")
    assert (status, body) == (200, {"stat": True, "info": "ok", "uuid": _flip(deploy)})
    drain()
    rollback = jobx.ok("GET", f"/task/{PROJECT}/{_flip(deploy)}")["data"]
    assert (rollback["uuid"], rollback["status"], rollback["name"]) == (
        _flip(deploy),
        "success",
        "j1",
    )
    assert rollback["variable"] == "---\na: b\nversion: '1'\n"  # _rollbackVersion_ -> version
    assert len(jobx.subtasks(_flip(deploy))) == 2
    status, body = jobx.call("PUT", f"/task/{PROJECT}/{_flip(deploy)}/rollback")
    assert (status, body["info"]) == (409, "role ne deploy")
    status, body = jobx.call("PUT", f"/task/{PROJECT}/abcdefghijkl/rollback")
    assert (status, body["info"]) == (404, "no find task")


def test_placeholder_rows_at_the_rollback_uuid(jobx):
    from .conftest import drain

    jobx.group(node="n01")
    jobx.job(steps=[{"name": "x", "script": "true"}])
    waiting = jobx.run(variable={"_rollbackVersion_": "1"})
    plain = jobx.run(variable={"version": "3"})  # variables, no _rollbackVersion_: _skip_
    bare = jobx.run()  # no variables at all: no row
    drain()
    status, body = jobx.call("PUT", f"/task/{PROJECT}/{waiting}/norollback")
    assert (status, body) == (200, {"stat": True, "info": "ok"})
    declined = jobx.ok("GET", f"/task/{PROJECT}/{_flip(waiting)}")["data"]
    assert (declined["name"], declined["slave"], declined["status"]) == ("j1", "_null_", "success")
    assert declined["uuid"] == _flip(waiting) and declined["variable"] == "---\nversion: '1'\n"
    skipped = jobx.ok("GET", f"/task/{PROJECT}/{_flip(plain)}")["data"]
    assert (skipped["name"], skipped["user"], skipped["slave"]) == ("_skip_", "sys", "_null_")
    assert jobx.ok("GET", f"/task/{PROJECT}/{_flip(bare)}")["data"] is None
    assert jobx.subtasks(_flip(waiting)) == []
    # placeholders are derived, never stored: lists and counters do not see them
    assert len(jobx.ok("GET", f"/task/{PROJECT}")["data"]) == 3
    for task, info in ((plain, "variable nodefined _rollbackVersion_"), (bare, "variable null")):
        status, body = jobx.call("PUT", f"/task/{PROJECT}/{task}/rollback")
        assert (status, body["info"]) == (409, info)


def _third(jobx, route, body):
    return jobx.call("POST", f"/third/interface/{route}", body)


def _invoke(jobx, uuid, variable=None, jobname="j1"):
    params = {"jobname": jobname, "group": "g1", "variable": variable or {}}
    body = {"project_id": PROJECT, "uuid": uuid, "params": params}
    status, data = _third(jobx, "invoke", body)
    assert status == 200 and data["data"] == 1, data
    return data["uuid"]


def test_third_query_types_and_links_as_the_original(jobx, monkeypatch):
    from .conftest import drain

    monkeypatch.setenv("TASKHUB_JOBX_UI_URL", "http://dev.jobx.example.com/")
    ui = "http://dev.jobx.example.com/#"
    jobx.group(node="n01;n02")
    jobx.job(steps=[{"name": "x", "script": "true"}])
    deploy = _invoke(jobx, "flow1000000x", {"version": "2", "_rollbackVersion_": "1"})
    flow = f"{ui}/detailforflow/{PROJECT}/{deploy}"
    status, data = _third(jobx, "query", {"uuid": "flow1000000x"})
    assert (status, data["stat"], data["status"], data["type"], data["msg"]) == (
        200,
        True,
        "running",
        "deploy",
        "",
    )
    assert data["link"] == f"{ui}/task/detail/{PROJECT}/{deploy}"
    assert (data["progress"], data["ctrl"]) == ([0, 2], [None, flow])  # batches remain
    drain()
    # done, but awaiting the decision: still running, and ctrl says "decide"
    data = _third(jobx, "query", {"uuid": "flow1000000x"})[1]
    assert (data["status"], data["type"], data["progress"]) == ("running", "deploy", [2, 2])
    assert data["ctrl"] == [flow, flow] and jobx.task(deploy)["status"] == "success"
    jobx.ok("PUT", f"/task/{PROJECT}/{deploy}/rollback")
    data = _third(jobx, "query", {"uuid": "flow1000000x"})[1]
    assert (data["status"], data["type"]) == ("running", "rollback")
    assert data["link"] == f"{ui}/task/detail/{PROJECT}/{deploy[:-1]}A"
    drain()
    data = _third(jobx, "query", {"uuid": "flow1000000x"})[1]
    assert (data["status"], data["type"], data["msg"], data["progress"]) == (
        "complete",
        "rollback",
        "",
        [2, 2],
    )
    assert "ctrl" not in data
    # norollback: deployonly with the deploy's status
    other = _invoke(jobx, "flow2000000x", {"_rollbackVersion_": "1"})
    drain()
    jobx.ok("PUT", f"/task/{PROJECT}/{other}/norollback")
    data = _third(jobx, "query", {"uuid": "flow2000000x"})[1]
    assert (data["status"], data["type"]) == ("complete", "deployonly")
    # no _rollbackVersion_: deployonly at once
    _invoke(jobx, "flow3000000x")
    data = _third(jobx, "query", {"uuid": "flow3000000x"})[1]
    assert (data["status"], data["type"], data["progress"]) == ("running", "deployonly", [0, 2])
    # the retry letter: another uuid, unknown here
    status, data = _third(jobx, "query", {"uuid": "flow3000000x", "retry_count": 1})
    assert (status, data) == (404, {"stat": False, "info": "no find uuid"})


def test_third_query_while_a_batch_waits_inside_it(jobx):
    from .conftest import drain

    jobx.group(node="n01;n02")
    gate = {"name": "ok?", "plugin_type": "approval", "batches": "notfirsttime"}
    jobx.job(steps=[{"name": "x", "script": "true"}, gate])
    deploy = _invoke(jobx, "paus1000000x", {"_rollbackVersion_": "1"})
    drain()  # batch 1 ends; batch 2 waits for its approval
    data = _third(jobx, "query", {"uuid": "paus1000000x"})[1]
    link = f"/#/task/detail/{PROJECT}/{deploy}"
    assert data["progress"] == [1, 2]
    assert data["ctrl"] == [link, f"/#/detailforflow/{PROJECT}/{deploy}"]  # relative: no UI URL


def test_third_stop_as_the_original(jobx):
    from .conftest import drain

    jobx.group(node="n01")
    jobx.job(steps=[{"name": "x", "script": "true"}])
    status, data = _third(jobx, "stop", {"uuid": "nope00000001"})
    assert (status, data) == (404, {"stat": False, "info": "no find task"})
    bare = _invoke(jobx, "stop1000000x")
    drain()
    status, data = _third(jobx, "stop", {"uuid": "stop1000000x"})
    assert (status, data["stat"], data["info"]) == (200, True, f"jobx uuid:{bare} status: success")
    # the stop records "no rollback" as JOBX's _skip_ row, which the web UI reads
    skipped = jobx.ok("GET", f"/task/{PROJECT}/{bare[:-1]}A")["data"]
    assert (skipped["name"], skipped["slave"]) == ("_skip_", "_null_")
    # with a rollback running, the stop stops the rollback
    deploy = _invoke(jobx, "stop2000000x", {"_rollbackVersion_": "1"})
    drain()
    jobx.ok("PUT", f"/task/{PROJECT}/{deploy}/rollback")
    status, data = _third(jobx, "stop", {"uuid": "stop2000000x"})
    assert (status, data) == (200, {"stat": True, "uuid": f"{deploy[:-1]}A", "msg": "ok"})
    assert jobx.task(f"{deploy[:-1]}A")["status"] == "fail"
    assert jobx.task(deploy)["status"] == "success"

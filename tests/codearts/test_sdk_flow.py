"""A CodeArts task's whole life as Huawei's own SDK client drives it, signed with a real
AK/SK pair, against the app: create on a loopback-served repository, run, poll progress,
read the summary, defects, statistics, metrics and check records, triage a defect, stop a
second run, list, delete. Every answer is read by the SDK's own response models."""

from __future__ import annotations

import pytest

from chalicelib.core.identity import service as identity

from .conftest import PROJECT, codearts_model, drain
from .sdk import sdk_client

m = codearts_model


def create(sdk, git_url: str, **fields) -> str:
    body = m.CreateTaskRequestV2(git_url=git_url, git_branch="master", **fields)
    answer = sdk.create_task(m.CreateTaskRequest(project_id=PROJECT, body=body))
    assert answer.status_code == 200, answer.raw_content
    return answer.task_id


def progress(sdk, task_id: str):
    return sdk.show_progress_detail(m.ShowProgressDetailRequest(task_id=task_id))


def defects(sdk, task_id: str, **query):
    return sdk.show_task_defects(m.ShowTaskDefectsRequest(task_id=task_id, **query))


def statistic(sdk, task_id: str):
    return sdk.show_task_defects_statistic(m.ShowTaskDefectsStatisticRequest(task_id=task_id))


def test_a_task_created_run_and_read_through_the_sdk(client, codearts, sdk):
    task_id = create(sdk, codearts.git.url("demo.git"), language=["python", "shell"])
    assert len(task_id) == 32

    never = progress(sdk, task_id)
    assert never.task_status is None and never.progress.ratio == "0%"

    run = sdk.run_task(m.RunTaskRequest(task_id=task_id, body=m.RunRequestV2()))
    assert run.exec_id and run.exec_id.isdigit()
    waiting = progress(sdk, task_id)
    assert waiting.task_status == 0 and waiting.progress.ratio == "0%"

    drain()
    done = progress(sdk, task_id)
    assert (done.task_status, done.progress.ratio) == (2, "100%"), done

    summary = sdk.show_task_detail(m.ShowTaskDetailRequest(task_id=task_id))
    assert summary.task_id == task_id and summary.git_branch == "master"
    assert summary.code_line > 0 and summary.code_line_total >= summary.code_line
    assert summary.issue_count >= 3 and isinstance(summary.critical_count, str)
    assert summary.last_check_time and summary.last_exec_time and summary.created_at

    found = defects(sdk, task_id, offset=0, limit=100)
    assert found.total == len(found.defects) == summary.issue_count
    paths = {d.file_path for d in found.defects}
    assert {"app/bad.py", "run.sh"} <= paths and "app/ok.py" not in paths
    first = found.defects[0]
    assert first.defect_status == "0" and first.defect_level in {"0", "1", "2", "3"}
    assert int(first.line_number) >= 1 and first.rule_name and first.issue_key

    stats = statistic(sdk, task_id)
    assert stats.status.unresolved == found.total and stats.status.dismissed == 0
    level_sum = stats.severity.critical + stats.severity.major + stats.severity.minor
    assert level_sum + stats.severity.suggestion == found.total

    # ignoring a defect is stored, and the statistic and summary say so
    ignored = sdk.update_defect_status(
        m.UpdateDefectStatusRequest(
            task_id=task_id,
            body=m.UpdateDefectRequestBody(defect_id=first.defect_id, defect_status="2"),
        )
    )
    assert ignored.status_code == 200
    after = statistic(sdk, task_id)
    assert after.status.dismissed == 1 and after.status.unresolved == found.total - 1
    assert defects(sdk, task_id, status_ids="2").total == 1
    assert defects(sdk, task_id).total == found.total - 1  # pending only, by default
    summary = sdk.show_task_detail(m.ShowTaskDetailRequest(task_id=task_id))
    assert summary.issue_count == found.total - 1

    metrics = sdk.show_task_cmetrics(m.ShowTaskCmetricsRequest(project_id=PROJECT, task_id=task_id))
    assert metrics.task_id == task_id and int(metrics.metric_info.code_size) > 0
    assert int(metrics.metric_info.files_total) == 3

    records = sdk.check_record(m.CheckRecordRequest(project_id=PROJECT, task_id=task_id))
    assert records.total == 1 and records.data[0].check_end_time
    assert records.data[0].issue_counts.critical is not None

    listed = sdk.show_task_list_by_project_id(
        m.ShowTaskListByProjectIdRequest(project_id=PROJECT, offset=0, limit=10)
    )
    assert listed.total == 1 and listed.tasks[0].task_id == task_id
    assert listed.tasks[0].git_url == codearts.git.url("demo.git")

    # a second run, stopped while it waits
    sdk.run_task(m.RunTaskRequest(task_id=task_id, body=m.RunRequestV2()))
    assert progress(sdk, task_id).task_status == 0
    stopped = sdk.stop_task_by_id(m.StopTaskByIdRequest(task_id=task_id))
    assert stopped.status_code == 200
    assert progress(sdk, task_id).task_status == 3
    drain()  # its messages find the job closed
    assert progress(sdk, task_id).task_status == 3

    # a member may not delete; the project's admin may (signing with a key of their own)
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

    with pytest.raises(ClientRequestException) as refused:
        sdk.delete_task(m.DeleteTaskRequest(task_id=task_id))
    assert (refused.value.status_code, refused.value.error_code) == (403, "CC.00050010")
    admin = sdk_client(client, *identity.create_access_key("Admin001"), PROJECT)
    assert admin.delete_task(m.DeleteTaskRequest(task_id=task_id)).status_code == 200
    listed = sdk.show_task_list_by_project_id(m.ShowTaskListByProjectIdRequest(project_id=PROJECT))
    assert listed.total == 0 and listed.tasks == []


def test_a_wrong_secret_raises_the_sdks_own_exception(client, codearts, keys):
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

    ak, sk = keys
    wrong = sdk_client(client, ak, sk[:-1] + ("A" if sk[-1] != "A" else "B"), PROJECT)
    with pytest.raises(ClientRequestException) as caught:
        wrong.show_task_list_by_project_id(m.ShowTaskListByProjectIdRequest(project_id=PROJECT))
    error = caught.value
    assert error.status_code == 401 and error.error_code.startswith("CC.")
    assert error.request_id and sk not in str(error)
    unknown = sdk_client(client, "AKNOTAKEY00000000000", sk, PROJECT)
    with pytest.raises(ClientRequestException) as again:
        unknown.show_task_list_by_project_id(m.ShowTaskListByProjectIdRequest(project_id=PROJECT))
    assert (again.value.status_code, again.value.error_code, again.value.error_msg) == (
        401,
        error.error_code,
        error.error_msg,
    )

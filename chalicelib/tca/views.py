"""The scan domain's items in TCA's serializers' shapes (tca.md, A.2): field names, types
and nesting as TCA's clients read them. Times are ISO 8601; durations are strings of
seconds, as TCA's `TimeDeltaSerializer` writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..scans import schemes
from ..scans.codes import range_text
from ..scans.models import IssueModel, JobModel, ProjectModel, RepoModel, SchemeModel, TaskModel
from ..scans.owners import Owner
from ..scans.storing import progress_kind
from ..scans.tools import linters

SEVERITY_NAMES = {"1": "fatal", "2": "error", "3": "warning", "4": "info"}


def when(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def seconds(start: int | None, end: int | None) -> str | None:
    """`str(timedelta.total_seconds())`: "3.0", "0.25"."""
    if start is None or end is None:
        return None
    return str(max(0, end - start) / 1000)


def team_of(owner: str) -> dict[str, Any]:
    ns = owner.split(":", 1)[-1]
    org, _, team = ns.partition("/")
    return {"name": team, "display_name": team, "org_sid": org}


def scm_auth(repo: RepoModel) -> dict[str, Any] | None:
    """Who the repository is fetched as; never the secret."""
    if not repo.auth_type:
        return None
    return {"auth_type": repo.auth_type, "scm_account": {"scm_username": repo.scm_username}}


def repo_created(repo: RepoModel) -> dict[str, Any]:
    return {
        "id": repo.repo_id,
        "name": repo.name,
        "scm_url": repo.scm_url,
        "ssh_url": repo.ssh_url,
        "scm_type": repo.scm_type,
        "created_from": repo.created_from,
        "scm_auth": scm_auth(repo),
        "labels": list(repo.labels or []),
    }


def repo_row(repo: RepoModel) -> dict[str, Any]:
    recent = dict(repo.recent) if repo.recent else None
    if recent:
        recent["active_time"] = when(recent.get("active_time"))
    return {
        "id": repo.repo_id,
        "name": repo.name,
        "scm_url": repo.scm_url,
        "scm_type": repo.scm_type,
        "branch_count": repo.project_count,
        "scheme_count": repo.scheme_count,
        "job_count": repo.job_count,
        "created_time": when(repo.created_time),
        "recent_active": recent,
        "created_from": repo.created_from,
        "creator": repo.creator,
        "scm_auth": scm_auth(repo),
        "project_team": team_of(repo.owner),
        "ssh_url": repo.ssh_url,
        "labels": list(repo.labels or []),
    }


def scheme_basic(scheme: SchemeModel) -> dict[str, Any]:
    return {
        "id": scheme.scheme_id,
        "name": scheme.name,
        "description": scheme.description,
        "languages": list(scheme.languages or []),
        "tag": scheme.tag,
        "status": scheme.status,
        "default_flag": scheme.default_flag,
        "refer_scheme": {"id": scheme.refer_scheme} if scheme.refer_scheme else None,
        "exclude": list(scheme.exclude or []),
        "created_time": when(scheme.created_time),
        "modified_time": when(scheme.modified_time),
        "creator": scheme.creator,
    }


def scheme_lint(scheme: SchemeModel) -> dict[str, Any]:
    tools = [linter.name for linter in linters.linters_for(scheme.languages or [])]
    return {
        "id": scheme.scheme_id,
        "enabled": scheme.lint_enabled,
        "checkprofile": {"id": scheme.scheme_id, "profile_type": 1, "checktools": tools},
        "scan_scheme": scheme.scheme_id,
        "build_cmd": scheme.build_cmd,
        "envs": scheme.envs,
        "pre_cmd": scheme.pre_cmd,
    }


def scheme_metric(scheme: SchemeModel) -> dict[str, Any]:
    return {"id": scheme.scheme_id, **schemes.metric(scheme), "scan_scheme": scheme.scheme_id}


def scheme_simple(scheme: SchemeModel | None, scheme_id: int) -> dict[str, Any]:
    if scheme is None:
        return {"id": scheme_id}
    return {
        "id": scheme.scheme_id,
        "name": scheme.name,
        "languages": list(scheme.languages or []),
        "status": scheme.status,
        "default_flag": scheme.default_flag,
        "refer_scheme": scheme.refer_scheme,
    }


def project(item: ProjectModel, repo: RepoModel, scheme: SchemeModel | None) -> dict[str, Any]:
    return {
        "id": item.project_id,
        "branch": item.branch,
        "scan_path": item.scan_path,
        "status": item.status,
        "created_time": when(item.created_time),
        "creator": item.creator,
        "created_from": item.created_from,
        "scan_scheme": scheme_simple(scheme, item.scheme_id),
        "repo": {
            "id": repo.repo_id,
            "name": repo.name,
            "scm_url": repo.scm_url,
            "scm_type": repo.scm_type,
            "scm_auth": scm_auth(repo),
        },
        "repo_id": repo.repo_id,
    }


def job_row(job: JobModel) -> dict[str, Any]:
    return {
        "id": job.job_id,
        "state": job.state,
        "result_code": job.result_code,
        "result_msg": job.result_msg,
        "code_line_num": job.code_line_num,
        "comment_line_num": job.comment_line_num,
        "blank_line_num": job.blank_line_num,
        "total_line_num": job.total_line_num,
        "efficient_comment_line_num": job.comment_line_num,
        "filtered_efficient_comment_line_num": job.comment_line_num,
    }


def progress(task: TaskModel) -> int:
    """0-100, from the shards done (100 once closed)."""
    if task.state == 2:
        return 100
    if not task.shard_count:
        return 0
    return int(100 * task.done_count / task.shard_count)


def task_row(task: TaskModel) -> dict[str, Any]:
    return {
        "id": task.task_id,
        "module": task.module,
        "task_name": task.task_name,
        "kind": progress_kind(task.module, task.task_name),
        "progress_rate": progress(task),
        "state": task.state,
        "result_code": task.result_code,
        "result_msg": task.result_msg,
        "start_time": when(task.start_time),
        "end_time": when(task.end_time),
    }


def job_detail(
    job: JobModel, tasks: list[TaskModel], project_: ProjectModel, repo: RepoModel
) -> dict[str, Any]:
    start = job.start_time or job.expire_time
    end = job.end_time or job.expire_time
    ns = repo.owner.split(":", 1)[-1]
    return {
        "id": job.job_id,
        "scan_id": job.scan_id,
        "create_time": when(job.create_time),
        "waiting_time": seconds(job.create_time, start),
        "start_time": when(job.start_time),
        "execute_time": seconds(job.start_time, end),
        "save_time": seconds(job.store_time, job.end_time),
        "project": {
            "id": project_.project_id,
            "branch": project_.branch,
            "repo_id": project_.repo_id,
            "scan_scheme": project_.scheme_id,
            "repo_scm_url": repo.scm_url,
            "organization": ns.split("/", 1)[0],
            "project_team": team_of(repo.owner)["name"],
        },
        "end_time": when(job.end_time),
        "expire_time": when(job.expire_time),
        "task_num": job.task_num,
        "task_done": job.task_done,
        "tasks": [task_row(t) for t in tasks],
        "state": job.state,
        "result_code": job.result_code,
        "result_code_msg": range_text(job.result_code),
        "result_msg": job.result_msg,
        "remarks": job.remarks,
        "remarked_by": job.remarked_by,
        "code_line_num": job.code_line_num,
        "comment_line_num": job.comment_line_num,
        "blank_line_num": job.blank_line_num,
        "total_line_num": job.total_line_num,
        "created_from": job.created_from,
        "creator": job.creator,
        "incr_scan": job.incr_scan,
        "scan_revision": job.revision,
        "base_revision": job.base_revision,
    }


# ---- analysis ------------------------------------------------------------------------------


def _scan_head(latest: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": latest["scan_id"],
        "scan": latest["scan_id"],
        "job_id": latest["job_id"],
        "scan_time": when(latest.get("scan_time")),
        "scan_revision": latest.get("scan_revision"),
    }


def overview(item: ProjectModel) -> dict[str, Any]:
    latest = item.latest or {}
    lint = latest.get("lint")
    cc = latest.get("cc")
    dup = latest.get("dup")
    cloc = latest.get("cloc")
    return {
        "lintscan": None
        if not lint
        else {
            **_scan_head(lint),
            "issue_open_num": lint.get("issue_open_num", 0),
            "issue_fix_num": lint.get("issue_fix_num", 0),
            "active_issue_num": lint.get("active_issue_num", 0),
            "active_severity_detail": {
                name: lint.get("active_severity_detail", {}).get(code, 0)
                for code, name in SEVERITY_NAMES.items()
            },
        },
        "cyclomaticcomplexityscan": None
        if not cc
        else {
            **_scan_head(cc),
            "min_ccn": cc.get("min_ccn"),
            "over_cc_func_count": cc.get("over_cc_func_count", 0),
            "over_cc_sum": cc.get("over_cc_sum", 0),
            "func_count": cc.get("func_count", 0),
            "max_ccn": cc.get("max_ccn", 0),
        },
        "duplicatescan": None
        if not dup
        else {
            **_scan_head(dup),
            "duplicate_file_count": dup.get("duplicate_file_count", 0),
            "duplicate_block_count": dup.get("duplicate_block_count", 0),
            "duplicate_line_count": dup.get("duplicate_line_count", 0),
            "total_line_count": dup.get("total_line_count", 0),
            "duplicate_rate": dup.get("duplicate_rate", 0),
        },
        "clocscan": None
        if not cloc
        else {
            **_scan_head(cloc),
            "code_line_num": cloc.get("code", 0),
            "comment_line_num": cloc.get("comment", 0),
            "blank_line_num": cloc.get("blank", 0),
            "total_line_num": cloc.get("total", 0),
            "file_num": cloc.get("files", 0),
            "languages": [
                {"name": name, **{f"{k}_line_num": v for k, v in counts.items() if k != "files"}}
                | {"file_num": counts.get("files", 0)}
                for name, counts in (cloc.get("languages") or {}).items()
            ],
        },
    }


def issue_row(issue: IssueModel, owner: Owner, repo: RepoModel) -> dict[str, Any]:
    return {
        "id": issue.issue_id,
        "file_path": issue.file_path,
        "project": issue.project_id,
        "repo": repo.repo_id,
        "checkrule_real_name": issue.rule,
        "checkrule_display_name": issue.rule,
        "checktool_name": issue.tool,
        "checkpackage": issue.category,
        "msg": issue.msg,
        "state": issue.state,
        "resolution": issue.resolution,
        "author": None,
        "severity": issue.severity,
        "revision": issue.revision,
        "ci_time": when(issue.ci_time),
        "scan_open": issue.scan_open,
        "scan_fix": issue.scan_fix,
        "fixed_time": when(issue.fixed_time),
        "language": issue.language,
        "file_owners": [],
        "is_external": False,
        "scm_url": repo.scm_url,
        "real_file_path": issue.file_path,
        "tapd_ws_id": None,
        "line": issue.line,
        "column": issue.column,
    }


def issue_detail(issue: IssueModel, owner: Owner, repo: RepoModel) -> dict[str, Any]:
    return {
        **issue_row(issue, owner, repo),
        "issue_details": [
            {
                "line": issue.line,
                "column": issue.column,
                "msg": issue.msg,
                "checkrule_real_name": issue.rule,
                "issue_refers": [],
            }
        ],
    }


def cc_row(n: int, function: dict[str, Any], latest: dict[str, Any], repo_id: int) -> dict:
    return {
        "id": n,
        "func_name": function["name"],
        "long_name": function.get("long_name"),
        "func_param_num": function.get("params", 0),
        "ccn": function["ccn"],
        "nloc": function.get("nloc"),
        "token": function.get("token_count"),
        "file_path": function["path"],
        "start_line_no": function["line"],
        "end_line_no": function.get("end_line"),
        "status": 1,
        "change_type": None,
        "author": None,
        "last_modifier": None,
        "most_weight_modifier": None,
        "is_latest": True,
        "project": latest.get("project_id"),
        "scan": latest["scan_id"],
        "repo": repo_id,
    }


def dup_row(n: int, file: dict[str, Any], latest: dict[str, Any], repo_id: int) -> dict:
    lines = file.get("total_lines", 0)
    duplicated = file.get("duplicated_lines", 0)
    return {
        "id": n,
        "file_path": file["path"],
        "duplicate_rate": round(100 * duplicated / lines, 2) if lines else 0,
        "total_line_count": lines,
        "total_duplicate_line_count": duplicated,
        "block_num": file.get("block_count", 0),
        "last_modifier": None,
        "change_type": None,
        "issue": {"id": n, "state": 1, "owner": None},
        "is_latest": True,
        "project": latest.get("project_id"),
        "scan": latest["scan_id"],
        "repo": repo_id,
    }


def cloc_row(n: int, file: dict[str, Any], latest: dict[str, Any]) -> dict:
    dir_path, _, name = file["path"].rpartition("/")
    row: dict[str, Any] = {
        "id": n,
        "project": latest.get("project_id"),
        "scan": latest["scan_id"],
        "is_latest": True,
        "dir_path": dir_path,
        "file_name": name,
        "language": file["language"],
        "change_type": None,
        "business_names": [],
        "subscribers": [],
    }
    for key in ("code", "comment", "blank", "total"):
        row[f"{key}_line_num"] = file[key]
        for change in ("add", "mod", "del"):
            row[f"{change}_{key}_line_num"] = 0
    return row

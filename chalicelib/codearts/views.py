"""The face's answers in the SDK's response models' shapes (`v2/model/*.py`): wire names and
JSON types exactly as `openapi_types` declares them, since the SDK converts with `int(x)`
and `str(x)` (a string where it wants an int raises, an object where it wants a string
becomes its repr). Figures the engine does not measure (quality gates, header files,
folders, call depths) are left out: the SDK reads a missing key as None.

Percentages are strings such as "3.81%"; times are UTC, `2020-02-20 11:21:11` as the seed.
"""

from __future__ import annotations

from typing import Any

from ..scans.models import IssueModel, JobModel, ProjectModel
from . import defects
from .defects import LEVELS, Statistic
from .models import CheckTaskModel
from .reports import Report
from .runs import Progress
from .wire import when

# the weight of a pending defect per level in CodeArts' health formula (its badge page):
# critical 5, major 3, minor 1, suggestion 0.1
WEIGHTS = {"critical": 5.0, "major": 3.0, "minor": 1.0, "suggestion": 0.1}


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "0.00%"


def ratio(value: float, of: float) -> str:
    return f"{value / of:.2f}" if of else "0.00"


def task_row(task: CheckTaskModel) -> dict[str, Any]:
    """SimpleTaskInfoV2."""
    return {
        "task_id": task.task_id,
        "task_name": task.name,
        "creator_id": task.creator_id,
        "git_url": task.git_url,
        "git_branch": task.git_branch,
        "created_at": when(task.created_at),
        "last_check_time": when(task.last_check_time),
    }


def task_list(rows: list[CheckTaskModel], total: int) -> dict[str, Any]:
    return {"tasks": [task_row(t) for t in rows], "total": total}


def created(task: CheckTaskModel) -> dict[str, Any]:
    return {"task_id": task.task_id}


def ran(job: JobModel) -> dict[str, Any]:
    return {"exec_id": str(job.job_id)}


def progress(found: Progress) -> dict[str, Any]:
    """ShowProgressDetailResponse: task_status 0 checking, 1 failed, 2 succeeded, 3 stopped,
    null never run. Extras for followers: the run's `exec_id`, percent done per part, and
    once it stored, the issues it opened and fixed and those left pending."""
    answer: dict[str, Any] = {
        "task_status": found.status,
        "progress": {"ratio": found.ratio, "info": found.info},
    }
    if found.run is not None:
        lint = (found.run.summary or {}).get("lint")
        answer["exec_id"] = str(found.run.job_id)
        answer["parts"] = [{"kind": k, "progress_rate": v} for k, v in found.parts.items()]
        answer["issues"] = (
            None
            if lint is None
            else {
                "new": int(lint.get("issue_open_num", 0)),
                "fixed": int(lint.get("issue_fix_num", 0)),
                "open": int(lint.get("active_issue_num", 0)),
            }
        )
    return answer


def _head(task: CheckTaskModel, project: ProjectModel) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "task_name": task.name,
        "creator_id": task.creator_id,
        "git_url": task.git_url,
        "git_branch": task.git_branch,
        "last_check_time": when(task.last_check_time),
        "last_exec_time": when(project.last_scan_time),
        "check_type": ",".join(task.check_type or []),
        "created_at": when(task.created_at),
    }


def summary(report: Report) -> dict[str, Any]:
    """ShowTaskDetailResponse. `risk_coefficient` is CodeArts' health formula, the pending
    defects weighted by level, per thousand code lines; `code_quality` and `is_access` (a
    quality gate) are not measured here."""
    latest = report.project.latest or {}
    cloc, cc, dup = latest.get("cloc") or {}, latest.get("cc") or {}, latest.get("dup") or {}
    stat = report.statistic or Statistic(dict.fromkeys(LEVELS, 0), {}, False)
    code, comment = int(cloc.get("code", 0)), int(cloc.get("comment", 0))
    weighted = sum(WEIGHTS[level] * n for level, n in stat.levels.items())
    return {
        **_head(report.task, report.project),
        "code_line_total": int(cloc.get("total", 0)),
        "code_line": code,
        "issue_count": sum(stat.levels.values()),
        "risk_coefficient": round(1000 * weighted / code, 2) if code else 0.0,
        "duplication_ratio": f"{float(dup.get('duplicate_rate', 0)):.2f}%",
        "complexity_count": int(cc.get("over_cc_func_count", 0)),
        "duplicated_lines": int(dup.get("duplicate_line_count", 0)),
        "comment_lines": comment,
        "comment_ratio": percent(comment, code + comment),
        "duplicated_blocks": int(dup.get("duplicate_block_count", 0)),
        "cyclomatic_complexity_per_method": ratio(cc.get("ccn_total", 0), cc.get("func_count", 0)),
        "cyclomatic_complexity_per_file": ratio(cc.get("ccn_total", 0), cc.get("file_count", 0)),
        "critical_count": str(stat.levels["critical"]),
        "major_count": str(stat.levels["major"]),
        "minor_count": str(stat.levels["minor"]),
        "suggestion_count": str(stat.levels["suggestion"]),
        "trigger_type": "api",
        "file_duplication_ratio": percent(
            dup.get("duplicate_file_count", 0), dup.get("file_count", 0)
        ),
    }


def metrics(report: Report) -> dict[str, Any]:
    """ShowTaskCmetricsResponse: every MetricInfo figure is a string."""
    latest = report.project.latest or {}
    cloc, cc, dup = latest.get("cloc") or {}, latest.get("cc") or {}, latest.get("dup") or {}
    functions = int(cc.get("func_count", 0))
    over = int(cc.get("over_cc_func_count", 0))
    files = int(cloc.get("files", 0))
    info = {
        "code_size": str(cloc.get("code", 0)),
        "raw_lines": str(cloc.get("total", 0)),
        "methods_total": str(functions),
        "cyclomatic_complexity_total": str(cc.get("ccn_total", 0)),
        "cyclomatic_complexity_per_method": ratio(cc.get("ccn_total", 0), functions),
        "maximum_cyclomatic_complexity": str(cc.get("max_ccn", 0)),
        "huge_cyclomatic_complexity_total": str(over),
        "huge_cyclomatic_complexity_ratio": percent(over, functions),
        "files_total": str(files),
        "lines_per_file": ratio(cloc.get("code", 0), files),
        "file_duplication_total": str(dup.get("duplicate_file_count", 0)),
        "file_duplication_ratio": percent(
            dup.get("duplicate_file_count", 0), dup.get("file_count", 0)
        ),
        "code_duplication_total": str(dup.get("duplicate_line_count", 0)),
        "code_duplication_ratio": f"{float(dup.get('duplicate_rate', 0)):.2f}%",
    }
    return {**_head(report.task, report.project), "metric_info": info}


def defect(issue: IssueModel) -> dict[str, Any]:
    """DefectInfoV2. The engine keeps no source lines, so `fragment` is empty; the one event
    is the finding itself."""
    return {
        "defect_id": str(issue.issue_id),
        "defect_checker_name": issue.rule,
        "defect_status": str(defects.status_of(issue.state, issue.resolution)),
        "rule_system_tags": issue.category or issue.tool,
        "rule_name": issue.rule,
        "line_number": str(issue.line),
        "defect_content": issue.msg,
        "defect_level": str(defects.level_of(issue.severity)),
        "file_path": issue.file_path,
        "created_at": when(issue.ci_time),
        "issue_key": issue.fingerprint,
        "fragment": [],
        "events": [
            {
                "events": [],
                "description": issue.msg,
                "fix_suggestions": [],
                "line": issue.line,
                "end_line": issue.line,
                "code_context_start_line": issue.line,
                "main": True,
                "path": issue.file_path,
                "tag": issue.tool,
            }
        ],
    }


def defect_page(rows: list[IssueModel], total: int) -> dict[str, Any]:
    return {"defects": [defect(i) for i in rows], "total": total}


def statistic(stat: Statistic) -> dict[str, Any]:
    """ShowTaskDefectsStatisticResponse: pending defects per level; defects per status."""
    return {
        "severity": dict(stat.levels),
        "status": {
            "unresolved": stat.statuses.get(defects.PENDING, 0),
            "resolved": stat.statuses.get(defects.SOLVED, 0),
            "dismissed": stat.statuses.get(defects.IGNORED, 0),
        },
    }


def record(job: JobModel) -> dict[str, Any]:
    """CheckRecordDataInfo: its issue counts are the active issues by severity when it
    stored (CheckRecordIssueCountsInfo's own names: critical, serious, normal, prompt)."""
    lint = (job.summary or {}).get("lint") or {}
    by = lint.get("active_severity_detail") or {}
    return {
        "check_time": when(job.start_time or job.create_time),
        "check_end_time": when(job.end_time),
        "issue_counts": {
            "critical": int(by.get("1", 0)),
            "serious": int(by.get("2", 0)),
            "normal": int(by.get("3", 0)),
            "prompt": int(by.get("4", 0)),
        },
    }


def records(rows: list[JobModel], total: int) -> dict[str, Any]:
    return {"data": [record(j) for j in rows], "total": total}

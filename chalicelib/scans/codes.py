"""Job and task states and result codes, in TCA's numbers and words (`util/errcode.py`).

A job's `result_code_msg` is the text of its code's range; its `result_msg` says what
happened in this job.
"""

from __future__ import annotations

from ..core.errors import BadRequest

# states (TCA's BaseJob.StateEnum 0-3; its internal 4/5 stay internal here too)
WAITING, RUNNING, CLOSED, STORING = 0, 1, 2, 3
STATE_NAMES = {WAITING: "waiting", RUNNING: "running", CLOSED: "closed", STORING: "storing"}

OK = 0
INCR_IGNORE = 1  # nothing changed since the last scan
CLIENT_REDIRECT = 2  # superseded by a newer job of the project
SERVER = 100
SCM = 110
SCM_AUTH = 111
SCM_NOT_FOUND = 112
SCM_UNTRUSTED = 113
SCM_FORBIDDEN = 114
SCM_PARAMS = 115
SCAN_TIMEOUT = 199  # storing took too long
NODE_UNKNOWN = 200
TASK_ERROR = 201
ANALYSIS_ERROR = 211  # a tool failed
JOB_TIMEOUT = 297
HEARTBEAT_LOST = 298
SIBLING_FAILED = 299
CLIENT = 300  # a busy project, or configuration
USER_CANCEL = 301
NO_LANGUAGE = 311
NO_TOOL = 312
NO_RULES = 321

RANGE_TEXT = (
    (0, 100, "成功"),
    (100, 200, "平台服务异常"),
    (200, 300, "任务执行异常"),
    (300, 400, "用户操作或配置异常"),
)
MESSAGES = {
    INCR_IGNORE: "代码无变更，无需再次增量扫描。如有需要，请启动全量扫描。",
    NO_LANGUAGE: "扫描方案未设置语言",
    NO_TOOL: "扫描方案未开启代码检查和代码度量",
    NO_RULES: "扫描方案的语言没有可用的检查规则",
}


def range_text(code: int | None) -> str | None:
    """TCA's `interpret_code`: the text of the range a code is in."""
    if code is None:
        return None
    for low, high, text in RANGE_TEXT:
        if low <= code < high:
            return text
    return None


def is_success(code: int | None) -> bool:
    return code is not None and 0 <= code < 100


def is_node_error(code: int | None) -> bool:
    return code is not None and 200 <= code < 300


class SchemeError(BadRequest):
    """A scheme that cannot make a job (TCA's 311/312/321): refused when the scan is asked
    for, so nothing is written."""

    def __init__(self, code: int):
        super().__init__(MESSAGES[code])
        self.code = code


class ProjectBusy(BadRequest):
    """TCA's 300: the project has unclosed jobs and the scan was not forced."""

    code = CLIENT

    def __init__(self, branch: str, scan_ids: list[int]):
        super().__init__(f"当前项目分支[{branch}]还有未完成任务，编号为: {scan_ids}")
        self.scan_ids = scan_ids


class ScmRefused(BadRequest):
    """A repository the engine may not or cannot reach (TCA's SCM codes 110-115)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code

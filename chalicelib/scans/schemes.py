"""Scan schemes: which tools a project's scans run, and their thresholds.

A repository's schemes are made from an organisation's templates (TCA's global schemes)
when a project names `global_scheme_id`, or set up by the workspace. TCA's basic, lint and
metric configurations are three views of one scheme; a PUT changes the fields it gives and
keeps the rest (every TCA field has a default), so an empty PUT changes nothing. Writes
are checked against the version read and retried, so concurrent writers lose nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..core import ids, retry, sequences
from ..core.conditions import applied
from ..core.errors import Conflict, NotFound
from ..core.paging import OffsetPage, offset_page
from .codes import NO_LANGUAGE, NO_RULES, NO_TOOL, SchemeError
from .models import CounterModel, SchemeModel
from .owners import org_key, repo_key
from .schemas import METRIC_DEFAULTS, BasicConfIn, LintConfIn, MetricConfIn
from .tools import linters

# metric task names, as TCA names them: lizard (cc), cpd (duplication), codecount (lines)
CC, DUP, COUNT = "lizard", "cpd", "codecount"


class SchemeMissing(NotFound):
    """The scheme does not exist in this repository (or organisation)."""


@dataclass(frozen=True)
class ToolPlan:
    module: str  # codelint | codemetric
    task_name: str
    params: dict[str, Any]


def metric(scheme: SchemeModel) -> dict[str, Any]:
    return {**METRIC_DEFAULTS, **(scheme.metric or {})}


def tools(scheme: SchemeModel) -> list[ToolPlan]:
    """The tasks a job of this scheme runs, or SchemeError with TCA's code: neither lint
    nor metric on (312), lint on with no language and no metric (311), languages with no
    linter here and no metric (321). Lint comes first, as TCA concatenates them."""
    conf = metric(scheme)
    plans: list[ToolPlan] = []
    if scheme.lint_enabled:
        for linter in linters.linters_for(scheme.languages or []):
            plans.append(ToolPlan("codelint", linter.name, {"language": linter.language}))
    metric_plans = []
    if conf["cc_scan_enabled"]:
        metric_plans.append(ToolPlan("codemetric", CC, {"min_ccn": conf["min_ccn"]}))
    if conf["dup_scan_enabled"]:
        metric_plans.append(
            ToolPlan(
                "codemetric",
                DUP,
                {
                    "min_tokens": conf["dup_block_length_min"],
                    "min_dup_times": conf["dup_min_dup_times"],
                },
            )
        )
    if conf["cloc_scan_enabled"]:
        metric_plans.append(ToolPlan("codemetric", COUNT, {}))
    if not plans and not metric_plans:
        if not scheme.lint_enabled:
            raise SchemeError(NO_TOOL)
        raise SchemeError(NO_RULES if scheme.languages else NO_LANGUAGE)
    return plans + metric_plans


def get(owner: str, scheme_id: int) -> SchemeModel:
    try:
        return SchemeModel.get(owner, scheme_id, consistent_read=True)
    except DoesNotExist:
        raise SchemeMissing(f"scheme {scheme_id} not found") from None


def of_repo(repo_id: int, scheme_id: int) -> SchemeModel:
    return get(repo_key(repo_id), scheme_id)


def template(face: str, org: str, scheme_id: int) -> SchemeModel:
    return get(org_key(face, org), scheme_id)


def listing(owner: str, offset: int, limit: int, keep=None) -> OffsetPage:
    """Newest first (TCA orders scheme lists by -id)."""
    return offset_page(SchemeModel.query(owner, scan_index_forward=False), offset, limit, keep)


def new_scheme(owner: str, name: str, creator: str, **fields: Any) -> SchemeModel:
    """A scheme with a fresh id, not yet saved (the caller saves it with what names it)."""
    scheme_id = sequences.block(CounterModel, "ids", "scheme", 1)[0]
    return SchemeModel(
        owner, scheme_id, name=name, creator=creator, created_time=ids.now_ms(), **fields
    )


def copy_of(source: SchemeModel, owner: str, name: str | None, creator: str) -> SchemeModel:
    """A repository's scheme made from a template, as TCA's `create_scheme_with_ref_scheme`
    (not yet saved)."""
    return new_scheme(
        owner,
        name or source.name,
        creator,
        description=source.description,
        languages=list(source.languages or []),
        tag=source.tag,
        refer_scheme=source.scheme_id,
        lint_enabled=source.lint_enabled,
        build_cmd=source.build_cmd,
        envs=source.envs,
        pre_cmd=source.pre_cmd,
        metric=dict(source.metric or {}),
        exclude=list(source.exclude or []),
    )


def _changes(body: BasicConfIn | LintConfIn | MetricConfIn) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True, exclude_none=False)


def update(owner: str, scheme_id: int, body: BasicConfIn | LintConfIn | MetricConfIn):
    """Apply the fields given, against the version read; retried when another writer got
    there first, so both writes land."""
    given = _changes(body)
    done: list[SchemeModel] = []

    def attempt(_: int) -> bool:
        scheme = get(owner, scheme_id)
        actions = []
        if isinstance(body, MetricConfIn):
            # an explicit null keeps the value, except where null is the default (no maximum)
            kept = {k: v for k, v in given.items() if v is not None or METRIC_DEFAULTS[k] is None}
            merged = {**(scheme.metric or {}), **kept}
            if merged != (scheme.metric or {}):
                actions.append(SchemeModel.metric.set(merged))
        else:
            for name, value in given.items():
                field = "lint_enabled" if name == "enabled" else name
                if value is None and field in ("name", "status", "default_flag"):
                    continue
                if getattr(scheme, field) != value:
                    actions.append(getattr(SchemeModel, field).set(value))
        if actions:
            actions += [SchemeModel.version.add(1), SchemeModel.modified_time.set(ids.now_ms())]
            version = scheme.version
            if not applied(
                lambda: scheme.update(actions, condition=SchemeModel.version == version)
            ):
                return False
        done.append(scheme)
        return True

    if not retry.until_done(attempt):
        raise Conflict("the scheme is being changed by others; try again")
    return done[0]

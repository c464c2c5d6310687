"""The scan domain's TCA data in the workspace document: `tca_repos`, `tca_schemes` and
`tca_projects`, after the `namespaces` that hold TCA's organisations (`<org>`) and teams
(`<org>/<team>`, parent `<org>`).

Ids are the store's own sequences, so an item names what it is about by what is stable
across stores instead:

- a repository by its team and canonical `scm_url` (`repos.checked_url`: what a
  repository is registered under, one per URL in a team);
- a scheme by its owner, an organisation (`org`: a template) or a repository (`team` and
  `repo`, its URL), and its `name` (TCA keeps scheme names unique in an owner);
- a project by its repository, `branch` and `scheme` (the name of a scheme of that
  repository), as a repository has one project per branch and scheme.

Every item is the whole of what it says: what it leaves out takes its default, so applying
an export again changes nothing. But a repository's credentials are never exported (they
are stored encrypted, as the face stores them, and never answered), so an item without
`scm_auth` keeps the stored ones.

A project's branch is checked by name only, not against the repository as the face checks
it: `validate` runs before anything is written and needs no network, so a document applies
offline (a seed, a restore onto a fresh stage, a repository not reachable yet) and the same
every time; a branch that is not there fails the project's first scan, with TCA's SCM code.

Export reads the `tca` namespaces by Query, then per organisation its templates and per team
its repositories and their schemes and projects by Query (a project's scheme by BatchGet),
never a Scan. A repository read for a section costs the page one, with or without records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..core import cursors, resources, workspace
from ..core.errors import BadRequest
from ..core.identity import service as identity
from ..core.workspace import Page, Plan, Strict, section, tally
from . import projects, repos, schemes, sources
from .codes import ScmRefused
from .models import ProjectModel, RepoModel, SchemeModel
from .owners import Owner, org_key, repo_key
from .schemas import (
    FACE_TCA,
    BasicConfIn,
    LintConfIn,
    MetricConfIn,
    ProjectIn,
    RepoIn,
    ScmAccount,
    ScmAuth,
)

CREATOR = "workspace"
ORG_ID = r"^[^/]+$"
TEAM_ID = r"^[^/]+/[^/]+$"


def canonical(url: str) -> str:
    """The URL a repository is registered under (the git policy's, no network), for a
    validator: its message never repeats the URL, which may carry credentials."""
    try:
        return repos.checked_url(url)
    except ScmRefused as exc:
        raise ValueError(exc.message) from None


# ---- the items ---------------------------------------------------------------------------


class ScmAccountItem(ScmAccount):
    model_config = ConfigDict(extra="forbid")


class ScmAuthItem(ScmAuth):
    model_config = ConfigDict(extra="forbid")

    scm_account: ScmAccountItem


class RepoItem(RepoIn):
    """What the face's repository POST takes (RepoIn), and the team it is registered in;
    `scm_url` is read as its canonical form."""

    model_config = ConfigDict(extra="forbid")

    team: str = Field(min_length=3, max_length=64, pattern=TEAM_ID)
    scm_auth: ScmAuthItem | None = None

    _canonical = field_validator("scm_url")(canonical)


class LintItem(Strict):
    """TCA's lintconf (LintConfIn), with the defaults a new scheme has."""

    enabled: bool = True
    build_cmd: str | None = Field(default=None, max_length=2048)
    envs: str | None = Field(default=None, max_length=2048)
    pre_cmd: str | None = Field(default=None, max_length=2048)


class MetricItem(Strict):
    """TCA's metricconf (MetricConfIn), with its defaults (METRIC_DEFAULTS); null where the
    face takes null."""

    cc_scan_enabled: bool | None = False
    min_ccn: int | None = Field(default=20, ge=1, le=1000)
    dup_scan_enabled: bool | None = False
    dup_block_length_min: int | None = Field(default=120, ge=10, le=100000)
    dup_block_length_max: int | None = Field(default=None, ge=10, le=100000)
    dup_min_dup_times: int | None = Field(default=2, ge=2, le=1000)
    dup_max_dup_times: int | None = Field(default=None, ge=2, le=100000)
    dup_min_midd_rate: int | None = Field(default=5, ge=0, le=100)
    dup_min_high_rate: int | None = Field(default=11, ge=0, le=100)
    dup_min_exhi_rate: int | None = Field(default=20, ge=0, le=100)
    dup_issue_limit: int | None = Field(default=1000, ge=1, le=100000)
    cloc_scan_enabled: bool | None = True


class SchemeItem(Strict):
    """A template of an organisation (`org`) or a scheme of a repository (`team`, `repo`):
    TCA's basicconf here, its lintconf in `lint`, its metricconf in `metric`."""

    org: str | None = Field(default=None, min_length=1, max_length=64, pattern=ORG_ID)
    team: str | None = Field(default=None, min_length=3, max_length=64, pattern=TEAM_ID)
    repo: str | None = Field(default=None, min_length=1, max_length=512)
    name: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=512)
    languages: list[str] = Field(default_factory=list, max_length=50)
    tag: str | None = Field(default=None, max_length=64)
    status: Literal[1, 2] = 1
    default_flag: bool = False
    exclude: list[str] = Field(default_factory=list, max_length=200)
    lint: LintItem = Field(default_factory=LintItem)
    metric: MetricItem = Field(default_factory=MetricItem)

    @field_validator("repo")
    @classmethod
    def _canonical(cls, value: str | None) -> str | None:
        return canonical(value) if value is not None else None

    @field_validator("languages")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        """As BasicConfIn keeps them."""
        return [v.strip().lower() for v in value]

    @model_validator(mode="after")
    def _one_owner(self) -> SchemeItem:
        if self.org is not None:
            if self.team is not None or self.repo is not None:
                raise ValueError("a scheme has either org (a template) or team and repo")
        elif self.team is None or self.repo is None:
            raise ValueError("a scheme needs org (a template) or both team and repo")
        return self

    @property
    def label(self) -> str:
        owner = f"org {self.org}" if self.org is not None else f"{self.team} {self.repo}"
        return f"{owner} {self.name}"


class ProjectItem(Strict):
    """A branch of a repository scanned with one of its schemes, named."""

    team: str = Field(min_length=3, max_length=64, pattern=TEAM_ID)
    repo: str = Field(min_length=1, max_length=512)
    branch: str = Field(min_length=1, max_length=200)
    scheme: str = Field(min_length=1, max_length=128)
    scan_path: str | None = Field(default=None, max_length=512)
    created_from: str = Field(default="api", max_length=32)

    _canonical = field_validator("repo")(canonical)

    @property
    def label(self) -> str:
        return f"{self.team} {self.repo} {self.branch} ({self.scheme})"


# ---- what the store and the document hold -----------------------------------------------


def _planned_namespaces(plan: Plan) -> set[str]:
    return {ns.id for ns in plan.get("namespaces") if ns.face == FACE_TCA}


def _planned_repos(plan: Plan) -> set[tuple[str, str]]:
    return {(r.team, r.scm_url) for r in plan.get("tca_repos")}


class Store:
    """What the store holds, read once per check or apply: `tca` namespaces, repositories by
    (team, URL), and an owner's schemes by name (one Query of the owner's schemes)."""

    def __init__(self) -> None:
        self._namespaces: dict[str, bool] = {}
        self._repos: dict[tuple[str, str], RepoModel | None] = {}
        self._schemes: dict[str, dict[str, list[SchemeModel]]] = {}

    def namespace(self, ns_id: str) -> bool:
        """Whether the store has this `tca` namespace."""
        if ns_id not in self._namespaces:
            self._namespaces[ns_id] = identity.get_namespace(FACE_TCA, ns_id) is not None
        return self._namespaces[ns_id]

    def repo(self, team: str, url: str) -> RepoModel | None:
        found = self._repos.get((team, url))
        if found is None:
            found = self._repos[team, url] = repos.find(Owner(FACE_TCA, team), url)
        return found

    def scheme(self, owner: str, name: str, where: str) -> SchemeModel | None:
        """The owner's scheme of this name. Refused when it has several (the face copies a
        template under the template's name), as the document cannot tell them apart."""
        if owner not in self._schemes:
            named: dict[str, list[SchemeModel]] = {}
            for scheme in SchemeModel.query(owner, consistent_read=True):
                named.setdefault(scheme.name, []).append(scheme)
            self._schemes[owner] = named
        found = self._schemes[owner].get(name, [])
        if len(found) > 1:
            ids = ", ".join(str(s.scheme_id) for s in found)
            raise BadRequest(f"{where}: several schemes are named {name} (ids {ids})")
        return found[0] if found else None


# ---- tca_repos -----------------------------------------------------------------------------


def _check_repos(items: list[RepoItem], plan: Plan) -> None:
    store, planned = Store(), _planned_namespaces(plan)
    seen: set[tuple[str, str]] = set()
    for item in items:
        where = f"tca_repos: {item.team} {item.scm_url}"
        if item.scm_type != "git":
            raise BadRequest(f"{where}: only git repositories are scanned (scm_type git)")
        if item.team not in planned and not store.namespace(item.team):
            raise BadRequest(f"{where}: unknown team {item.team} (a tca namespace)")
        if (item.team, item.scm_url) in seen:
            raise BadRequest(f"{where}: listed twice")
        seen.add((item.team, item.scm_url))


def _repo_item(repo: RepoModel, team: str) -> dict[str, Any]:
    """No `scm_auth`: credentials are never exported."""
    return {
        "team": team,
        "scm_url": repo.scm_url,
        "scm_type": repo.scm_type,
        "name": repo.name,
        "ssh_url": repo.ssh_url,
        "created_from": repo.created_from,
        "labels": list(repo.labels or []),
    }


def _export_repos(page: Page, at: Any) -> Any:
    """Each team's repositories in id order."""

    def records(ns: identity.Namespace, start: Any, limit: int):
        if not _is_team(ns):
            return _nothing(start)
        after = _position(start, "r")["r"] if start is not None else None
        condition = RepoModel.repo_id > after if after is not None else None
        results = RepoModel.query(Owner(FACE_TCA, ns.ns_id).key, condition, limit=limit)
        found = list(results)
        more = _last(results, found, lambda r: r.repo_id)
        return [_repo_item(r, ns.ns_id) for r in found], {"r": more} if more is not None else None

    return workspace.walk(page, at, _namespaces, _emit, records)


@section("tca_repos", RepoItem, order=60, check=_check_repos, export=_export_repos)
def _apply_repos(items: list[RepoItem], plan: Plan) -> dict[str, int]:
    """Through the face's own registration (repos.create), or `repos.revise`."""
    counts = tally()
    for item in items:
        owner = Owner(FACE_TCA, item.team)
        body = RepoIn.model_validate(item.model_dump(exclude={"team"}))
        found = repos.find(owner, item.scm_url)
        if found is None:
            repos.create(owner, body, CREATOR)
            counts["created"] += 1
        else:
            counts["updated" if repos.revise(found, body) else "unchanged"] += 1
    return counts


# ---- tca_schemes ---------------------------------------------------------------------------

BASIC = ("name", "description", "languages", "tag", "status", "default_flag", "exclude")


def _check_schemes(items: list[SchemeItem], plan: Plan) -> None:
    store, planned, namespaces = Store(), _planned_repos(plan), _planned_namespaces(plan)
    seen: set[tuple[str | None, ...]] = set()
    for item in items:
        where = f"tca_schemes: {item.label}"
        if item.org is not None:
            if item.org not in namespaces and not store.namespace(item.org):
                raise BadRequest(f"{where}: unknown organisation {item.org} (a tca namespace)")
            store.scheme(org_key(FACE_TCA, item.org), item.name, where)
        else:
            assert item.team is not None and item.repo is not None  # the model checks it
            repo = store.repo(item.team, item.repo)
            if repo is None and (item.team, item.repo) not in planned:
                raise BadRequest(f"{where}: unknown repo {item.repo} of team {item.team}")
            if repo is not None:
                store.scheme(repo_key(repo.repo_id), item.name, where)
        key = (item.org, item.team, item.repo, item.name)
        if key in seen:
            raise BadRequest(f"{where}: listed twice")
        seen.add(key)


def _scheme_fields(scheme: SchemeModel) -> dict[str, Any]:
    """A scheme as an item has it, but its owner, read as the engine reads it (a field the
    face set to null is its default; the metric fields TCA's, over their defaults)."""
    conf = schemes.metric(scheme)
    return {
        "name": scheme.name,
        "description": scheme.description or "",
        "languages": list(scheme.languages or []),
        "tag": scheme.tag,
        "status": int(scheme.status) if scheme.status is not None else 1,
        "default_flag": bool(scheme.default_flag),
        "exclude": list(scheme.exclude or []),
        "lint": {
            "enabled": bool(scheme.lint_enabled),
            "build_cmd": scheme.build_cmd,
            "envs": scheme.envs,
            "pre_cmd": scheme.pre_cmd,
        },
        "metric": {name: conf.get(name) for name in MetricItem.model_fields},
    }


def _new_scheme(owner: str, want: dict[str, Any], repo: RepoModel | None) -> None:
    """`schemes.new_scheme`, saved as the face saves a scheme it makes: with its
    repository's count, in one transaction."""
    lint = want["lint"]
    scheme = schemes.new_scheme(
        owner,
        want["name"],
        CREATOR,
        **{name: want[name] for name in BASIC if name != "name"},
        lint_enabled=lint["enabled"],
        build_cmd=lint["build_cmd"],
        envs=lint["envs"],
        pre_cmd=lint["pre_cmd"],
        metric=want["metric"],
    )
    with resources.transaction() as tx:
        tx.save(scheme, condition=SchemeModel.scheme_id.does_not_exist())
        if repo is not None:
            tx.update(
                RepoModel(repo.owner, repo.repo_id),
                actions=[RepoModel.scheme_count.add(1)],
                condition=RepoModel.repo_id.exists(),
            )


def _revise_scheme(scheme: SchemeModel, want: dict[str, Any]) -> bool:
    """Through the face's own three configuration updates (`schemes.update`, checked
    against the version read), each only when it changes something."""
    have = _scheme_fields(scheme)
    bodies = []
    if any(have[name] != want[name] for name in BASIC):
        bodies.append(BasicConfIn(**{name: want[name] for name in BASIC}))
    if have["lint"] != want["lint"]:
        bodies.append(LintConfIn(**want["lint"]))
    if have["metric"] != want["metric"]:
        bodies.append(MetricConfIn(**want["metric"]))
    for body in bodies:
        schemes.update(scheme.owner, scheme.scheme_id, body)
    return bool(bodies)


def _schemes_after(owner: str, after: int | None, limit: int):
    condition = SchemeModel.scheme_id > after if after is not None else None
    results = SchemeModel.query(owner, condition, limit=limit)
    found = list(results)
    return found, _last(results, found, lambda s: s.scheme_id)


def _export_schemes(page: Page, at: Any) -> Any:
    """Each organisation's templates, and each team's repositories' schemes, in id order."""

    def of_repo(team: str) -> RepoRead:
        def read(repo: RepoModel, after: int | None, limit: int):
            found, more = _schemes_after(repo_key(repo.repo_id), after, limit)
            owner = {"team": team, "repo": repo.scm_url}
            return [{**owner, **_scheme_fields(s)} for s in found], more

        return read

    def records(ns: identity.Namespace, start: Any, limit: int):
        if _is_team(ns):
            return _per_repo(ns, start, limit, of_repo(ns.ns_id), "s")
        after = _position(start, "t")["t"] if start is not None else None
        found, more = _schemes_after(org_key(FACE_TCA, ns.ns_id), after, limit)
        items = [{"org": ns.ns_id, **_scheme_fields(s)} for s in found]
        return items, {"t": more} if more is not None else None

    return workspace.walk(page, at, _namespaces, _emit, records)


@section("tca_schemes", SchemeItem, order=61, check=_check_schemes, export=_export_schemes)
def _apply_schemes(items: list[SchemeItem], plan: Plan) -> dict[str, int]:
    counts, store = tally(), Store()
    for item in items:
        repo = None
        if item.org is not None:
            owner = org_key(FACE_TCA, item.org)
        else:
            assert item.team is not None and item.repo is not None
            repo = store.repo(item.team, item.repo)
            assert repo is not None  # checked, and tca_repos has been applied
            owner = repo_key(repo.repo_id)
        want = item.model_dump(exclude={"org", "team", "repo"})
        found = store.scheme(owner, item.name, f"tca_schemes: {item.label}")
        if found is None:
            _new_scheme(owner, want, repo)
            counts["created"] += 1
        else:
            counts["updated" if _revise_scheme(found, want) else "unchanged"] += 1
    return counts


# ---- tca_projects --------------------------------------------------------------------------


def _check_projects(items: list[ProjectItem], plan: Plan) -> None:
    store, planned = Store(), _planned_repos(plan)
    planned_schemes = {(s.team, s.repo, s.name) for s in plan.get("tca_schemes") if s.org is None}
    seen: set[tuple[str, str, str, str]] = set()
    for item in items:
        where = f"tca_projects: {item.label}"
        try:
            sources.check_branch(item.branch)
        except sources.ScmError as exc:
            raise BadRequest(f"{where}: {exc.message}") from None
        repo = store.repo(item.team, item.repo)
        if repo is None and (item.team, item.repo) not in planned:
            raise BadRequest(f"{where}: unknown repo {item.repo} of team {item.team}")
        stored = store.scheme(repo_key(repo.repo_id), item.scheme, where) if repo else None
        if stored is None and (item.team, item.repo, item.scheme) not in planned_schemes:
            raise BadRequest(f"{where}: unknown scheme {item.scheme} of repo {item.repo}")
        key = (item.team, item.repo, item.branch, item.scheme)
        if key in seen:
            raise BadRequest(f"{where}: listed twice")
        seen.add(key)


def _export_projects(page: Page, at: Any) -> Any:
    """Each team's repositories' projects, in id order, their schemes named."""

    def of_repo(team: str) -> RepoRead:
        def read(repo: RepoModel, after: int | None, limit: int):
            condition = ProjectModel.project_id > after if after is not None else None
            results = ProjectModel.query(repo.repo_id, condition, limit=limit)
            found = list(results)
            owner = repo_key(repo.repo_id)
            keys = sorted({(owner, p.scheme_id) for p in found})
            names = {s.scheme_id: s.name for s in SchemeModel.batch_get(keys)} if keys else {}
            items = [
                {
                    "team": team,
                    "repo": repo.scm_url,
                    "branch": p.branch,
                    "scheme": names[p.scheme_id],
                    "scan_path": p.scan_path,
                    "created_from": p.created_from,
                }
                if p.scheme_id in names
                else None  # no scheme to name it by (none is ever removed)
                for p in found
            ]
            return items, _last(results, found, lambda p: p.project_id)

        return read

    def records(ns: identity.Namespace, start: Any, limit: int):
        if not _is_team(ns):
            return _nothing(start)
        return _per_repo(ns, start, limit, of_repo(ns.ns_id), "p")

    return workspace.walk(page, at, _namespaces, _emit, records)


@section("tca_projects", ProjectItem, order=62, check=_check_projects, export=_export_projects)
def _apply_projects(items: list[ProjectItem], plan: Plan) -> dict[str, int]:
    """Through the face's own `projects.create`, but with the branch checked by name only
    (`live=False`: see the module's docstring), or `projects.revise`."""
    counts, store = tally(), Store()
    for item in items:
        owner = Owner(FACE_TCA, item.team)
        repo = store.repo(item.team, item.repo)
        assert repo is not None  # checked, and tca_repos has been applied
        scheme = store.scheme(repo_key(repo.repo_id), item.scheme, f"tca_projects: {item.label}")
        assert scheme is not None  # checked, and tca_schemes has been applied
        found = projects.find(repo.repo_id, scheme.scheme_id, item.branch)
        if found is None:
            body = ProjectIn(
                branch=item.branch,
                scan_scheme_id=scheme.scheme_id,
                scan_path=item.scan_path,
                created_from=item.created_from,
            )
            projects.create(owner, repo, body, CREATOR, live=False)
            counts["created"] += 1
        else:
            changed = projects.revise(
                found, scan_path=item.scan_path, created_from=item.created_from
            )
            counts["updated" if changed else "unchanged"] += 1
    return counts


# ---- export: over the tca namespaces -------------------------------------------------------

# read(repo, after, limit) -> (at most `limit` items of a repository after the id `after`,
# the id of the last one when there may be more, else None)
RepoRead = Callable[[RepoModel, int | None, int], tuple[list[Any], int | None]]


def _namespaces(start: Any, limit: int):
    return identity.namespaces_of_face(FACE_TCA, limit, start)


def _is_team(ns: identity.Namespace) -> bool:
    return "/" in ns.ns_id


def _nothing(start: Any) -> tuple[list[Any], None]:
    """The records of a namespace that has none for the section (an organisation has no
    repositories); no position inside it is one of ours."""
    if start is not None:
        raise BadRequest("cursor is not valid", field="cursor")
    return [], None


def _emit(_: identity.Namespace, found: list[Any]) -> list[dict[str, Any]]:
    return [item for item in found if item is not None]


def _position(start: Any, *keys: str) -> dict[str, int]:
    """A position inside a namespace's records: ids (positive integers) under `keys`, the
    first of them required."""
    if not isinstance(start, dict) or keys[0] not in start or set(start) - set(keys):
        raise BadRequest("cursor is not valid", field="cursor")
    return {key: cursors.number(start, key) for key in start}


def _last(results: Any, items: list[Any], key: Callable[[Any], int]) -> int | None:
    """The id to go on after, when the Query stopped at its limit."""
    return key(items[-1]) if items and results.last_evaluated_key is not None else None


def _per_repo(ns: identity.Namespace, start: Any, limit: int, read: RepoRead, inner: str):
    """A team's records, repository by repository in id order, at most `limit`, each
    repository read costing at least one (a None, which `_emit` drops, when it has none);
    and where to go on: `{"r": repository id, inner: the id of its last record read}`."""
    at = _position(start, "r", inner) if start is not None else {}
    first, after = at.get("r"), at.get(inner)
    found: list[Any] = []
    condition = RepoModel.repo_id >= first if first is not None else None
    # one more than the page takes, to know where the next page starts
    for repo in RepoModel.query(Owner(FACE_TCA, ns.ns_id).key, condition, limit=limit + 1):
        if len(found) >= limit:
            return found, {"r": repo.repo_id}
        items, more = read(repo, after if repo.repo_id == first else None, limit - len(found))
        found.extend(items or [None])
        if more is not None:
            return found, {"r": repo.repo_id, inner: more}
    return found, None

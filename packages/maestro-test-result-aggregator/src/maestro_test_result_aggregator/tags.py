"""Tags that place a run in history: project, branch, commit, build, time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime


@dataclass(frozen=True)
class RunTags:
    """Where a run comes from. Empty strings mean "unknown".

    Build them from arguments, from the CI environment
    (:meth:`from_environment`), or both (:meth:`merged_over`).

    Attributes:
        project: Repository or project name, e.g. ``org/service``.
        branch: Branch or ref the run tested.
        commit: Commit SHA the run tested.
        build: CI build or pipeline id; reports say "failing since build N".
        ci_url: Link to the CI job.
        environment: Free-form environment label (``staging``, ``py3.12``).
        started_at: Start time; when ``None`` the run's own start time is used,
            and the ingest time when the result file has none.

    >>> tags = RunTags(project="shop", branch="main", build="41")
    >>> tags.merged_over(RunTags(project="ignored", commit="abc123")).commit
    'abc123'
    """

    project: str = ""
    branch: str = ""
    commit: str = ""
    build: str = ""
    ci_url: str = ""
    environment: str = ""
    started_at: datetime | None = None

    def merged_over(self, fallback: RunTags) -> RunTags:
        """Return these tags with every empty field taken from ``fallback``.

        Args:
            fallback: Tags used where this object has nothing.

        Returns:
            A new :class:`RunTags`.

        >>> merged = RunTags(branch="dev").merged_over(RunTags(branch="main", build="7"))
        >>> merged.branch, merged.build
        ('dev', '7')
        """
        changes = {
            field.name: getattr(fallback, field.name)
            for field in fields(self)
            if not getattr(self, field.name)
        }
        return replace(self, **changes)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> RunTags:
        """Read tags from the variables CI services set.

        Understands GitHub Actions, GitLab CI, Jenkins, Azure Pipelines,
        CircleCI and Buildkite, plus the generic ``MAESTRO_RESULTS_*``
        variables (``PROJECT``, ``BRANCH``, ``COMMIT``, ``BUILD``, ``CI_URL``,
        ``ENV``, ``STARTED_AT``), which win over the service-specific ones. The
        start time comes from ``MAESTRO_RESULTS_STARTED_AT``, GitLab's
        ``CI_PIPELINE_CREATED_AT`` or Buildkite's ``BUILDKITE_BUILD_CREATED_AT``
        (ISO 8601), so every shard of one pipeline sorts at the same time.

        Args:
            environ: The environment to read; ``os.environ`` by default.

        Returns:
            The tags found; fields with no variable stay empty.

        >>> env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "org/shop",
        ...        "GITHUB_REF_NAME": "main", "GITHUB_SHA": "abc", "GITHUB_RUN_ID": "9",
        ...        "GITHUB_SERVER_URL": "https://github.com"}
        >>> tags = RunTags.from_environment(env)
        >>> tags.project, tags.build, tags.ci_url
        ('org/shop', '9', 'https://github.com/org/shop/actions/runs/9')
        """
        env = os.environ if environ is None else environ
        generic = cls(
            project=env.get("MAESTRO_RESULTS_PROJECT", ""),
            branch=env.get("MAESTRO_RESULTS_BRANCH", ""),
            commit=env.get("MAESTRO_RESULTS_COMMIT", ""),
            build=env.get("MAESTRO_RESULTS_BUILD", ""),
            ci_url=env.get("MAESTRO_RESULTS_CI_URL", ""),
            environment=env.get("MAESTRO_RESULTS_ENV", ""),
            started_at=_parse_time(env.get("MAESTRO_RESULTS_STARTED_AT")),
        )
        return generic.merged_over(_service_tags(env))


def _service_tags(env: Mapping[str, str]) -> RunTags:
    if env.get("GITHUB_ACTIONS") == "true":
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repo = env.get("GITHUB_REPOSITORY", "")
        run_id = env.get("GITHUB_RUN_ID", "")
        return RunTags(
            project=repo,
            branch=env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME", ""),
            commit=env.get("GITHUB_SHA", ""),
            build=run_id,
            ci_url=f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else "",
        )
    if env.get("GITLAB_CI") == "true":
        return RunTags(
            project=env.get("CI_PROJECT_PATH", ""),
            branch=env.get("CI_COMMIT_REF_NAME", ""),
            commit=env.get("CI_COMMIT_SHA", ""),
            build=env.get("CI_PIPELINE_ID", ""),
            ci_url=env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL", ""),
            started_at=_parse_time(env.get("CI_PIPELINE_CREATED_AT")),
        )
    if env.get("TF_BUILD") == "True":
        return RunTags(
            project=env.get("BUILD_REPOSITORY_NAME", ""),
            branch=env.get("BUILD_SOURCEBRANCHNAME", ""),
            commit=env.get("BUILD_SOURCEVERSION", ""),
            build=env.get("BUILD_BUILDID", ""),
        )
    if env.get("CIRCLECI") == "true":
        return RunTags(
            project=env.get("CIRCLE_PROJECT_REPONAME", ""),
            branch=env.get("CIRCLE_BRANCH", ""),
            commit=env.get("CIRCLE_SHA1", ""),
            build=env.get("CIRCLE_BUILD_NUM", ""),
            ci_url=env.get("CIRCLE_BUILD_URL", ""),
        )
    if env.get("BUILDKITE") == "true":
        return RunTags(
            project=env.get("BUILDKITE_PIPELINE_SLUG", ""),
            branch=env.get("BUILDKITE_BRANCH", ""),
            commit=env.get("BUILDKITE_COMMIT", ""),
            build=env.get("BUILDKITE_BUILD_NUMBER", ""),
            ci_url=env.get("BUILDKITE_BUILD_URL", ""),
            started_at=_parse_time(env.get("BUILDKITE_BUILD_CREATED_AT")),
        )
    if env.get("JENKINS_URL"):
        return RunTags(
            project=env.get("JOB_NAME", ""),
            branch=env.get("BRANCH_NAME") or env.get("GIT_BRANCH", ""),
            commit=env.get("GIT_COMMIT", ""),
            build=env.get("BUILD_NUMBER", ""),
            ci_url=env.get("BUILD_URL", ""),
        )
    return RunTags()


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:  # an unreadable CI variable must not stop an ingest
        return None


def running_in_ci(environ: Mapping[str, str] | None = None) -> bool:
    """Return whether the process runs under a CI service (``CI`` is set).

    >>> running_in_ci({"CI": "true"}), running_in_ci({})
    (True, False)
    """
    env = os.environ if environ is None else environ
    return bool(env.get("CI")) or bool(env.get("JENKINS_URL")) or "TF_BUILD" in env


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC.

    >>> utc_now().utcoffset()
    datetime.timedelta(0)
    """
    return datetime.now(UTC)

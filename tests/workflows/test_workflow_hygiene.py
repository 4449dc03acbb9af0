"""The hardening rules the workflows promise, checked one by one.

zizmor and actionlint cover much of this; these tests state the project's own rules (every
job has a timeout and its own permissions, every action is pinned with its version named,
the release never cancels a publish...) so that breaking one names the rule.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

PINNED_USES = re.compile(r"^\s*(?:- )?uses: (?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?P<rest>.*)$")
FULL_SHA = re.compile(r"[0-9a-f]{40}")
VERSION_COMMENT = re.compile(r"^ # v\d+\.\d+\.\d+$")
SETUP_UV = "astral-sh/setup-uv"
#: Workflows whose output is published: no restored cache may alter what they ship.
PUBLISHING = {"release.yml", "docs.yml"}


def _jobs(github_files: Any) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, job_id, job)
        for name, workflow in github_files.load().items()
        for job_id, job in workflow["jobs"].items()
    ]


def _steps(github_files: Any) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, job_id, step)
        for name, job_id, job in _jobs(github_files)
        for step in job.get("steps", [])
    ]


def test_every_action_is_pinned_to_a_commit_with_its_version(github_files: Any) -> None:
    pins: dict[str, set[str]] = {}
    uses_lines = 0
    for path in github_files.workflows:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "uses:" not in line:
                continue
            uses_lines += 1
            match = PINNED_USES.match(line)
            assert match, f"{path.name}: not an action reference: {line.strip()}"
            assert FULL_SHA.fullmatch(match["ref"]), f"{path.name}: not pinned to a SHA: {line}"
            assert VERSION_COMMENT.match(match["rest"]), f"{path.name}: no `# vX.Y.Z`: {line}"
            pins.setdefault(match["action"], set()).add(match["ref"] + match["rest"])
    assert uses_lines > 0
    drifting = {action: refs for action, refs in pins.items() if len(refs) > 1}
    assert drifting == {}, "one action, one pinned version everywhere"


def test_the_template_pins_the_same_action_versions(
    repository_files: Any, template_files: Any
) -> None:
    def pins(files: Any) -> dict[str, str]:
        return {
            step["uses"].split("@")[0]: step["uses"].split("@")[1]
            for _, _, step in _steps(files)
            if "uses" in step
        }

    repository, template = pins(repository_files), pins(template_files)
    shared = set(repository) & set(template)
    assert {"actions/checkout", SETUP_UV} <= shared
    assert {action: template[action] for action in shared} == {
        action: repository[action] for action in shared
    }


def test_nothing_is_granted_by_default_and_every_job_asks_for_its_own(
    github_files: Any,
) -> None:
    for name, workflow in github_files.load().items():
        assert workflow.get("permissions") == {}, f"{name}: top-level permissions must be {{}}"
    for name, job_id, job in _jobs(github_files):
        assert "permissions" in job, f"{name} job {job_id!r} declares no permissions"
        writes = {scope for scope, level in job["permissions"].items() if level == "write"}
        allowed = {"contents"} if name == "release.yml" else {"pages", "id-token"}
        assert writes <= allowed, f"{name} job {job_id!r} writes {writes - allowed}"


def test_every_job_has_a_timeout(github_files: Any) -> None:
    for name, job_id, job in _jobs(github_files):
        assert isinstance(job.get("timeout-minutes"), int), f"{name} job {job_id!r}"
        assert 0 < job["timeout-minutes"] <= 60, f"{name} job {job_id!r}"


def test_no_dangerous_trigger(github_files: Any) -> None:
    for name, workflow in github_files.load().items():
        triggers = workflow["on"] if isinstance(workflow["on"], dict) else {workflow["on"]: None}
        assert not {"pull_request_target", "workflow_run"} & set(triggers), name


def test_no_expression_is_expanded_inside_a_script(github_files: Any) -> None:
    # Values reach scripts through `env:`, as shell variables the shell never re-parses.
    for name, job_id, step in _steps(github_files):
        assert "${{" not in step.get("run", ""), f"{name} job {job_id!r}: {step['run']}"


def test_checkout_keeps_no_credentials_except_to_push_release_tags(github_files: Any) -> None:
    for name, job_id, step in _steps(github_files):
        if step.get("uses", "").startswith("actions/checkout@"):
            persist = step.get("with", {}).get("persist-credentials")
            expected = name == "release.yml" and github_files.name == "repository"
            assert persist is expected, f"{name} job {job_id!r}: persist-credentials {persist}"


def test_uv_caches_in_ci_and_never_on_a_publishing_path(github_files: Any) -> None:
    setups = [
        (name, step) for name, _, step in _steps(github_files) if SETUP_UV in step.get("uses", "")
    ]
    assert setups
    for name, step in setups:
        assert step["with"]["enable-cache"] is (name not in PUBLISHING), name


def test_release_runs_one_at_a_time_and_never_cancels_a_publish(github_files: Any) -> None:
    release = github_files.load()["release.yml"]
    assert release["on"]["push"]["branches"] == ["main"]
    assert release["concurrency"]["cancel-in-progress"] is False
    (job,) = release["jobs"].values()
    assert job["environment"]["name"] == "release"
    env = [str(value) for step in job["steps"] for value in step.get("env", {}).values()]
    secrets = " ".join(env)
    for name in ("NEXUS_URL", "NEXUS_USERNAME", "NEXUS_PASSWORD"):
        assert f"secrets.{name} }}" in secrets


def test_release_keeps_the_built_files_and_the_audit_log(repository_files: Any) -> None:
    release = repository_files.load()["release.yml"]
    uploads = {
        step["with"]["name"]: step["with"]["path"]
        for job in release["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("actions/upload-artifact@")
    }
    # the factory's default audit log (`factory ship --help`) and its dist/<package>/
    assert uploads == {"dist": "dist/", "release-audit-log": "build/audit/release-audit.jsonl"}


def test_release_keeps_its_audit_log_and_tags_even_when_cancelled(repository_files: Any) -> None:
    (job,) = repository_files.load()["release.yml"]["jobs"].values()
    conditions = {
        step.get("with", {}).get("name") or step.get("run"): step.get("if") for step in job["steps"]
    }
    # a job that hits its timeout is cancelled: an interrupted publish is recorded in the
    # audit log (and may have tagged what it finished), which must not be thrown away then
    assert conditions["release-audit-log"] == "always()"
    assert conditions["git push origin --tags"] == "always()"


def test_the_summary_job_fails_when_any_needed_job_fails(github_files: Any) -> None:
    ci = github_files.load()["ci.yml"]
    summary = ci["jobs"]["ci-passed"]
    others = set(ci["jobs"]) - {"ci-passed"}
    assert set(summary["needs"]) == others, "branch protection requires only this job"
    assert summary["if"] == "always()"
    (gate,) = summary["steps"]
    assert gate["run"] == "exit 1"
    assert "contains(needs.*.result, 'failure')" in gate["if"]
    assert "contains(needs.*.result, 'cancelled')" in gate["if"]


def test_ci_runs_the_workflow_checks_whenever_something_they_read_changes(
    repository_files: Any,
) -> None:
    changes = repository_files.load()["ci.yml"]["jobs"]["changes"]
    (paths,) = [step for step in changes["steps"] if step.get("id") == "paths"]
    watched = set(yaml.safe_load(paths["with"]["filters"])["workflows"])
    # the parity test reads ./dev and `factory --help`; the template's workflows are rendered
    # from template/ with copier.yml: a change to any of them alone can break the checks
    assert {
        ".github/**",
        "template/**",
        "copier.yml",
        "dev",
        "tools/factory/**",
        "tests/workflows/**",
    } <= watched
    assert repository_files.load()["ci.yml"]["jobs"]["workflows"]["if"] == (
        "needs.changes.outputs.workflows == 'true'"
    )


def test_ci_runs_the_template_tests_whenever_something_they_read_changes(
    repository_files: Any,
) -> None:
    changes = repository_files.load()["ci.yml"]["jobs"]["changes"]
    (paths,) = [step for step in changes["steps"] if step.get("id") == "paths"]
    watched = set(yaml.safe_load(paths["with"]["filters"])["template"])
    # the drift check re-renders every package's template-owned files; the script tests run
    # scripts/; the generated packages are built with the factory in the locked environment
    assert {
        "copier.yml",
        "template/**",
        "tests/template/**",
        "packages/**",
        "scripts/**",
        "tools/factory/**",
        "uv.lock",
    } <= watched


def test_ci_runs_the_docs_tests_when_the_root_readme_changes(repository_files: Any) -> None:
    changes = repository_files.load()["ci.yml"]["jobs"]["changes"]
    (paths,) = [step for step in changes["steps"] if step.get("id") == "paths"]
    # tests/docs checks the commands of the developers' guide: README.md and docs/
    assert {"README.md", "docs/**"} <= set(yaml.safe_load(paths["with"]["filters"])["docs"])


def test_ci_tests_every_supported_python(github_files: Any) -> None:
    tests = github_files.load()["ci.yml"]["jobs"]["tests"]
    assert tests["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    assert tests["strategy"]["fail-fast"] is False


def test_dependabot_updates_actions_and_python_dependencies(github_files: Any) -> None:
    config = yaml.safe_load(github_files.dependabot.read_text(encoding="utf-8"))
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    assert {"github-actions", "uv"} <= ecosystems

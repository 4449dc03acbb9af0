"""Publish what the index does not have yet, in dependency order, and prove it arrived.

For each package (dependencies first):

1. read the index's simple page for the project;
2. skip files already there with the same sha256, stop on a file there with another;
3. check that every sibling requirement is satisfiable from the index;
4. upload the rest (retrying 5xx and broken connections with backoff);
5. read the simple page back until every file is listed with its sha256;
6. record each decision in the release audit log, and tag the release.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from maestro_factory._integrations import ReleaseAudit, RetryPolicy, call_with_retries, poll
from maestro_factory._upload import upload_file
from maestro_factory.building import Artefacts, find_artefacts
from maestro_factory.errors import (
    DependencyNotPublishedError,
    FactoryError,
    HashMismatchError,
    IndexVerificationError,
    StepFailedError,
    UploadRejectedError,
)
from maestro_factory.gitrepo import Git
from maestro_factory.index import IndexConfig, IndexFile, SimpleIndex, file_sha256
from maestro_factory.workspace import Package, Workspace

__all__ = ["PackageOutcome", "PublishOptions", "RetryPolicy", "publish"]


@dataclass(frozen=True)
class PublishOptions:
    """How patient and how thorough ``publish`` is.

    Attributes:
        upload_retry: Retries of one upload on 5xx answers and broken connections.
        verify_retry: How long to wait for uploaded files to appear in the simple index.
        tag: Create the ``<distribution>-v<version>`` git tag of each release that is on the
            index (also one published by an earlier, interrupted run), unless it exists.
    """

    upload_retry: RetryPolicy = RetryPolicy()  # noqa: RUF009 - frozen, safe to share
    verify_retry: RetryPolicy = RetryPolicy(attempts=8, initial_delay=0.5)  # noqa: RUF009
    tag: bool = False


@dataclass
class PackageOutcome:
    """What ``publish`` did with one package."""

    package: Package
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    tagged: bool = False


def publish(
    workspace: Workspace,
    packages: Sequence[Package],
    config: IndexConfig,
    *,
    dist_dir: Path,
    audit: ReleaseAudit,
    say: Callable[[str], None],
    options: PublishOptions = PublishOptions(),
    git: Git | None = None,
) -> list[PackageOutcome]:
    """Publish *packages* (put in dependency order here) to the index of *config*.

    Raises:
        HashMismatchError: A file of the same name and version is on the index with other content.
        DependencyNotPublishedError: A sibling requirement is not satisfiable from the index.
        UploadRejectedError: The index refused an upload (explained).
        TransientIndexError: The index kept failing after all retries.
        IndexVerificationError: Uploaded files did not appear with their sha256.
    """
    index = SimpleIndex(config.simple_url, config.credentials)
    order = [package for package in workspace.in_dependency_order() if package in packages]
    outcomes = []
    for package in order:
        artefacts = find_artefacts(package, dist_dir)
        if not artefacts.files:
            raise StepFailedError(
                f"no built files for {package.name} {package.version} in {dist_dir / package.name}: "
                "run `factory build` first"
            )
        outcome = _publish_package(workspace, artefacts, config, index, audit, say, options)
        if options.tag and git is not None:  # every file is on the index now, uploaded or not
            outcome.tagged = git.create_tag(package.tag, f"{package.name} {package.version}")
            if outcome.tagged:
                say(f"  tagged {package.tag}")
        outcomes.append(outcome)
    return outcomes


def _publish_package(
    workspace: Workspace,
    artefacts: Artefacts,
    config: IndexConfig,
    index: SimpleIndex,
    audit: ReleaseAudit,
    say: Callable[[str], None],
    options: PublishOptions,
) -> PackageOutcome:
    package = artefacts.package
    outcome = PackageOutcome(package)
    where = config.upload_url
    remote = call_with_retries(
        lambda: index.project_files(package.name),
        policy=options.upload_retry,
        what="reading the index",
        say=say,
    )
    local = {path.name: (path, file_sha256(path)) for path in artefacts.files}
    to_upload: list[tuple[Path, str]] = []
    for name, (path, sha256) in local.items():
        listed = remote.get(name)
        if listed is None:
            to_upload.append((path, sha256))
            continue
        remote_sha256 = index.sha256_of(listed)
        if remote_sha256 != sha256:
            audit.record(
                "publish", name, outcome="failure", reason="a different file of that name is on the index",
                package=package.name, version=package.version, sha256=sha256, index_sha256=remote_sha256, index_url=where,
            )  # fmt: skip
            raise HashMismatchError(
                f"{name} is already on {config.simple_url} with sha256 {remote_sha256}, but the local file has "
                f"{sha256}. Published files are never overwritten: bump the version of {package.name}, "
                "or rebuild from the tagged commit if this build was meant to be identical"
                + (
                    f". This is the embedded demo index: delete {config.embedded_directory} to start it afresh"
                    if config.embedded_directory
                    else ""
                )
            )
        outcome.skipped.append(name)
        audit.record(
            "publish.skip", name, reason="already on the index with the same sha256",
            package=package.name, version=package.version, sha256=sha256, index_url=where,
        )  # fmt: skip
    if not to_upload:
        say(
            f"{package.name} {package.version}: already on the index ({len(outcome.skipped)} files, same sha256)"
        )
        return outcome

    try:
        _require_published_siblings(workspace, package, index, options, say)
    except DependencyNotPublishedError as error:
        for path, sha256 in to_upload:
            audit.record(
                "publish", path.name, outcome="failure", reason=str(error),
                package=package.name, version=package.version, sha256=sha256, index_url=where,
            )  # fmt: skip
        raise
    say(
        f"{package.name} {package.version}: uploading {len(to_upload)} file(s), {len(outcome.skipped)} already there"
    )
    for path, sha256 in to_upload:
        try:
            stored_now = call_with_retries(
                lambda path=path, sha256=sha256: _upload_unless_there(
                    path, sha256, package, config, index
                ),  # type: ignore[misc]
                policy=options.upload_retry,
                what=f"uploading {path.name}",
                say=say,
            )
        except FactoryError as error:
            audit.record(
                "publish", path.name, outcome="failure", reason=str(error),
                package=package.name, version=package.version, sha256=sha256, index_url=where,
            )  # fmt: skip
            raise
        except KeyboardInterrupt:  # Ctrl-C, or CI cancelling the job: the upload's fate is unknown
            audit.record(
                "publish", path.name, outcome="error",
                reason="interrupted during the upload: the index may or may not have the file; "
                "a re-run skips it if it arrived and uploads it otherwise",
                package=package.name, version=package.version, sha256=sha256, index_url=where,
            )  # fmt: skip
            raise
        outcome.uploaded.append(path.name)
        found = (
            None if stored_now else f"already on the index with the same sha256: {_STORED_BEFORE}"
        )
        audit.record(
            "publish", path.name, reason=found,
            package=package.name, version=package.version, sha256=sha256, index_url=where,
        )  # fmt: skip
        say(
            f"  {path.name}: {found}"
            if found
            else f"  uploaded {path.name} (sha256 {sha256[:12]}...)"
        )
    _verify_listed(package, local, index, audit, say, options, where)
    return outcome


#: Statuses indexes answer to an upload of a file they already have (Nexus, PyPI and
#: pypiserver 400, others 409).
_DUPLICATE_STATUSES = frozenset({400, 409})
_STORED_BEFORE = "an earlier attempt stored it but its answer was lost (or another run uploaded it)"


def _upload_unless_there(
    path: Path, sha256: str, package: Package, config: IndexConfig, index: SimpleIndex
) -> bool:
    """Upload *path*; ``False`` when the index refused it because it has this very file.

    An upload whose answer was lost (a proxy timing out while the index stored the file)
    is retried, and the index refuses the retry as a duplicate: that is success, which
    only the index's own listing with the same sha256 can tell from a real conflict.
    """
    try:
        upload_file(path, config.upload_url, config.credentials)
    except UploadRejectedError as error:
        if error.status in _DUPLICATE_STATUSES:
            listed = index.project_files(package.name).get(path.name)
            if listed is not None and index.sha256_of(listed) == sha256:
                return False
        raise
    return True


def _require_published_siblings(
    workspace: Workspace,
    package: Package,
    index: SimpleIndex,
    options: PublishOptions,
    say: Callable[[str], None],
) -> None:
    for key, specifier in package.sibling_requirements.items():
        sibling = workspace.packages[key]
        available = call_with_retries(
            lambda name=sibling.name: index.versions(name),  # type: ignore[misc]
            policy=options.upload_retry,
            what="reading the index",
            say=say,
        )
        if not any(specifier.contains(version, prereleases=True) for version in available):
            have = ", ".join(sorted(str(v) for v in available)) or "no version"
            raise DependencyNotPublishedError(
                f"{package.name} requires {sibling.name}{specifier}, but the index has {have} of {sibling.name}: "
                f"publish {sibling.name} first (publishing it in the same run does this)"
            )


def _verify_listed(
    package: Package,
    local: dict[str, tuple[Path, str]],
    index: SimpleIndex,
    audit: ReleaseAudit,
    say: Callable[[str], None],
    options: PublishOptions,
    where: str,
) -> None:
    def missing(listed: dict[str, IndexFile]) -> list[str]:
        return sorted(
            name
            for name, (_, sha256) in local.items()
            if name not in listed or index.sha256_of(listed[name]) != sha256
        )

    listed = poll(
        lambda: index.project_files(package.name),
        until=lambda files: not missing(files),
        policy=options.verify_retry,
        what=f"{package.name} {package.version} in the simple index",
        say=say,
    )
    absent = missing(listed)
    for name, (_, sha256) in local.items():
        audit.record(
            "publish.verify", name, outcome="failure" if name in absent else "success",
            reason="not listed with this sha256 by the simple index" if name in absent else None,
            package=package.name, version=package.version, sha256=sha256, index_url=where,
        )  # fmt: skip
    if absent:
        raise IndexVerificationError(
            f"uploaded but not listed with the right sha256 by {index.url}{package.name}/: {', '.join(absent)}. "
            "Some Nexus versions drop uploaded files from /simple (NEXUS-34950): check the file in the Nexus UI, "
            "upgrade Nexus or have its administrator repair the repository; once it is listed, a rerun skips it"
        )
    say(f"  verified: every file is listed with its sha256 by {index.url}")

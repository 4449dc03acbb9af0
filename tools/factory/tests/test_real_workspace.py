"""The real workspace packages, published to a real pypiserver and installed back from it (slow)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from factory_test_support import PypiServer

from maestro_factory import IndexConfig, PublishOptions, Workspace
from maestro_factory.pipeline import Context, build_step, publish_step
from maestro_factory.venvs import InstallSource, install_and_import

REPOSITORY = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_real_packages_publish_and_install_with_siblings_from_the_index(
    tmp_path: Path, pypiserver: PypiServer
) -> None:
    lines: list[str] = []
    workspace = Workspace.load(REPOSITORY)
    context = Context(workspace, None, tmp_path / "build", tmp_path / "dist", lines.append)
    packages = workspace.in_dependency_order()
    assert {"maestro-test-adapters", "maestro-test-result-aggregator"} <= {p.name for p in packages}

    build_step(context, packages, smoke=False)
    aggregator = workspace.get("maestro-test-result-aggregator")
    wheel = next((tmp_path / "dist" / aggregator.name).glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(
            archive.read(n).decode()
            for n in archive.namelist()
            if n.endswith(".dist-info/METADATA")
        )
    requires = [
        line
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: maestro-test-adapters")
    ]
    assert requires, "the aggregator must require maestro-test-adapters by version range"
    assert not [line for line in metadata.splitlines() if "file:" in line or " @ " in line]

    config = IndexConfig.for_url(pypiserver.url)
    outcomes = publish_step(
        context, packages, config, audit_log=tmp_path / "audit.jsonl", options=PublishOptions()
    )
    assert [o.package.name for o in outcomes] == [p.name for p in packages]
    assert sum(len(o.uploaded) for o in outcomes) == 2 * len(packages)

    adapters = workspace.get("maestro-test-adapters")
    modules = install_and_import(
        f"{aggregator.name}[analytics]=={aggregator.version}",
        aggregator.name,
        aggregator.version,
        source=InstallSource(
            environment={"UV_INDEX": config.install_url}, refresh=(aggregator.name, adapters.name)
        ),
    )

    assert modules == ["maestro_test_result_aggregator"]
    log = pypiserver.log.read_text()
    adapters_wheel = (
        f"GET /packages/{adapters.name.replace('-', '_')}-{adapters.version}-py3-none-any.whl"
    )
    assert adapters_wheel in log  # the sibling came from our index, not from anywhere else
    assert (
        f"GET /packages/{aggregator.name.replace('-', '_')}-{aggregator.version}-py3-none-any.whl"
        in log
    )

"""Free-text and list answers reach the generated files intact, whatever they contain."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from template_render import render_cookiecutter, render_copier

RUFF = str(Path(sys.executable).parent / "ruff")

DESCRIPTIONS = [
    'Wraps the "legacy" parser for C:\\temp paths and says "hi"',
    'Says """triple""" and ends with a quote"',
    "Ends with a backslash \\",
    "It's a \"mixed\" 'quote' case with a \\n and a tail long enough to pass the hundred"
    ' column limit of the generated code, "surely"',
    "Circuit breaker, bulkhead, retry, timeout, fallback, rate limiter and other resilience"
    " patterns for the outbound calls of the services, in one place",
]


@pytest.mark.parametrize("description", DESCRIPTIONS)
def test_the_description_is_quoted_as_python_in_the_generated_modules(
    description: str, tmp_path: Path
) -> None:
    answers = {
        "distribution_name": "maestro-described",
        "console_script": "described",
        "description": description,
    }
    package = render_copier(answers, tmp_path / "copier")
    assert (
        package.joinpath("pyproject.toml").read_bytes()
        == (render_cookiecutter(answers, tmp_path / "cookiecutter") / "pyproject.toml").read_bytes()
    )
    assert tomllib.loads((package / "pyproject.toml").read_text())["project"]["description"] == (
        description
    )
    source = package / "src" / "maestro_described"
    module = ast.parse((source / "__init__.py").read_text())
    docstring = ast.get_docstring(module, clean=False)
    assert docstring is not None
    assert " ".join(docstring.split()) == " ".join(description.split())
    cli = ast.parse((source / "cli.py").read_text())
    (argument,) = [
        keyword.value
        for node in ast.walk(cli)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "description"
    ]
    assert ast.literal_eval(argument) == description

    config = ["--no-cache", "--config", str(package / "pyproject.toml")]
    for command in (["check"], ["format", "--check", "--diff"]):
        result = subprocess.run(
            [RUFF, *command, *config, str(source)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_comma_inside_a_requirements_extras_does_not_split_it(tmp_path: Path) -> None:
    answers = {
        "distribution_name": "maestro-split",
        "dependencies": "httpx[http2,brotli]>=0.27,<1, attrs>=23",
        "extras": {"fast": "orjson[a, b]>=3; python_version < '3.14', ujson>=5"},
    }
    for package in (
        render_copier(answers, tmp_path / "copier"),
        render_cookiecutter(answers, tmp_path / "cookiecutter"),
    ):
        project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
        assert project["dependencies"] == ["httpx[http2,brotli]>=0.27,<1", "attrs>=23"]
        assert project["optional-dependencies"]["fast"] == [
            "orjson[a, b]>=3; python_version < '3.14'",
            "ujson>=5",
        ]


def test_long_names_keep_the_generated_code_ruff_clean(tmp_path: Path) -> None:
    name = "maestro-distributed-tracing-exporters-otlp-grpc"
    package = render_copier(
        {"distribution_name": name, "console_script": f"{name}-cli", "extras": {"x": ["a>=1"]}},
        tmp_path / "package",
    )
    config = ["--no-cache", "--config", str(package / "pyproject.toml")]
    for command in (["check"], ["format", "--check", "--diff"]):
        result = subprocess.run(
            [RUFF, *command, *config, str(package / "src"), str(package / "tests")],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr

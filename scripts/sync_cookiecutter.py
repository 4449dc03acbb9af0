"""Generate template/cookiecutter.json from copier.yml, the one source of the questions.

Usage::

    uv run python scripts/sync_cookiecutter.py          # rewrite template/cookiecutter.json
    uv run python scripts/sync_cookiecutter.py --check  # exit 1 when it is out of date

Copier defaults refer to earlier answers by their bare names (``{{ distribution_name }}``);
cookiecutter needs ``{{ cookiecutter.distribution_name }}``. Hidden questions
(``when: false``) are copier-side plumbing and are left out.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = ROOT / "copier.yml"
COOKIECUTTER_JSON = ROOT / "template" / "cookiecutter.json"
EXTENSION = "maestro_template.MaestroExtension"


def _questions(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: spec
        for name, spec in config.items()
        if not name.startswith("_") and isinstance(spec, dict) and spec.get("when") is not False
    }


def _cookiecutter_default(spec: dict[str, Any], names: list[str]) -> Any:
    if "choices" in spec:
        choices = [str(choice) for choice in spec["choices"]]
        default = str(spec.get("default", choices[0]))
        return [default, *[choice for choice in choices if choice != default]]
    default = spec.get("default", "")
    if spec.get("type") == "bool":
        return bool(default)
    if spec.get("type") in {"json", "yaml"}:
        return json.loads(default) if isinstance(default, str) else default
    text = str(default)
    for name in names:
        text = re.sub(rf"(?<![\w.]){re.escape(name)}\b", f"cookiecutter.{name}", text)
    return text


def render() -> str:
    """Return the cookiecutter.json text that matches copier.yml."""
    config = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))
    questions = _questions(config)
    names = list(questions)
    context: dict[str, Any] = {
        name: _cookiecutter_default(spec, names) for name, spec in questions.items()
    }
    context["__prompts__"] = {name: spec["help"] for name, spec in questions.items()}
    context["_extensions"] = [EXTENSION]
    return json.dumps(context, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args(argv)
    expected = render()
    if args.check:
        current = (
            COOKIECUTTER_JSON.read_text(encoding="utf-8") if COOKIECUTTER_JSON.exists() else ""
        )
        if current != expected:
            print(
                f"{COOKIECUTTER_JSON.relative_to(ROOT)} is out of date with copier.yml: "
                "run `uv run python scripts/sync_cookiecutter.py`.",
                file=sys.stderr,
            )
            return 1
        return 0
    COOKIECUTTER_JSON.write_text(expected, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

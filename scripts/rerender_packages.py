"""Re-render the template-owned files of packages whose folders are not clean.

`copier update` is the normal way to carry a template change into a package, but it
refuses to run while the package folder has uncommitted changes. This script renders
each package from the committed template (``--vcs-ref`` = the current commit, so the
recorded ``_commit`` is a real one) with its recorded answers, plus any ``--data``
overrides, and copies over only the files the template owns.

    uv run python scripts/rerender_packages.py [--data KEY=JSON] [PACKAGE ...]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import yaml
from copier import run_copy

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ".copier-answers.yml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", help="package folder names (default: all)")
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="override an answer (for the named packages)",
    )
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    package_owned = config["_skip_if_exists"]
    questions = sorted(k for k, v in config.items() if not k.startswith("_") and "help" in v)
    known = sorted(p.parent.name for p in ROOT.glob(f"packages/*/{ANSWERS}"))
    names = args.packages or known
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(
            f"no package made with copier named {', '.join(unknown)} "
            f"(packages/<name>/{ANSWERS} is missing); choose among: {', '.join(known)}"
        )
    overrides = {}
    for item in args.data:
        key, equals, value = item.partition("=")
        if key not in questions:
            parser.error(
                f"--data {item}: {key!r} is not a question; choose among: {', '.join(questions)}"
            )
        try:
            overrides[key] = json.loads(value) if equals else None
        except json.JSONDecodeError:
            overrides[key] = None
        if overrides[key] is None:
            parser.error(
                f"--data {item}: the value must be JSON, a string in double quotes "
                f"(for example --data '{key}=\"httpx>=0.27,<1\"')"
            )
    for name in names:
        package = ROOT / "packages" / name
        answers = yaml.safe_load((package / ANSWERS).read_text())
        data = {k: v for k, v in answers.items() if not k.startswith("_")} | overrides
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rendered = Path(tmp) / name
            # "." as the source records `_src_path: .`: `copier update` runs from the root.
            try:
                run_copy(
                    ".",
                    str(rendered),
                    data=data,
                    defaults=True,
                    unsafe=True,
                    quiet=True,
                    vcs_ref=commit,
                )
            except ValueError as error:  # copier's message names the question and the reason
                print(f"rerender_packages: {name}: {error}", file=sys.stderr)
                return 2
            for path in sorted(rendered.rglob("*")):
                relative = path.relative_to(rendered).as_posix()
                if path.is_dir() or any(fnmatch.fnmatch(relative, p) for p in package_owned):
                    continue
                target = package / relative
                if relative == "pyproject.toml" and target.exists():
                    # The version line belongs to the package.
                    current = next(
                        line
                        for line in target.read_text().splitlines()
                        if line.startswith("version = ")
                    )
                    text = (
                        "\n".join(
                            current if line.startswith("version = ") else line
                            for line in path.read_text().splitlines()
                        )
                        + "\n"
                    )
                    target.write_text(text)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        print(f"re-rendered {name} from template commit {commit[:7]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``run`` subcommand of ``maestro-adapters``.

``maestro_test_adapters.cli`` registers it with :func:`add_run_command`;
:func:`main` runs it on its own (``python -m maestro_test_adapters.adapters._cli``).

Exit codes: 0 when every test passed, 1 when a test failed or errored (a
crash or a timeout is an error), 2 on a usage error or a missing tool.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from maestro_test_adapters.adapters._base import Adapter, AdapterError
from maestro_test_adapters.adapters._composite import (
    CUCUMBER_RUNNERS,
    PLAYWRIGHT_RUNNERS,
    CucumberAdapter,
    PlaywrightAdapter,
)
from maestro_test_adapters.adapters._node import JestAdapter
from maestro_test_adapters.adapters._python import PytestAdapter, SeleniumAdapter
from maestro_test_adapters.cli import describe_totals

#: Frameworks ``run`` knows, with the runners each accepts (first is the default).
RUNNERS: Final[dict[str, tuple[str, ...]]] = {
    "pytest": ("pytest",),
    "jest": ("jest",),
    "cucumber": CUCUMBER_RUNNERS,
    "playwright": PLAYWRIGHT_RUNNERS,
    "selenium": ("pytest",),
}


def add_run_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run [options] FRAMEWORK TARGET [ARGS...]`` to a ``maestro-adapters`` parser.

    The subparser sets ``handler`` to :func:`run_command`: call
    ``args.handler(args)`` after parsing to get the exit code.
    """
    parser = subparsers.add_parser(
        "run",
        help="run a suite in its framework and print the normalised totals",
        description="Run a test suite in its own framework and print the normalised result."
        " Options go before FRAMEWORK; everything after TARGET goes to the framework.",
    )
    parser.add_argument("framework", choices=sorted(RUNNERS), help="framework of the suite")
    parser.add_argument("target", help="test file, folder or pattern, as the framework takes it")
    parser.add_argument(
        "--runner",
        help="cucumber: cucumber-js (default) or behave;"
        " playwright: playwright-test (default) or pytest",
    )
    parser.add_argument(
        "--timeout", type=_positive_float, metavar="SECONDS", help="kill the run after SECONDS"
    )
    parser.add_argument("--workdir", type=Path, help="directory to run in (default: current)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        type=_assignment,
        metavar="NAME=VALUE",
        help="set an environment variable for the run (repeatable)",
    )
    parser.add_argument(
        "--reruns",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="pytest-based runs: rerun a failing test up to N times",
    )
    parser.add_argument("--json", action="store_true", help="print the normalised JSON")
    parser.add_argument(
        "--output", type=Path, metavar="FILE", help="also write the normalised JSON to FILE"
    )
    extra = parser.add_argument(
        "extra_args",
        nargs=argparse.REMAINDER,
        metavar="ARGS",
        help="everything after TARGET goes to the framework unchanged",
    )
    # argparse marks a REMAINDER positional required and would list ARGS among
    # the missing arguments, though none are needed.
    extra.required = False
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run the suite described by parsed ``run`` arguments and return the exit code."""
    runners = RUNNERS[args.framework]
    runner = args.runner or runners[0]
    if runner not in runners:
        return _usage_error(
            f"--runner {runner!r} is not valid for {args.framework};"
            f" use one of {', '.join(runners)}"
        )
    if args.reruns and runner != "pytest":
        return _usage_error("--reruns applies to pytest-based runs only")
    output: Path | None = args.output
    if output is not None and not output.parent.is_dir():
        # Found out before the suite runs, not after.
        return _usage_error(f"cannot write {output}: the folder {output.parent} does not exist")
    extra = list(args.extra_args)
    if extra[:1] == ["--"]:
        del extra[0]
    try:
        adapter = _adapter_for(args.framework, runner, args.reruns)
        run = adapter.run(
            args.target,
            timeout=args.timeout,
            env=dict(args.env),
            workdir=args.workdir,
            extra_args=extra,
        )
    except AdapterError as exc:
        return _usage_error(str(exc))
    document = run.to_json(indent=2)
    summary = describe_totals(run.framework, run.totals, run.duration)
    # The results are shown before --output is written, so a failed write loses nothing.
    if args.json:
        print(document)
        print(summary, file=sys.stderr)
    else:
        print(summary)
        for result in run.iter_results():
            if result.status.is_failure:
                first_line = (result.message or "").partition("\n")[0]
                print(f"  {result.status.value.upper()} {result.test_id}: {first_line}")
    if output is not None:
        try:
            output.write_text(document + "\n", encoding="utf-8")
        except OSError as exc:
            return _usage_error(f"cannot write {output}: {exc.strerror or exc}")
    return 0 if run.totals.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``run`` subcommand alone and return its exit code.

    >>> main(["run", "nose", "tests"])
    Traceback (most recent call last):
    ...
    SystemExit: 2
    """
    parser = argparse.ArgumentParser(prog="maestro-adapters")
    add_run_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _adapter_for(framework: str, runner: str, reruns: int) -> Adapter:
    if framework == "jest":
        return JestAdapter()
    if framework == "cucumber":
        return CucumberAdapter("behave" if runner == "behave" else "cucumber-js")
    if framework == "playwright":
        return PlaywrightAdapter(
            "pytest" if runner == "pytest" else "playwright-test", reruns=reruns
        )
    if framework == "selenium":
        return SeleniumAdapter(reruns=reruns)
    return PytestAdapter(reruns=reruns)


def _usage_error(message: str) -> int:
    print(f"maestro-adapters run: error: {message}", file=sys.stderr)
    return 2


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:  # NaN too
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
    return value


def _non_negative_int(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 0 or more")
    return int(text)


def _assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


if __name__ == "__main__":
    sys.exit(main())

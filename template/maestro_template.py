"""Jinja extension shared by the copier and the cookiecutter side of the Maestro template.

Both engines load this one module, so the answers are checked by the same code and the
files are rendered with the same filters whichever engine a platform engineer uses:

* copier loads it through ``copier-template-extensions`` (``_jinja_extensions`` in
  ``copier.yml``) and calls the ``*_error`` filters from the questions' validators, so a
  bad answer is asked again interactively;
* cookiecutter loads it as a local extension (``_extensions`` in ``cookiecutter.json``)
  and renders the project folder's name through ``validated_distribution_name``, which
  raises before a single file is written.
"""

from __future__ import annotations

import json
import keyword
import os
import re
import sys
import textwrap
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment
from jinja2.exceptions import UndefinedError
from jinja2.ext import Extension

# PEP 508 names; PEP 503 normalisation; PEP 685 extra names.
_NAME = re.compile(r"^([a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$", re.IGNORECASE)
_VERSION = re.compile(
    r"^([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*"
    r"((a|b|rc)(0|[1-9][0-9]*))?(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The entry points specification: dotted identifiers, `module` or `module:object.attr`.
_DOTTED = r"[^\W\d]\w*(\.[^\W\d]\w*)*"
_ENTRY_POINT_OBJECT = re.compile(rf"^{_DOTTED}(:{_DOTTED})?$")
_ENTRY_POINT_GROUP = re.compile(r"^\w+(\.\w+)*$")
_REQUIREMENT_START = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


class AnswerError(UndefinedError):
    """A template answer is not acceptable.

    It derives from ``UndefinedError`` on purpose: that is the one rendering error
    cookiecutter turns into a clean message (and a non-zero exit) instead of a traceback.
    """


def normalize(name: str) -> str:
    """Return the PEP 503 normalised form of a distribution or extra name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _path_separator_error(what: str, value: str) -> str:
    if "/" in value or "\\" in value or os.sep in value:
        return f"{what} {value!r} contains a path separator; give a bare name, not a path."
    return ""


def distribution_name_error(value: Any) -> str:
    """Explain what is wrong with a distribution name, or return ``""``."""
    value = str(value)
    if error := _path_separator_error("the distribution name", value):
        return error
    if not _NAME.match(value):
        return (
            f"the distribution name {value!r} is not a valid PEP 508 name: use letters, "
            "digits and single hyphens, starting and ending with a letter or digit "
            "(for example 'maestro-http-clients')."
        )
    if normalize(value) != value:
        return (
            f"the distribution name {value!r} is not PEP 503 normalised: use {normalize(value)!r}."
        )
    return ""


def import_name_error(value: Any) -> str:
    """Explain what is wrong with an import name, or return ``""``."""
    value = str(value)
    if error := _path_separator_error("the import name", value):
        return error
    if not value.isidentifier() or not value.isascii():
        return (
            f"the import name {value!r} is not a valid Python identifier: use lowercase "
            "ASCII letters, digits and underscores (for example 'maestro_http_clients')."
        )
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return f"the import name {value!r} is a Python keyword; choose another name."
    if value in sys.stdlib_module_names:
        return (
            f"the import name {value!r} shadows the standard-library module of the same "
            "name; choose another name (for example with the 'maestro_' prefix)."
        )
    return ""


def version_error(value: Any) -> str:
    """Explain what is wrong with an initial version, or return ``""``."""
    if not _VERSION.match(str(value)):
        return (
            f"the version {value!r} is not a canonical PEP 440 version "
            "(for example '0.1.0', '1.0.0rc1')."
        )
    return ""


def email_error(value: Any) -> str:
    """Explain what is wrong with an e-mail address, or return ``""``."""
    if not _EMAIL.match(str(value)):
        return f"the e-mail address {value!r} is not valid (for example 'team@example.org')."
    return ""


def url_error(value: Any) -> str:
    """Explain why an answer is not an absolute http(s) URL, or return ``""``."""
    text = str(value)
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.netloc or re.search(r"[\s\"<>]", text):
        return (
            f"{text!r} is not an absolute http(s) URL (for example "
            "'https://git.maestro.example/platform/maestro-package-factory')."
        )
    return ""


def author_name_error(value: Any) -> str:
    """Explain why an author name cannot go into the core metadata, or return ``""``."""
    text = str(value)
    if not text.strip():
        return "the author name is empty; give the owning team or person."
    if re.search(r"[,<>@\n\r]", text):
        return (
            f"the author name {text!r} contains ',', '<', '>', '@' or a line break, which "
            "the core metadata would split into other authors or addresses."
        )
    return ""


def one_line_error(value: Any) -> str:
    """Explain why a one-line text is not acceptable, or return ``""``."""
    text = str(value)
    if not text.strip():
        return "the description is empty; say in one line what the package is for."
    if "\n" in text or "\r" in text:
        return "the description must be a single line."
    return ""


def requirement_list(value: Any) -> list[str]:
    """Split a comma-separated (or list) answer into requirement strings.

    A comma starts a new requirement only when a name follows it, so a version range
    such as ``maestro-test-adapters>=1,<2`` stays in one piece.
    """
    if isinstance(value, str):
        items: Iterable[Any] = _split_requirements(value)
    elif isinstance(value, Iterable):
        items = value
    else:
        items = [value]
    return [str(item).strip() for item in items if str(item).strip()]


def _split_requirements(text: str) -> list[str]:
    """Split at the commas that start a new requirement.

    A comma inside brackets (``httpx[http2,brotli]``), inside a quoted marker value or
    before a version clause (``>=1,<2``) belongs to the requirement it is in.
    """
    items: list[str] = []
    start = depth = 0
    quote = ""
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth = max(depth - 1, 0)
        elif char == "," and not depth and _REQUIREMENT_START.match(text[index + 1 :].lstrip()):
            items.append(text[start:index])
            start = index + 1
    items.append(text[start:])
    return items


def _requirement_error(requirement: str) -> str:
    if (
        "@" in requirement.split(";")[0]
        or "file:" in requirement
        or requirement.startswith((".", "/"))
    ):
        return (
            f"the requirement {requirement!r} points at a path or URL; declare a version "
            "range such as 'maestro-test-adapters>=1,<2' (workspace sources provide the "
            "local copy during development)."
        )
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:  # pragma: no cover - packaging ships with copier and uv-managed envs
        if not _REQUIREMENT_START.match(requirement):
            return f"the requirement {requirement!r} is not a valid PEP 508 requirement."
        return ""
    try:
        Requirement(requirement)
    except InvalidRequirement as error:
        # packaging's message ends with the requirement and a caret on lines of their own
        reason = str(error).splitlines()[0]
        return f"the requirement {requirement!r} is not a valid PEP 508 requirement: {reason}"
    return ""


def dependencies_error(value: Any) -> str:
    """Explain what is wrong with a dependency list, or return ``""``."""
    for requirement in requirement_list(value):
        if error := _requirement_error(requirement):
            return error
    return ""


def _mapping(value: Any, what: str) -> tuple[Mapping[str, Any] | None, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except json.JSONDecodeError as error:
            return None, f"the {what} answer is not valid JSON: {error}"
    if not isinstance(value, Mapping):
        return None, f"the {what} answer must be a mapping, got {type(value).__name__}."
    return value, ""


def extras_error(value: Any) -> str:
    """Explain what is wrong with the extras mapping, or return ``""``."""
    extras, error = _mapping(value, "extras")
    if extras is None:
        return error
    for name, requirements in extras.items():
        if not _NAME.match(name) or normalize(name) != name:
            return (
                f"the extra name {name!r} is not a normalised name "
                f"(PEP 685): use {normalize(name)!r} or letters, digits and hyphens."
            )
        if name == "all":
            return "the extra 'all' is derived by the template as the union of the others."
        if not requirement_list(requirements):
            return f"the extra {name!r} lists no requirements."
        if error := dependencies_error(requirements):
            return error
    return ""


def entry_points_error(value: Any) -> str:
    """Explain what is wrong with the entry-point mapping, or return ``""``."""
    groups, error = _mapping(value, "entry points")
    if groups is None:
        return error
    for group, entries in groups.items():
        if group == "console_scripts":
            return "declare the console script with the console_script question."
        if not _ENTRY_POINT_GROUP.match(group):
            return (
                f"the entry-point group {group!r} is not a group name: use letters, digits "
                "and underscores, in parts separated by dots (for example 'pytest11')."
            )
        if not isinstance(entries, Mapping) or not entries:
            return f"the entry-point group {group!r} must map names to 'module:object'."
        for name, target in entries.items():
            if not name or "=" in name or name != name.strip() or name.startswith("["):
                return (
                    f"the entry point name {name!r} in group {group!r} is not valid: it must "
                    "be non-empty, without '=', a leading '[' or surrounding spaces."
                )
            if not _ENTRY_POINT_OBJECT.match(str(target)):
                return (
                    f"the entry point {group}:{name} = {target!r} is not of the form "
                    "'module' or 'module:object'."
                )
    return ""


def console_script_error(value: Any) -> str:
    """Explain what is wrong with a console script name, or return ``""``."""
    value = str(value)
    if not value:
        return ""
    if error := _path_separator_error("the console script name", value):
        return error
    if not _NAME.match(value):
        return (
            f"the console script name {value!r} is not a valid command name: use letters, "
            "digits and hyphens (or leave it empty for no command)."
        )
    return ""


def target_folder_error(path: Any, answers_file: Any = ".copier-answers.yml") -> str:
    """Refuse to render a new package over an existing, non-empty folder.

    A folder that holds the answers file is a package made from this template, which
    ``copier update`` and ``copier recopy`` render again on purpose.
    """
    target = os.fspath(path)
    if os.path.isfile(os.path.join(target, os.fspath(answers_file))):
        return ""
    if os.path.isdir(target) and any(os.scandir(target)):
        return (
            f"the target folder {target!r} already exists and is not empty; choose a new "
            "folder (to refresh an existing package use 'copier update')."
        )
    return ""


_CHECKS = {
    "distribution_name": distribution_name_error,
    "import_name": import_name_error,
    "description": one_line_error,
    "author_name": author_name_error,
    "author_email": email_error,
    "initial_version": version_error,
    "dependencies": dependencies_error,
    "extras": extras_error,
    "console_script": console_script_error,
    "entry_points": entry_points_error,
    "index_url": url_error,
    "docs_url": url_error,
    "repository_url": url_error,
}


def validated_distribution_name(answers: Mapping[str, Any]) -> str:
    """Check every answer and return the distribution name (cookiecutter's folder name)."""
    for key, check in _CHECKS.items():
        if key in answers and (error := check(answers[key])):
            raise AnswerError(f"Bad answer for {key}: {error}")
    return str(answers["distribution_name"])


def toml_string(value: Any) -> str:
    """Quote a value as a TOML basic string (JSON strings are valid TOML strings)."""
    return json.dumps(str(value), ensure_ascii=False)


def toml_string_list(values: Iterable[Any], indent: str = "    ") -> str:
    """Render strings as a multi-line TOML array, or ``[]`` when there are none."""
    items = [toml_string(value) for value in values]
    if not items:
        return "[]"
    body = "".join(f"{indent}{item},\n" for item in items)
    return f"[\n{body}]"


def extras_union(extras: Any) -> list[str]:
    """The requirements of every extra, without repeats, in first-seen order."""
    union: dict[str, None] = {}
    for requirements in as_mapping(extras).values():
        union.update(dict.fromkeys(requirement_list(requirements)))
    return list(union)


def as_mapping(value: Any) -> Mapping[str, Any]:
    """Turn a JSON answer (parsed or still text) into a mapping sorted by key.

    Sorting makes both engines agree: copier stores JSON answers with sorted keys,
    cookiecutter keeps the order they were typed in.
    """
    mapping, error = _mapping(value, "mapping")
    if mapping is None:
        raise AnswerError(error)
    return dict(sorted(mapping.items()))


def _python_literal(text: str) -> str:
    """One Python string literal, quoted as ``ruff format`` quotes it (fewest escapes)."""
    text = text.replace("\\", "\\\\")
    quote = "'" if text.count('"') > text.count("'") else '"'
    return quote + text.replace(quote, "\\" + quote) + quote


def python_string(value: Any, indent: int = 0, taken: int = 0, width: int = 100) -> str:
    """Quote a one-line text as a Python expression for a line of at most ``width`` columns.

    ``taken`` is what the rest of the line already uses (indentation, ``name=``, ``,``).
    A text too long for that becomes implicitly concatenated literals in parentheses, one
    per line at ``indent + 4`` columns: the layout ``ruff format`` keeps.
    """
    text = str(value)
    literal = _python_literal(text)
    if taken + len(literal) <= width:
        return literal
    room = width - indent - 4
    lines: list[str] = []
    for word in re.findall(r"\S+\s*|\s+", text):
        if lines and len(_python_literal(lines[-1] + word)) <= room:
            lines[-1] += word
        else:
            lines.append(word)
    inner = " " * (indent + 4)
    body = "".join(f"{inner}{_python_literal(line)}\n" for line in lines)
    return f"(\n{body}{' ' * indent})"


def python_docstring(value: Any, width: int = 100) -> str:
    """A module docstring holding a one-line text, escaped and wrapped at ``width``."""
    text = str(value).replace("\\", "\\\\").replace('"""', '""\\"')
    if len(text) + 6 <= width:
        # a closing quote right before the docstring's end is kept apart, as ruff does
        spaced = text.endswith('"') and not text.endswith('""\\"')
        return f'"""{text} """' if spaced else f'"""{text}"""'
    lines = textwrap.wrap(text, width=width - 3, break_long_words=False, break_on_hyphens=False)
    return '"""' + "\n".join(lines) + '\n"""'


def utc_today() -> str:
    """Today's date in UTC, ISO format (the first CHANGELOG entry's date)."""
    return datetime.now(UTC).date().isoformat()


class MaestroExtension(Extension):
    """Registers the validation and TOML filters with either engine's environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["utc_today"] = utc_today
        environment.filters.update(
            {
                "distribution_name_error": distribution_name_error,
                "import_name_error": import_name_error,
                "version_error": version_error,
                "email_error": email_error,
                "url_error": url_error,
                "author_name_error": author_name_error,
                "one_line_error": one_line_error,
                "dependencies_error": dependencies_error,
                "extras_error": extras_error,
                "entry_points_error": entry_points_error,
                "console_script_error": console_script_error,
                "target_folder_error": target_folder_error,
                "validated_distribution_name": validated_distribution_name,
                "toml_string": toml_string,
                "python_string": python_string,
                "python_docstring": python_docstring,
                "toml_string_list": toml_string_list,
                "requirement_list": requirement_list,
                "extras_union": extras_union,
                "as_mapping": as_mapping,
            }
        )

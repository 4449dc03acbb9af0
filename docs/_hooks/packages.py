"""MkDocs hook: give every package under ``packages/`` its own section of the site.

Registered in ``mkdocs.yml`` under ``hooks:``. Nothing is registered per package:
at every build the hook discovers ``packages/*/pyproject.toml`` and adds, for each
package, these pages under ``packages/<distribution>/`` on the site (the
"Documentation" and "Changelog" URLs the template writes into the package metadata):

==========================  ============================================================
package file                site page
==========================  ============================================================
``README.md``               ``packages/<distribution>/`` -- the overview
``docs/**``                 ``packages/<distribution>/docs/**`` -- how-tos, images, files
(generated)                 ``packages/<distribution>/api/`` -- the API reference
``CHANGELOG.md``            ``packages/<distribution>/changelog/``
==========================  ============================================================

The package's import name comes from its ``.copier-answers.yml`` (``import_name``),
else from ``[tool.poetry] packages``, else from its distribution name.

Links are written in the repositories' terms and fixed up on every page: a relative
link to a file the site carries (a package README, how-to, changelog, or a page of
``docs/``) points at its page; a link to any other file of the repository (source,
licence, benchmark script) points at that file in the source repository
(``extra.source_url``). A package's Markdown is CommonMark, as the git server and PyPI
read it: the blocks of its list items are re-indented for Python-Markdown (see
:func:`commonmark_list_indents`).

An exported object named like a submodule of its package (``from .retry import
retry``) is documented by its own path: griffe would find the submodule under that name.

Placeholders keep ``mkdocs.yml`` and ``docs/`` free of per-package edits:

* in ``nav``, an entry ``packages/*`` becomes one section per package, and any other
  glob (``guides/*.md``) becomes the matching pages not listed elsewhere, by path;
* in a page, ``<!-- maestro:package-table -->`` becomes a table of the packages and
  ``<!-- maestro:benchmark-tables -->`` the benchmark section of every README.

Docstrings are Markdown with two more idioms (see :func:`render_docstring_markup`):
``>>>`` examples outside an ``Examples:`` section and Sphinx roles.
"""

from __future__ import annotations

import ast
import fnmatch
import logging
import posixpath
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.packages")

PACKAGES_DIR = "packages"
PACKAGES_NAV_PLACEHOLDER = "packages/*"
PACKAGE_TABLE_MARKER = "<!-- maestro:package-table -->"
BENCHMARK_TABLES_MARKER = "<!-- maestro:benchmark-tables -->"
BENCHMARK_HEADING = re.compile(r"benchmark", re.IGNORECASE)


# --------------------------------------------------------------------------- #
# Reading Markdown: fenced blocks, headings and links, never inside code.
# --------------------------------------------------------------------------- #

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass(frozen=True)
class FencedBlock:
    """One fenced code block of a Markdown text.

    Attributes:
        language: The first word of the info string, lower-cased (``""`` if none).
        fence_line: 1-based line number of the opening fence.
        body: The body, with the fence's indentation removed.
    """

    language: str
    fence_line: int
    body: str

    @property
    def body_start_line(self) -> int:
        """1-based line number of the first line of the body."""
        return self.fence_line + 1


def _fence_language(info: str) -> str:
    words = info.strip().split()
    return words[0].strip("{}").lstrip(".").lower() if words else ""


def _scan_fences(lines: list[str]) -> Iterator[tuple[int, int, bool, str, str]]:
    """Yield ``(first, last, closed, language, indent)`` for each fenced block.

    ``first`` and ``last`` are 0-based line indexes of the opening fence and of the
    closing fence, or of the last line when the block is never closed (CommonMark
    then runs it to the end of the text).
    """
    index = 0
    while index < len(lines):
        opening = _FENCE_OPEN.match(lines[index].rstrip("\r\n"))
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            index += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end].rstrip("\r\n")):
            end += 1
        closed = end < len(lines)
        language = _fence_language(opening["info"])
        yield index, end if closed else len(lines) - 1, closed, language, opening["indent"]
        index = end + 1


def iter_fenced_blocks(text: str) -> Iterator[FencedBlock]:
    """Yield the fenced code blocks of ``text`` in order.

    Backtick and tilde fences count; a fence may be indented (inside an admonition,
    a tab or a list) and its body is dedented by the fence's indentation.
    """
    lines = text.splitlines()
    for first, last, closed, language, indent in _scan_fences(lines):
        body = lines[first + 1 : last if closed else last + 1]
        dedented = [
            line.removeprefix(indent) if line.startswith(indent) else line.lstrip() for line in body
        ]
        yield FencedBlock(language, first + 1, "".join(f"{line}\n" for line in dedented))


def split_code(text: str) -> list[tuple[bool, str]]:
    """Split ``text`` into ``(is_fenced_code, chunk)`` pieces that join back to ``text``."""
    lines = text.splitlines(keepends=True)
    pieces: list[tuple[bool, str]] = []
    cursor = 0
    for first, last, _closed, _language, _indent in _scan_fences(lines):
        if first > cursor:
            pieces.append((False, "".join(lines[cursor:first])))
        pieces.append((True, "".join(lines[first : last + 1])))
        cursor = last + 1
    if cursor < len(lines):
        pieces.append((False, "".join(lines[cursor:])))
    return pieces


def _map_prose(text: str, transform: Callable[[str], str]) -> str:
    """Apply ``transform`` to the parts of ``text`` outside fenced and inline code."""
    result: list[str] = []
    for is_code, chunk in split_code(text):
        if is_code:
            result.append(chunk)
            continue
        cursor = 0
        for code in _INLINE_CODE.finditer(chunk):
            result.append(transform(chunk[cursor : code.start()]))
            result.append(code.group(0))
            cursor = code.end()
        result.append(transform(chunk[cursor:]))
    return "".join(result)


_INLINE_CODE = re.compile(r"(`+)[\s\S]*?(?<!`)\1(?!`)")
_LINK_PATTERNS = (
    # [text](target "title") and ![alt](target)
    re.compile(r"(?P<head>!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*)(?P<target><[^>\n]*>|[^)\s]+)"),
    # [label]: target
    re.compile(r"(?m)^(?P<head> {0,3}\[[^\]]+\]:[ \t]*)(?P<target><[^>\n]*>|\S+)"),
    # <img src="target">, <a href="target">
    re.compile(r"(?P<head>\b(?:src|href)=[\"'])(?P<target>[^\"']+)"),
)


def rewrite_links(text: str, rewrite: Callable[[str], str]) -> str:
    """Replace every link target ``t`` of ``text`` outside code by ``rewrite(t)``."""

    def replace(match: re.Match[str]) -> str:
        target = match["target"]
        if target.startswith("<") and target.endswith(">"):
            return f"{match['head']}<{rewrite(target[1:-1])}>"
        return match["head"] + rewrite(target)

    def in_prose(prose: str) -> str:
        for pattern in _LINK_PATTERNS:
            prose = pattern.sub(replace, prose)
        return prose

    return _map_prose(text, in_prose)


_ATX_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<title>.*?)[ \t#]*$")


def headings(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield ``(line_index, level, title)`` of the ATX headings outside fenced code."""
    index = 0
    for is_code, chunk in split_code(text):
        for line in chunk.splitlines():
            match = None if is_code else _ATX_HEADING.match(line)
            if match:
                yield index, len(match["hashes"]), match["title"]
            index += 1


def extract_section(text: str, heading: re.Pattern[str]) -> tuple[int, str] | None:
    """Return ``(level, body)`` of the first section whose heading matches ``heading``.

    The body runs up to the next heading of the same or a higher level.
    """
    lines = text.splitlines(keepends=True)
    start: tuple[int, int] | None = None
    for index, level, title in headings(text):
        if start is None and heading.search(title):
            start = (index, level)
        elif start is not None and level <= start[1]:
            return start[1], "".join(lines[start[0] + 1 : index]).strip("\n") + "\n"
    if start is None:
        return None
    return start[1], "".join(lines[start[0] + 1 :]).strip("\n") + "\n"


def shift_headings(text: str, by: int) -> str:
    """Change the level of every ATX heading outside code by ``by`` (kept within 1..6)."""
    lines = text.splitlines(keepends=True)
    for index, level, title in headings(text):
        ending = "\n" if lines[index].endswith("\n") else ""
        lines[index] = "#" * min(6, max(1, level + by)) + f" {title}{ending}"
    return "".join(lines)


_LIST_ITEM = re.compile(r"^(?P<indent> *)(?P<marker>[-*+]|\d{1,9}[.)])(?: {1,4}(?=\S)|$)")
_BLOCK_START = re.compile(r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|>|`{3,}|~{3,}|[-*+] |\d{1,9}[.)] |\|)")
# Python-Markdown's list items hold blocks indented by four spaces more than the marker
_PYTHON_MARKDOWN_ITEM_INDENT = 4


def commonmark_list_indents(text: str) -> str:
    """Re-indent the blocks inside list items from CommonMark's rule to Python-Markdown's.

    CommonMark (the git server, PyPI) puts a block in a list item when it is indented to
    the item's text: two spaces under ``- item``, three under ``1. item``. Python-Markdown
    (this site) wants four, so a table, paragraph or code block indented by two spaces
    after a blank line ended the list, and the next ``- item`` showed as a literal dash.
    Each line inside an item is moved to where Python-Markdown expects the same
    structure, and a blank line is put between such a block and a list item that follows
    it directly (Python-Markdown reads the item as text otherwise). Text outside lists,
    lazy continuation lines and the inside of code blocks keep their layout.
    """
    items: list[tuple[int, int]] = []  # (CommonMark text column, Python-Markdown column)
    result: list[str] = []
    fence: tuple[re.Pattern[str], int] | None = None  # closing fence, shift of its lines
    paragraph = False  # the previous line continues a paragraph (lazy lines may follow)
    after_blank = True  # the line starts a block
    in_item_block = False  # the current block is a later block of a list item
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n")
        if fence is not None:
            closing, shift = fence
            result.append(" " * shift + line if content.strip() else line)
            if closing.match(content):
                fence = None
            continue
        if not content.strip():
            result.append(line)
            paragraph, after_blank = False, True
            continue
        text_start = len(content) - len(content.lstrip(" \t"))
        indent = len(content[:text_start].expandtabs(4))  # CommonMark's tab stops
        content = " " * indent + content[text_start:]
        if items and indent < items[-1][0] and paragraph and not _BLOCK_START.match(content):
            result.append(line)  # a lazy continuation of the paragraph above
            continue
        while items and indent < items[-1][0]:
            items.pop()
        source_column, target_column = items[-1] if items else (0, 0)
        new_indent = target_column + indent - source_column
        item = _LIST_ITEM.match(content)
        if item is not None:
            if in_item_block and not after_blank:
                result.append("\n")
            has_text = content[item.end() :].strip() != ""
            text_column = item.end() if has_text else indent + len(item["marker"]) + 1
            items.append((text_column, new_indent + _PYTHON_MARKDOWN_ITEM_INDENT))
            in_item_block = False
        elif after_blank:
            in_item_block = bool(items)
        opening = _FENCE_OPEN.match(content)
        if opening is not None and not (opening["fence"][0] == "`" and "`" in opening["info"]):
            marker = opening["fence"]
            closing = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
            fence = (closing, new_indent - indent)
        result.append(" " * new_indent + line[text_start:])
        starts_block = item is None and _BLOCK_START.match(content) is not None
        paragraph = opening is None and not starts_block
        after_blank = False
    return "".join(result)


# --------------------------------------------------------------------------- #
# Docstring markup: doctest examples and Sphinx roles, shown as intended.
# --------------------------------------------------------------------------- #

_SPHINX_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|attr|exc|mod|data|obj|const|type):"
    r"`(?P<tilde>~?)(?:[^`<]*<)?(?P<target>[^`>]+)>?`"
)
_DOCTEST_PROMPT = re.compile(r"^(?P<indent>[ \t]*)>>>(?: |$)")


# A role, or an inline code span (which may show a role as text and is kept as it is).
_ROLE_OR_CODE = re.compile(
    rf"{_SPHINX_ROLE.pattern}|(?P<code>(?P<ticks>`+)[\s\S]*?(?<!`)(?P=ticks)(?!`))"
)


def _role_to_code(match: re.Match[str]) -> str:
    if match["code"]:
        return match["code"]
    target = match["target"].strip()
    return f"`{target.rsplit('.', 1)[-1] if match['tilde'] else target}`"


def render_docstring_markup(text: str) -> str:
    """Make two docstring idioms that are not Markdown display as intended.

    * Lines from a ``>>>`` prompt to the next blank line (a doctest outside an
      ``Examples:`` section) become a ``pycon`` code block, instead of prose whose
      ``[...]`` would be read as links.
    * A Sphinx role such as ``:class:`~pkg.Name``` becomes the inline code ``Name``.

    Fenced code is left alone.
    """
    pieces: list[str] = []
    for is_code, chunk in split_code(text):
        if is_code:
            pieces.append(chunk)
            continue
        lines = chunk.splitlines(keepends=True)
        index = 0
        while index < len(lines):
            prompt = _DOCTEST_PROMPT.match(lines[index])
            if prompt is None:
                pieces.append(_ROLE_OR_CODE.sub(_role_to_code, lines[index]))
                index += 1
                continue
            if index > 0 and lines[index - 1].strip():
                pieces.append("\n")  # a fence cannot continue the paragraph above it
            end = index
            while end < len(lines) and lines[end].strip():
                end += 1
            example = "".join(
                line if line.endswith("\n") else f"{line}\n" for line in lines[index:end]
            )
            pieces.append(f"{prompt['indent']}```pycon\n{example}{prompt['indent']}```\n")
            index = end
    return "".join(pieces)


class _DocstringMarkupPreprocessor(Preprocessor):  # type: ignore[misc]
    def run(self, lines: list[str]) -> list[str]:
        return render_docstring_markup("\n".join(lines)).split("\n")


class DocstringMarkupExtension(Extension):  # type: ignore[misc]
    """Run :func:`render_docstring_markup` before the fenced-code preprocessors."""

    def extendMarkdown(self, md: Markdown) -> None:
        # fenced code is collected at priorities 25 (fenced_code) and 30 (superfences)
        md.preprocessors.register(_DocstringMarkupPreprocessor(md), "maestro_docstrings", 40)


# --------------------------------------------------------------------------- #
# Package discovery.
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class ApiModule:
    """A module with an API reference page.

    Attributes:
        name: The dotted module name.
        members: The names to document, or ``None`` for every public member.
        shadowed: Dotted paths of exported objects named like a submodule of ``name``
            (``from .retry import retry``): griffe finds the submodule under that name
            where Python finds the object, so each is documented by its own path.
    """

    name: str
    members: tuple[str, ...] | None
    shadowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Package:
    """What the site needs to know about one package folder.

    Attributes:
        folder: The folder name under ``packages/``.
        root: Absolute path of the package folder.
        distribution: The distribution name (``[project].name``).
        description: The one-line description (``[project].description``).
        import_name: The top-level import package, or ``None`` if none was found.
        api_modules: The modules with an API reference page, top-level package first.
    """

    folder: str
    root: Path
    distribution: str
    description: str
    import_name: str | None
    api_modules: tuple[ApiModule, ...]

    @property
    def repo_dir(self) -> str:
        """The package folder, relative to the repository root."""
        return f"{PACKAGES_DIR}/{self.folder}"

    @property
    def site_dir(self) -> str:
        """The package's folder on the site, named after the distribution.

        ``https://<docs>/packages/<distribution>/`` is the "Documentation" URL the
        template writes into every package's metadata.
        """
        return f"{PACKAGES_DIR}/{re.sub(r'[-_.]+', '-', self.distribution).lower()}"

    @property
    def overview_page(self) -> str:
        """The site page of the README."""
        return f"{self.site_dir}/README.md"

    @property
    def changelog_page(self) -> str:
        """The site page of the changelog (served as ``.../changelog/``)."""
        return f"{self.site_dir}/changelog/index.md"

    def api_page(self, module: ApiModule) -> str:
        """The generated API reference page of ``module`` (the package's is ``.../api/``)."""
        if module.members is None:
            return f"{self.site_dir}/api/index.md"
        return f"{self.site_dir}/api/{module.name}.md"


def _import_name_candidates(root: Path, pyproject: dict[str, Any]) -> Iterator[str]:
    answers_file = root / ".copier-answers.yml"
    if answers_file.is_file():
        try:
            answers = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise PluginError(f"{answers_file}: not valid YAML ({error})") from None
        if isinstance(answers, dict) and isinstance(answers.get("import_name"), str):
            yield answers["import_name"]
    poetry_packages = pyproject.get("tool", {}).get("poetry", {}).get("packages", [])
    for entry in poetry_packages if isinstance(poetry_packages, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("include"), str):
            yield entry["include"]
    name = pyproject.get("project", {}).get("name", root.name)
    yield re.sub(r"[-_.]+", "_", str(name)).lower()


def _declared_all(tree: ast.Module) -> list[str] | None:
    """Return the literal ``__all__`` of a module, or ``None`` if it declares none."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == "__all__" for target in targets):
            if isinstance(node.value, ast.List | ast.Tuple):
                return [
                    item.value
                    for item in node.value.elts
                    if isinstance(item, ast.Constant) and isinstance(item.value, str)
                ]
    return None


def _bound_names(tree: ast.Module, *, with_imports: bool) -> list[str]:
    """Return the public names bound at the top level of a module, in order."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names.extend(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif with_imports and isinstance(node, ast.ImportFrom):
            names.extend(alias.asname or alias.name for alias in node.names)
    return [name for name in dict.fromkeys(names) if not name.startswith("_")]


def _parse(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as error:
        raise PluginError(
            f"{path}:{error.lineno}: cannot document a module that does not parse: {error.msg}"
        ) from None


def _public_names(path: Path, *, with_imports: bool) -> list[str]:
    tree = _parse(path)
    declared = _declared_all(tree)
    return declared if declared is not None else _bound_names(tree, with_imports=with_imports)


def _module_file(package_dir: Path, import_name: str, module: str) -> Path | None:
    """The file of the dotted ``module`` if it belongs to the package in ``package_dir``."""
    parts = module.split(".")
    if parts[0] != import_name:
        return None
    base = package_dir.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _import_source(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The dotted module an ``ImportFrom`` in ``module`` imports from."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts[: len(parts) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _definition_path(package_dir: Path, import_name: str, module: str, name: str) -> str:
    """Follow ``from ... import`` re-exports of ``module.name`` to the defining module."""
    for _ in range(20):  # a re-export chain; an import cycle stops here
        path = _module_file(package_dir, import_name, module)
        if path is None:
            break
        binding = next(
            (
                (node, alias)
                for node in _parse(path).body
                if isinstance(node, ast.ImportFrom)
                for alias in node.names
                if (alias.asname or alias.name) == name
            ),
            None,
        )
        if binding is None:
            break
        node, alias = binding
        source = _import_source(node, module, path.name == "__init__.py")
        if (source, alias.name) == (module, name):
            break  # ``from . import name`` in a package: its submodule
        module, name = source, alias.name
    return f"{module}.{name}"


def _shadowed_exports(
    package_dir: Path, import_name: str, module: str, names: list[str]
) -> dict[str, str]:
    """Map the names of ``module`` that shadow a submodule to the objects' own paths.

    ``from .retry import retry`` binds the function where Python looks for
    ``module.retry``; griffe, which reads files, finds the submodule there instead and
    the function would appear nowhere. Each such object is documented by the path of
    the module that defines it.
    """
    shadowed: dict[str, str] = {}
    for name in names:
        if _module_file(package_dir, import_name, f"{module}.{name}") is None:
            continue
        path = _definition_path(package_dir, import_name, module, name)
        if path != f"{module}.{name}" and _module_file(package_dir, import_name, path) is None:
            shadowed[name] = path
    return shadowed


def _api_modules(package_dir: Path, import_name: str) -> tuple[ApiModule, ...]:
    """Decide which modules of ``import_name`` get an API reference page.

    The top-level package always does, with its public names (``__all__``). A public
    submodule (no part of its dotted name starts with ``_``) gets a page only for the
    public names the package does not export itself: every object is documented
    once, under the name users import it by.
    """
    names = _public_names(package_dir / "__init__.py", with_imports=True)
    exported = set(names)
    shadowed = _shadowed_exports(package_dir, import_name, import_name, names)
    modules = [ApiModule(import_name, None, tuple(shadowed.values()))]
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        if not parts or any(part.startswith("_") for part in parts):
            continue
        folders = (package_dir.joinpath(*parts[:depth]) for depth in range(1, len(parts)))
        if not all((folder / "__init__.py").is_file() for folder in folders):
            continue  # a folder without __init__.py is not a subpackage
        names = _public_names(path, with_imports=False)
        if own := [name for name in names if name not in exported]:
            module = ".".join((import_name, *parts))
            shadowed = _shadowed_exports(package_dir, import_name, module, own)
            members = tuple(name for name in own if name not in shadowed)
            modules.append(ApiModule(module, members, tuple(shadowed.values())))
    return tuple(modules)


def discover_packages(repo_root: Path) -> list[Package]:
    """Describe every ``packages/<folder>/`` of ``repo_root`` that has a ``pyproject.toml``."""
    packages: list[Package] = []
    for pyproject_file in sorted((repo_root / PACKAGES_DIR).glob("*/pyproject.toml")):
        root = pyproject_file.parent
        try:
            pyproject = tomllib.loads(pyproject_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise PluginError(f"{pyproject_file}: not valid TOML ({error})") from None
        import_name = next(
            (
                name
                for name in _import_name_candidates(root, pyproject)
                if (root / "src" / name / "__init__.py").is_file()
            ),
            None,
        )
        if import_name is None:
            log.warning(
                "%s has no package under src/ named by .copier-answers.yml (import_name), "
                "[tool.poetry] packages or its distribution name: it gets no API reference.",
                root.relative_to(repo_root),
            )
        project = pyproject.get("project", {})
        packages.append(
            Package(
                folder=root.name,
                root=root,
                distribution=str(project.get("name", root.name)),
                description=str(project.get("description", "")),
                import_name=import_name,
                api_modules=_api_modules(root / "src" / import_name, import_name)
                if import_name
                else (),
            )
        )
    return packages


# --------------------------------------------------------------------------- #
# The site: files, nav, pages.
# --------------------------------------------------------------------------- #


@dataclass
class _Site:
    """What one build knows about the packages (rebuilt by ``on_files`` every build)."""

    repo_root: Path
    docs_prefix: str  # the docs folder relative to the repository root, with a slash
    packages: list[Package] = field(default_factory=list)
    page_of_repo_file: dict[str, str] = field(default_factory=dict)
    repo_file_of_page: dict[str, str] = field(default_factory=dict)
    generated_pages: set[str] = field(default_factory=set)

    def mirror(self, repo_path: str, site_path: str) -> None:
        self.page_of_repo_file[repo_path] = site_path
        self.repo_file_of_page[site_path] = repo_path

    def repo_path_of(self, site_path: str) -> str | None:
        """The repository file a page comes from (``None`` for a generated page)."""
        if site_path in self.generated_pages:
            return None
        return self.repo_file_of_page.get(site_path, self.docs_prefix + site_path)

    def site_path_of(self, repo_path: str, files: Files) -> str | None:
        """The page or file of the site that shows a repository file, if any."""
        for candidate in (repo_path, f"{repo_path}/README.md"):
            if candidate in self.page_of_repo_file:
                return self.page_of_repo_file[candidate]
        if repo_path.startswith(self.docs_prefix):
            in_docs = repo_path.removeprefix(self.docs_prefix)
            for candidate in (in_docs, f"{in_docs}/index.md"):
                if files.get_file_from_path(candidate) is not None:
                    return candidate
        return None


_site: _Site | None = None  # set by on_files; MkDocs runs one build at a time


def _current_site() -> _Site:
    if _site is None:
        raise RuntimeError("the packages hook's on_files did not run")
    return _site


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Show docstring doctests and Sphinx roles as code (pages and docstrings alike)."""
    extensions: list[Any] = config.markdown_extensions
    if not any(isinstance(extension, DocstringMarkupExtension) for extension in extensions):
        extensions.append(DocstringMarkupExtension())
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the pages of every package and expand the nav placeholders."""
    global _site
    repo_root = Path(config.config_file_path).resolve().parent
    docs_dir = Path(config.docs_dir).resolve()
    site = _Site(repo_root, f"{docs_dir.relative_to(repo_root).as_posix()}/")
    site.packages = discover_packages(repo_root)
    for package in site.packages:
        _add_package_files(files, config, site, package)
    _site = site
    if config.nav is not None:
        config.nav = _expand_nav(config.nav, files, site.packages)
    return files


def _add_package_files(files: Files, config: MkDocsConfig, site: _Site, package: Package) -> None:
    def mirror(relative: str, site_path: str) -> None:
        files.append(File.generated(config, site_path, abs_src_path=str(package.root / relative)))
        site.mirror(f"{package.repo_dir}/{relative}", site_path)

    def generate(site_path: str, content: str) -> None:
        files.append(File.generated(config, site_path, content=content))
        site.generated_pages.add(site_path)

    if (package.root / "README.md").is_file():
        mirror("README.md", package.overview_page)
    else:
        generate(package.overview_page, f"# {package.distribution}\n\n{package.description}\n")
    for path in sorted((package.root / "docs").rglob("*")):
        relative = path.relative_to(package.root)
        if path.is_file() and not any(part.startswith((".", "__")) for part in relative.parts):
            mirror(relative.as_posix(), f"{package.site_dir}/{relative.as_posix()}")
    if (package.root / "CHANGELOG.md").is_file():
        mirror("CHANGELOG.md", package.changelog_page)
    for module in package.api_modules:
        generate(package.api_page(module), _api_page_markdown(package, module))


def _api_page_markdown(package: Package, module: ApiModule) -> str:
    # an object named like a submodule, rendered as one more member of the module
    shadowed = "".join(
        f"\n::: {path}\n    options:\n      heading_level: 3\n      show_root_full_path: false\n"
        for path in module.shadowed
    )
    if module.members is None:
        return (
            f"# {package.distribution} API reference\n\n"
            f"Everything `{module.name}` exports, generated from its docstrings.\n\n"
            f"::: {module.name}\n{shadowed}"
        )
    return (
        f"# {module.name}\n\n"
        f"The public names of `{module.name}` that `{package.import_name}` does not export "
        f"itself; everything else is in the [package API reference](index.md).\n\n"
        f"::: {module.name}\n"
        f"    options:\n"
        f"      members: [{', '.join(module.members)}]\n{shadowed}"
    )


def _package_nav(package: Package, files: Files) -> dict[str, list[Any]]:
    how_tos = sorted(
        file.src_uri
        for file in files.documentation_pages()
        if file.src_uri.startswith(f"{package.site_dir}/docs/")
    )
    entries: list[Any] = [{"Overview": package.overview_page}, *how_tos]
    if len(package.api_modules) == 1:
        entries.append({"API reference": package.api_page(package.api_modules[0])})
    elif package.api_modules:
        pages = [{module.name: package.api_page(module)} for module in package.api_modules]
        entries.append({"API reference": pages})
    if files.get_file_from_path(package.changelog_page) is not None:
        entries.append({"Changelog": package.changelog_page})
    return {package.distribution: entries}


def _nav_paths(nav: Any) -> Iterator[str]:
    if isinstance(nav, str):
        yield nav
    elif isinstance(nav, list):
        for item in nav:
            yield from _nav_paths(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from _nav_paths(value)


def _is_glob(path: str) -> bool:
    return any(character in path for character in "*?[")


def _expand_nav(nav: Any, files: Files, packages: list[Package]) -> Any:
    listed = {path for path in _nav_paths(nav) if not _is_glob(path)}

    def expand_item(item: Any) -> list[Any]:
        if item == PACKAGES_NAV_PLACEHOLDER:
            return [_package_nav(package, files) for package in packages]
        if isinstance(item, str) and _is_glob(item):
            return sorted(
                file.src_uri
                for file in files.documentation_pages()
                if fnmatch.fnmatchcase(file.src_uri, item)
                and file.src_uri not in listed
                and not file.src_uri.startswith(f"{PACKAGES_DIR}/")
            )
        if isinstance(item, dict):
            return [{title: expand_value(value) for title, value in item.items()}]
        return [item]

    def expand_value(value: Any) -> Any:
        if isinstance(value, list):
            return [expanded for item in value for expanded in expand_item(item)]
        if isinstance(value, str) and _is_glob(value):
            return expand_item(value)
        return value

    return expand_value(nav)


def _link_rewriter(
    site: _Site, files: Files, config: MkDocsConfig, source_dir: str, page_uri: str
) -> Callable[[str], str]:
    """Build ``rewrite(target)`` for Markdown written in ``source_dir`` (of the repository)
    and shown on the page ``page_uri``."""
    page_dir = posixpath.dirname(page_uri) or "."
    source_url = str(config.extra.get("source_url", "")).rstrip("/")

    def rewrite(target: str) -> str:
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not parts.path or target.startswith("/"):
            return target
        suffix = target[len(parts.path) :]
        repo_path = posixpath.normpath(posixpath.join(source_dir, parts.path))
        if repo_path.startswith("../"):
            return target  # outside the repository: leave it to MkDocs' own checks
        site_path = site.site_path_of(repo_path, files)
        if site_path is not None:
            return posixpath.relpath(site_path, page_dir) + suffix
        if source_url and (site.repo_root / repo_path).exists():
            return f"{source_url}/{repo_path}{suffix}"
        return target

    return rewrite


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fix the links of every page, fill the markers, point "edit" at the real file."""
    site = _current_site()
    repo_path = site.repo_path_of(page.file.src_uri)
    if repo_path is not None:
        source_dir = posixpath.dirname(repo_path)
        markdown = rewrite_links(
            markdown, _link_rewriter(site, files, config, source_dir, page.file.src_uri)
        )
    if page.file.src_uri.startswith(f"{PACKAGES_DIR}/"):
        page.edit_url = _edit_url(config, repo_path)
        if repo_path is not None:  # written for the git server and PyPI: CommonMark lists
            markdown = commonmark_list_indents(markdown)
    if PACKAGE_TABLE_MARKER in markdown:
        markdown = markdown.replace(PACKAGE_TABLE_MARKER, _package_table(page, site))
    if BENCHMARK_TABLES_MARKER in markdown:
        tables = _benchmark_tables(page, site, files, config)
        markdown = markdown.replace(BENCHMARK_TABLES_MARKER, tables)
    return markdown


def _edit_url(config: MkDocsConfig, repo_path: str | None) -> str | None:
    """The "edit this page" URL of a package file (MkDocs' own assumes docs/)."""
    if repo_path is None or not config.repo_url or not config.edit_uri:
        return None
    branch_uri = config.edit_uri.rstrip("/").removesuffix(Path(config.docs_dir).name)
    return f"{config.repo_url.rstrip('/')}/{branch_uri.strip('/')}/{repo_path}"


def _relative(page: Page, site_path: str) -> str:
    return posixpath.relpath(site_path, posixpath.dirname(page.file.src_uri) or ".")


def _package_table(page: Page, site: _Site) -> str:
    rows = ["| Package | What it is | API reference |", "| --- | --- | --- |"]
    for package in site.packages:
        overview = _relative(page, package.overview_page)
        api = "--"
        if package.api_modules:
            api_page = _relative(page, package.api_page(package.api_modules[0]))
            api = f"[`{package.import_name}`]({api_page})"
        description = package.description.replace("|", "\\|") or "--"
        rows.append(f"| [{package.distribution}]({overview}) | {description} | {api} |")
    return "\n".join(rows) + "\n"


def _benchmark_tables(page: Page, site: _Site, files: Files, config: MkDocsConfig) -> str:
    sections: list[str] = []
    for package in site.packages:
        overview = _relative(page, package.overview_page)
        readme = package.root / "README.md"
        text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
        section = extract_section(text, BENCHMARK_HEADING)
        if section is None:
            body = f"*No benchmark section in the [README]({overview}) yet.*\n"
        else:
            level, body = section
            rewrite = _link_rewriter(site, files, config, package.repo_dir, page.file.src_uri)
            body = rewrite_links(shift_headings(commonmark_list_indents(body), 3 - level), rewrite)
        sections.append(f"## [{package.distribution}]({overview})\n\n{body}")
    return "\n".join(sections)


def on_serve(server: LiveReloadServer, config: MkDocsConfig, builder: Any) -> LiveReloadServer:
    """Rebuild while serving when a package's docs, changelog or code change."""
    for package in discover_packages(Path(config.config_file_path).resolve().parent):
        for name in ("README.md", "CHANGELOG.md", "pyproject.toml", "docs", "src"):
            if (package.root / name).exists():
                server.watch(str(package.root / name))
    return server

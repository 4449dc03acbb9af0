"""The Markdown reading and package discovery of docs/_hooks/packages.py."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from types import ModuleType

import pytest


def test_fenced_blocks_with_indentation_tildes_and_longer_fences(hook: ModuleType) -> None:
    text = textwrap.dedent(
        """\
        # Title

        ```python
        a = 1
        ```

        !!! example
            ```python title="x.py"
            b = a + 1
            ```

        ````markdown
        ```python
        not_a_block()
        ```
        ````

        ~~~pycon
        >>> 1
        ~~~
        """
    )
    blocks = list(hook.iter_fenced_blocks(text))
    assert [(b.language, b.fence_line, b.body_start_line) for b in blocks] == [
        ("python", 3, 4),
        ("python", 8, 9),
        ("markdown", 12, 13),
        ("pycon", 18, 19),
    ]
    assert blocks[1].body == "b = a + 1\n"
    assert "not_a_block()" in blocks[2].body


def test_an_unclosed_fence_runs_to_the_end(hook: ModuleType) -> None:
    blocks = list(hook.iter_fenced_blocks("text\n```python\nx = 1\ny = 2\n"))
    assert len(blocks) == 1
    assert blocks[0].body == "x = 1\ny = 2\n"


def test_links_are_rewritten_outside_code_only(hook: ModuleType) -> None:
    text = textwrap.dedent(
        """\
        See [the guide](docs/howto.md#top), ![chart](docs/chart.png) and `[x](code.md)`.
        <img src="docs/logo.svg">

        [ref]: CHANGELOG.md

        ```markdown
        [kept](docs/howto.md)
        ```
        """
    )
    rewritten = hook.rewrite_links(text, lambda target: f"<<{target}>>")
    assert "[the guide](<<docs/howto.md#top>>)" in rewritten
    assert "![chart](<<docs/chart.png>>)" in rewritten
    assert '<img src="<<docs/logo.svg>>">' in rewritten
    assert "[ref]: <<CHANGELOG.md>>" in rewritten
    assert "`[x](code.md)`" in rewritten
    assert "[kept](docs/howto.md)" in rewritten


def test_benchmark_section_is_cut_at_the_next_heading_of_its_level(hook: ModuleType) -> None:
    readme = textwrap.dedent(
        """\
        # pkg
        ## Benchmarks
        Measured on a laptop.
        ### Retry
        | case | median |
        | --- | --- |
        ```text
        # not a heading
        ```
        ## Licence
        Internal.
        """
    )
    level, body = hook.extract_section(readme, hook.BENCHMARK_HEADING)
    assert level == 2
    assert body.startswith("Measured on a laptop.")
    assert "# not a heading" in body
    assert "Licence" not in body
    assert "#### Retry" in hook.shift_headings(body, 1)
    assert "# not a heading" in hook.shift_headings(body, 1)
    assert hook.extract_section("# pkg\n\nNo numbers.\n", hook.BENCHMARK_HEADING) is None


def test_docstring_doctests_and_sphinx_roles_render_as_code(hook: ModuleType) -> None:
    docstring = textwrap.dedent(
        """\
        Return a :class:`~pkg.models.Result` (see :func:`pkg.run`).

        >>> run()["total"]
        0

        ```python
        x = ":class:`kept`"
        ```
        """
    )
    rendered = hook.render_docstring_markup(docstring)
    assert "Return a `Result` (see `pkg.run`)." in rendered
    shown = "Write ``:class:`Retry` `` for a link."
    assert hook.render_docstring_markup(shown) == shown  # a role quoted in code stays
    assert '```pycon\n>>> run()["total"]\n0\n```' in rendered
    assert 'x = ":class:`kept`"' in rendered


def write_package(root: Path, folder: str, files: dict[str, str]) -> Path:
    package = root / "packages" / folder
    for relative, content in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    return package


def test_import_name_comes_from_answers_then_poetry_then_distribution(
    hook: ModuleType, tmp_path: Path
) -> None:
    write_package(
        tmp_path,
        "maestro-a",
        {
            "pyproject.toml": '[project]\nname = "maestro-a"\n',
            ".copier-answers.yml": "import_name: alpha\n",
            "src/alpha/__init__.py": "",
        },
    )
    write_package(
        tmp_path,
        "maestro-b",
        {
            "pyproject.toml": '[project]\nname = "maestro-b"\n'
            '[tool.poetry]\npackages = [{ include = "beta", from = "src" }]\n',
            "src/beta/__init__.py": "",
        },
    )
    write_package(
        tmp_path,
        "c",
        {"pyproject.toml": '[project]\nname = "Maestro_C"\n', "src/maestro_c/__init__.py": ""},
    )
    write_package(tmp_path, "not-a-package", {"notes.md": "# no pyproject\n"})
    found = {p.site_dir: p.import_name for p in hook.discover_packages(tmp_path)}
    assert found == {
        "packages/maestro-a": "alpha",
        "packages/maestro-b": "beta",
        "packages/maestro-c": "maestro_c",  # the site path is the normalised distribution name
    }


def test_submodules_get_a_page_only_for_what_the_package_does_not_export(
    hook: ModuleType, tmp_path: Path
) -> None:
    write_package(
        tmp_path,
        "maestro-d",
        {
            "pyproject.toml": '[project]\nname = "maestro-d"\n',
            "src/maestro_d/__init__.py": """\
                from maestro_d.models import Model
                from maestro_d._core import run
                __all__ = ["Model", "run"]
            """,
            "src/maestro_d/_core.py": "def run() -> None: ...\n",
            "src/maestro_d/models.py": "class Model: ...\n",
            "src/maestro_d/cli.py": "def main() -> int: ...\ndef _helper() -> None: ...\n",
            "src/maestro_d/adapters/__init__.py": '__all__ = ["Adapter"]\nclass Adapter: ...\n',
            "src/maestro_d/_private/tool.py": "def hidden() -> None: ...\n",
        },
    )
    (package,) = hook.discover_packages(tmp_path)
    assert [(m.name, m.members) for m in package.api_modules] == [
        ("maestro_d", None),
        ("maestro_d.adapters", ("Adapter",)),
        ("maestro_d.cli", ("main",)),
    ]
    assert package.api_page(package.api_modules[0]) == "packages/maestro-d/api/index.md"
    assert re.fullmatch(
        r"packages/maestro-d/api/maestro_d\.cli\.md", package.api_page(package.api_modules[2])
    )


def test_an_export_named_like_its_submodule_is_documented_by_its_full_path(
    hook: ModuleType, tmp_path: Path
) -> None:
    # Python finds the function under maestro_f.retry; griffe finds the submodule there.
    write_package(
        tmp_path,
        "maestro-f",
        {
            "pyproject.toml": '[project]\nname = "maestro-f"\n',
            "src/maestro_f/__init__.py": """\
                from . import tools
                from .retry import Retry, retry
                from .sub import sub
                __all__ = ["Retry", "retry", "sub", "tools"]
            """,
            "src/maestro_f/retry.py": "class Retry: ...\ndef retry() -> Retry: ...\n",
            "src/maestro_f/tools.py": "def tool() -> None: ...\n",
            "src/maestro_f/sub/__init__.py": """\
                from maestro_f.sub.sub import sub
                __all__ = ["sub"]
            """,
            "src/maestro_f/sub/sub.py": "def sub() -> None: ...\n",
        },
    )
    (package,) = hook.discover_packages(tmp_path)
    top, tools = package.api_modules
    # the import is followed to the module that defines the object
    assert top.shadowed == ("maestro_f.retry.retry", "maestro_f.sub.sub.sub")
    assert (tools.name, tools.members, tools.shadowed) == ("maestro_f.tools", ("tool",), ())
    markdown = hook._api_page_markdown(package, top)
    assert "::: maestro_f\n" in markdown
    assert "::: maestro_f.retry.retry\n" in markdown
    assert "::: maestro_f.sub.sub.sub\n" in markdown


def test_a_broken_package_stops_the_build_with_its_file_named(
    hook: ModuleType, tmp_path: Path
) -> None:
    from mkdocs.exceptions import PluginError

    write_package(tmp_path, "maestro-e", {"pyproject.toml": "[project\nname = 1\n"})
    with pytest.raises(PluginError, match=r"maestro-e/pyproject\.toml: not valid TOML"):
        hook.discover_packages(tmp_path)

    write_package(
        tmp_path,
        "maestro-e",
        {
            "pyproject.toml": '[project]\nname = "maestro-e"\n',
            "src/maestro_e/__init__.py": "",
            "src/maestro_e/api.py": "def broken(:\n",
        },
    )
    with pytest.raises(PluginError, match=r"maestro_e/api\.py:1: cannot document"):
        hook.discover_packages(tmp_path)


def test_named_tuples_get_their_constructor_signature(repo_root: Path, tmp_path: Path) -> None:
    import griffe

    (tmp_path / "shapes.py").write_text(
        textwrap.dedent(
            '''\
            from typing import NamedTuple

            class Point(NamedTuple):
                """A point.

                Args:
                    x: Across.
                    y: Up.
                """

                x: float
                y: float = 0.0

                def norm(self) -> float:
                    return (self.x**2 + self.y**2) ** 0.5
            '''
        ),
        encoding="utf-8",
    )
    extension = repo_root / "docs" / "_hooks" / "griffe_namedtuple.py"
    module = griffe.load(
        "shapes",
        search_paths=[str(tmp_path)],
        extensions=griffe.load_extensions(f"{extension}:NamedTupleExtension"),
    )
    parameters = module["Point"].members["__init__"].parameters
    assert [parameter.name for parameter in parameters] == ["self", "x", "y"]
    assert str(parameters["x"].annotation) == "float"
    assert parameters["x"].default is None  # required
    assert str(parameters["y"].default) == "0.0"


def test_sphinx_comments_document_attributes(repo_root: Path, tmp_path: Path) -> None:
    import griffe

    (tmp_path / "consts.py").write_text(
        textwrap.dedent(
            '''\
            from typing import Final

            #: The schema of every document,
            #: written as ``name/version``.
            SCHEMA: Final = "doc/1"

            #: A run id or a tag.
            Ref = int | str

            # an ordinary comment
            PLAIN = 1

            #: Loses to the docstring.
            BOTH = 2
            """The docstring."""

            class Box:
                #: Seconds to wait.
                grace: float = 5.0
            '''
        ),
        encoding="utf-8",
    )
    extension = repo_root / "docs" / "_hooks" / "griffe_comments.py"
    module = griffe.load(
        "consts",
        search_paths=[str(tmp_path)],
        extensions=griffe.load_extensions(f"{extension}:CommentDocstringExtension"),
    )
    schema = module["SCHEMA"].docstring
    assert schema.value == "The schema of every document,\nwritten as ``name/version``."
    assert (schema.lineno, schema.endlineno) == (3, 4)
    assert module["Ref"].docstring.value == "A run id or a tag."
    assert module["PLAIN"].docstring is None
    assert module["BOTH"].docstring.value == "The docstring."
    assert module["Box"]["grace"].docstring.value == "Seconds to wait."


def render_site_markdown(text: str) -> str:
    import markdown

    return markdown.markdown(text, extensions=["tables", "pymdownx.superfences"])


def test_commonmark_list_blocks_stay_in_their_items(hook: ModuleType) -> None:
    readme = textwrap.dedent(
        """\
        - **One**: the first.
        - **Readers**, by format:

          | format | producers |
          |---|---|
          | `junit` | Surefire |

          Test cases are trusted,
          not summary attributes.
        - **Hostile input** is refused.

        Then:

        1. Install:

           ```text
           uv sync
             --all-packages
           ```
        2. Run.
        """
    )
    before = render_site_markdown(readme)
    assert "- <strong>Hostile input" in before  # the literal dash this fixes

    html = render_site_markdown(hook.commonmark_list_indents(readme))
    assert "- <strong>Hostile" not in html
    assert html.count("<li>") == 5
    bullets = html.split("<ol>")[0]
    assert "<table>" in bullets and "Test cases are trusted" in bullets
    assert bullets.index("</table>") < bullets.index("Hostile")
    assert "uv sync\n  --all-packages" in html.split("<ol>")[1]  # code keeps its indentation


def test_markdown_outside_lists_and_python_markdown_lists_are_kept(hook: ModuleType) -> None:
    text = textwrap.dedent(
        """\
        A paragraph
        with a lazy line.

            indented code

        ```text
          - not a list
        ```

        - item
        lazy continuation

            Four-space block of the item.
        """
    )
    converted = hook.commonmark_list_indents(text)
    assert converted.split("- item")[0] == text.split("- item")[0]
    assert "\nlazy continuation\n" in converted
    assert render_site_markdown(converted) == render_site_markdown(text)


def test_a_tab_indents_a_list_block_to_the_next_tab_stop(hook: ModuleType) -> None:
    html = render_site_markdown(hook.commonmark_list_indents("- item\n\n\tmore of it\n"))
    assert html.replace("\n", "") == "<ul><li><p>item</p><p>more of it</p></li></ul>"

"""Griffe extension: read Sphinx's ``#:`` comments as the docstrings of attributes.

The packages document constants and type aliases the way Sphinx autodoc reads them,
with ``#:`` comment lines right above the assignment::

    #: Value of the ``"schema"`` key of every normalised JSON document.
    SCHEMA_ID: Final = "maestro-test-run/1"

Griffe only reads a string literal *below* an assignment, so such an attribute had no
docstring and the API reference (``show_if_no_docstring: false``) left it out, even
when the package exports it. A string docstring below the assignment still wins.

Registered in ``mkdocs.yml`` under the python handler's ``extensions``.
"""

from __future__ import annotations

from typing import Any

from griffe import Attribute, Docstring, Extension

_MARKER = "#:"


def comment_docstring(lines: list[str], lineno: int) -> tuple[str, int] | None:
    """Return the ``#:`` comment block right above 1-based line ``lineno`` and its first line.

    Each line loses ``#:`` and one space after it; a block with no text gives ``None``.
    """
    index = lineno - 2
    block: list[str] = []
    while index >= 0 and lines[index].lstrip().startswith(_MARKER):
        text = lines[index].lstrip().removeprefix(_MARKER)
        block.append(text.removeprefix(" ").rstrip())
        index -= 1
    if not any(block):
        return None
    return "\n".join(reversed(block)).strip("\n"), index + 2


class CommentDocstringExtension(Extension):
    """Give an attribute without a docstring the ``#:`` comment above it."""

    def on_attribute_instance(self, *, attr: Attribute, **kwargs: Any) -> None:
        if attr.docstring is not None or attr.lineno is None:
            return
        try:
            lines = attr.lines_collection[attr.filepath]  # type: ignore[index]
        except (KeyError, TypeError):
            return  # no source (a compiled module, an inspected object)
        found = comment_docstring(lines, attr.lineno)
        if found is not None:
            text, first_line = found
            attr.docstring = Docstring(
                text, lineno=first_line, endlineno=attr.lineno - 1, parent=attr
            )

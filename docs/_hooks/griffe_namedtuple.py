"""Griffe extension: give ``typing.NamedTuple`` classes the constructor Python gives them.

Griffe reads code without importing it, and synthesises ``__init__`` for
dataclasses but not for named tuples. Without it the API reference shows
``Actor()`` with no parameters, and a Google ``Args:`` section documenting the
fields is reported as "parameter does not appear in the function signature".
The fields of a named tuple are its annotated class attributes, in order, with
their values as defaults -- exactly the constructor's parameters.

Registered in ``mkdocs.yml`` under the python handler's ``extensions``.
"""

from __future__ import annotations

from typing import Any

from griffe import Attribute, Class, Expr, Extension, Function, Parameter, ParameterKind, Parameters

_NAMED_TUPLE_BASES = {"typing.NamedTuple", "typing_extensions.NamedTuple"}


def _is_named_tuple(cls: Class) -> bool:
    for base in cls.bases:
        path = base.canonical_path if isinstance(base, Expr) else str(base)
        if path in _NAMED_TUPLE_BASES or path == "NamedTuple":
            return True
    return False


class NamedTupleExtension(Extension):
    """Add the synthesised ``__init__(field, ...)`` to every named tuple class."""

    def on_class(self, *, cls: Class, **kwargs: Any) -> None:
        """Create ``__init__`` from the annotated fields unless the class defines one."""
        if "__init__" in cls.members or not _is_named_tuple(cls):
            return
        fields = [
            member
            for member in cls.members.values()
            if isinstance(member, Attribute)
            and member.annotation is not None
            and not member.name.startswith("_")
        ]
        parameters = [
            Parameter(
                field.name,
                annotation=field.annotation,
                kind=ParameterKind.positional_or_keyword,
                default=field.value,
                docstring=field.docstring,
            )
            for field in fields
        ]
        self_parameter = Parameter("self", kind=ParameterKind.positional_or_keyword)
        cls.set_member(
            "__init__",
            Function(
                "__init__",
                lineno=cls.lineno,
                endlineno=cls.lineno,
                parent=cls,
                parameters=Parameters(self_parameter, *parameters),
                returns="None",
            ),
        )

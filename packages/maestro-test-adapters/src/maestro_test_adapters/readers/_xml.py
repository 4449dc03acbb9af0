"""Hardened, streaming XML: refuse any DTD with defusedxml, then parse with expat in C.

DTDs are the only way to declare entities, so a document whose prolog has no
``<!DOCTYPE`` cannot expand entities (billion laughs) or fetch external ones
(XXE). The prolog is therefore checked by defusedxml's parser with
``forbid_dtd=True``; the body is then fed chunk by chunk to the C-accelerated
parser with a small callback target that keeps no tree, so memory stays
bounded whatever the file size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final, Protocol
from xml.etree.ElementTree import ParseError, XMLParser

# defusedxml ships no type information (types-defusedxml would provide it).
from defusedxml import (  # type: ignore[import-untyped]
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml.ElementTree import DefusedXMLParser  # type: ignore[import-untyped]

from maestro_test_adapters.readers._base import ResultFileError

CHUNK_SIZE: Final = 1 << 16
_POSITION: Final = re.compile(r": line \d+, column \d+$")


class XMLTarget(Protocol):
    """What :class:`xml.etree.ElementTree.XMLParser` calls back."""

    def start(self, tag: str, attrib: dict[str, str]) -> None: ...
    def end(self, tag: str) -> None: ...
    def data(self, data: str) -> None: ...
    def close(self) -> Any: ...


class _RootReached(Exception):
    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


class _PrologTarget:
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        raise _RootReached(tag)

    def end(self, tag: str) -> None:  # pragma: no cover - never reached before a start
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        pass


def _refused(path: Path, exc: Exception) -> ResultFileError:
    return ResultFileError(
        path,
        f"refused: the document declares a DTD or entities ({exc}); result files never"
        " need one and resolving it could expand or fetch entities (billion laughs, XXE)",
    )


def _parse_error(path: Path, exc: ParseError) -> ResultFileError:
    line = exc.position[0] if getattr(exc, "position", None) else None
    reason = _POSITION.sub("", str(exc))
    return ResultFileError(path, f"not well-formed XML: {reason}", line=line)


def read_prolog(path: Path, stream: BinaryIO) -> tuple[str, list[bytes]]:
    """Check the prolog with defusedxml and return the root tag and the bytes read.

    Raises:
        ResultFileError: The prolog declares a DTD, or is not well-formed,
            or the file has no root element.
    """
    parser = DefusedXMLParser(
        target=_PrologTarget(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    chunks: list[bytes] = []
    try:
        while chunk := stream.read(CHUNK_SIZE):
            chunks.append(chunk)
            parser.feed(chunk)
        parser.close()
    except _RootReached as root:
        return root.tag, chunks
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise _refused(path, exc) from None
    except ParseError as exc:
        raise _parse_error(path, exc) from None
    raise ResultFileError(path, "empty document: no root element")


def root_tag(path: Path) -> str:
    """Return the root element's tag after the hardened prolog check."""
    with path.open("rb") as stream:
        return read_prolog(path, stream)[0]


def feed(path: Path, target: XMLTarget) -> Iterator[None]:
    """Parse ``path`` into ``target``, yielding after each chunk.

    The caller drains whatever the target produced at each yield, which keeps
    memory bounded for streaming consumers.

    Raises:
        ResultFileError: DTD present, not well-formed or truncated (with the
            line), or unreadable.
    """
    try:
        with path.open("rb") as stream:
            _, head = read_prolog(path, stream)
            parser = XMLParser(target=target)
            try:
                for chunk in head:
                    parser.feed(chunk)
                    yield None
                while chunk := stream.read(CHUNK_SIZE):
                    parser.feed(chunk)
                    yield None
                parser.close()
            except ParseError as exc:
                raise _parse_error(path, exc) from None
    except OSError as exc:
        raise ResultFileError(path, f"cannot read the file: {exc.strerror or exc}") from None

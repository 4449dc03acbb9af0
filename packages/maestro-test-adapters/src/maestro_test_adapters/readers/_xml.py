"""Hardened, streaming XML: refuse any DTD with defusedxml, then parse with expat.

DTDs are the only way to declare entities, so a document whose prolog has no
``<!DOCTYPE`` cannot expand entities (billion laughs) or fetch external ones
(XXE). The prolog is therefore checked by defusedxml's parser with
``forbid_dtd=True``; the body is then fed chunk by chunk to an expat parser
(which refuses DTDs and entity declarations too, should one slip through)
that calls a small target object back and keeps no tree, so memory stays
bounded whatever the file size.

Speed: character data costs a Python call per text run, so targets switch
the text handler on only inside the elements whose text they keep (a bound
``list.append``, no Python frame at all), via :class:`TextCapture`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final, Protocol
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ErrorString, ExpatError, ParserCreate, XMLParserType

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from maestro_test_adapters.readers._base import ResultFileError

CHUNK_SIZE: Final = 1 << 16
_POSITION: Final = re.compile(r": line \d+, column \d+$")


class XMLTarget(Protocol):
    """What :func:`feed` calls back: expat's start and end element handlers."""

    text: TextCapture

    def start(self, tag: str, attrib: dict[str, str]) -> None: ...
    def end(self, tag: str) -> None: ...


class TextCapture:
    """Collects the text of the elements a target asks for, and only those."""

    __slots__ = ("_parser", "_buffers")

    def __init__(self) -> None:
        self._parser: XMLParserType = ParserCreate()  # replaced by attach()
        self._buffers: list[list[str]] = []

    def attach(self, parser: XMLParserType) -> None:
        """Collect from ``parser`` from now on."""
        self._parser = parser
        self._buffers.clear()

    def push(self, initial: str | None = None) -> None:
        """Start collecting text (nested pushes collect separately)."""
        buffer = [] if initial is None else [initial]
        self._buffers.append(buffer)
        self._parser.CharacterDataHandler = buffer.append

    def pop(self) -> str:
        """Stop collecting the innermost text and return it."""
        buffer = self._buffers.pop()
        self._parser.CharacterDataHandler = self._buffers[-1].append if self._buffers else None
        return "".join(buffer)


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
    if isinstance(exc, DTDForbidden):
        what = f"a DTD (<!DOCTYPE {exc.name}>)"
    elif isinstance(exc, EntitiesForbidden):
        what = f"an entity ({exc.name})"
    else:
        what = f"an external reference ({getattr(exc, 'sysid', None)})"
    return ResultFileError(
        path,
        f"refused: the document declares {what}; result files never need one and"
        " resolving it could expand or fetch entities (billion laughs, XXE)",
    )


def _parse_error(path: Path, exc: ParseError | ExpatError) -> ResultFileError:
    if isinstance(exc, ExpatError):
        return ResultFileError(
            path, f"not well-formed XML: {ErrorString(exc.code)}", line=exc.lineno
        )
    line = exc.position[0] if getattr(exc, "position", None) else None
    reason = _POSITION.sub("", str(exc))
    return ResultFileError(path, f"not well-formed XML: {reason}", line=line)


def _refuse_doctype(name: str, system_id: str | None, public_id: str | None, _: bool) -> None:
    raise DTDForbidden(name, system_id, public_id)


def _refuse_entity(name: str, *_: object) -> None:
    raise EntitiesForbidden(name, None, None, None, None, None)


def _refuse_external(context: str, base: str | None, system_id: str | None, *_: object) -> int:
    raise ExternalReferenceForbidden(context, base, system_id, None)


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
    except LookupError as exc:  # an encoding declared in the XML declaration Python lacks
        raise ResultFileError(path, f"not readable XML: {exc}", line=1) from None
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
            parser = ParserCreate()
            parser.buffer_text = True
            parser.buffer_size = CHUNK_SIZE
            parser.StartElementHandler = target.start
            parser.EndElementHandler = target.end
            parser.StartDoctypeDeclHandler = _refuse_doctype
            parser.EntityDeclHandler = _refuse_entity
            parser.ExternalEntityRefHandler = _refuse_external
            target.text.attach(parser)
            try:
                for chunk in head:
                    parser.Parse(chunk, False)
                    yield None
                while chunk := stream.read(CHUNK_SIZE):
                    parser.Parse(chunk, False)
                    yield None
                parser.Parse(b"", True)
            except ExpatError as exc:
                raise _parse_error(path, exc) from None
            except ResultFileError as exc:  # raised by the target: say where
                if exc.line is not None:
                    raise
                raise ResultFileError(path, exc.reason, line=parser.CurrentLineNumber) from None
            except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
                # pragma: no cover - read_prolog refuses these first
                raise _refused(path, exc) from None
            finally:
                # The handlers are the target's bound methods and the target
                # holds the parser: without this, the cycle would keep the
                # whole run alive until the cyclic collector found it.
                parser.StartElementHandler = None
                parser.EndElementHandler = None
                parser.CharacterDataHandler = None
    except OSError as exc:
        raise ResultFileError(path, f"cannot read the file: {exc.strerror or exc}") from None

"""Request bodies are parsed once, at the edge, into typed values (msgspec structs)."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from waybill.core.errors import BadRequest, FieldError, ValidationFailed
from waybill.http.context import AnyRequest

T = TypeVar("T")

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
_MISSING = re.compile(r"^Object missing required field `([^`]+)`")
_UNKNOWN = re.compile(r"^Object contains unknown field `([^`]+)`")


def decode(raw: bytes, type_: type[T], resource: str) -> T:
    decoder = _decoders.get(type_)
    if decoder is None:
        decoder = _decoders[type_] = msgspec.json.Decoder(type_)
    try:
        value = decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise ValidationFailed([field_error(str(exc), resource)]) from None
    except msgspec.DecodeError:
        raise BadRequest("Problems parsing JSON") from None
    if b"\\u0000" in raw:
        # PostgreSQL text cannot store NUL, and no GitHub field admits one.
        where = _nul_path(msgspec.json.decode(raw))
        if where is not None:
            field = where or "body"
            raise ValidationFailed(
                [FieldError(resource, field, "invalid", f"{field} contains a NUL character")]
            )
    return value  # type: ignore[no-any-return]


def _nul_path(node: Any, path: str = "") -> str | None:
    """Where the first string (or key) holding NUL is, as ``a.b[2].c``; None when there is none."""
    if isinstance(node, str):
        return path if "\x00" in node else None
    if isinstance(node, list):
        for i, item in enumerate(node):
            found = _nul_path(item, f"{path}[{i}]")
            if found is not None:
                return found
    if isinstance(node, dict):
        for key, item in node.items():
            child = f"{path}.{key}" if path else key
            if "\x00" in key:
                return child.replace("\x00", "")
            found = _nul_path(item, child)
            if found is not None:
                return found
    return None


async def parse_body(request: AnyRequest, type_: type[T], resource: str) -> T:
    return decode(await request.body(), type_, resource)


def field_error(text: str, resource: str) -> FieldError:
    """A GitHub ``validation-error`` entry from a msgspec message such as
    ``Expected `str` of length <= 256 - at `$.deployments[3].name```."""
    detail, _, where = text.partition(" - at `")
    path = where.rstrip("`").removeprefix("$").lstrip(".")
    if match := _MISSING.match(detail):
        field = f"{path}.{match.group(1)}" if path else match.group(1)
        return FieldError(resource, field, "missing_field", f"{field} is missing")
    if match := _UNKNOWN.match(detail):
        field = f"{path}.{match.group(1)}" if path else match.group(1)
        return FieldError(resource, field, "invalid", f"{field} is not a permitted key")
    field = path or "body"
    return FieldError(resource, field, "invalid", f"{field}: {detail}")

"""Pydantic types shared across domains: identifiers and their normalisation."""

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints

from app.models_common import CODE_PATTERN, KEY_PATTERN, SLUG_PATTERN


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


JurisdictionCode = Annotated[
    str,
    BeforeValidator(_upper),
    StringConstraints(pattern=CODE_PATTERN, max_length=24),
]
Key = Annotated[str, BeforeValidator(_lower), StringConstraints(pattern=KEY_PATTERN, max_length=80)]
Slug = Annotated[
    str, BeforeValidator(_lower), StringConstraints(pattern=SLUG_PATTERN, max_length=120)
]

_CODE_RE = re.compile(CODE_PATTERN)


def _split_codes(value: object) -> object:
    if isinstance(value, str):
        return [part.strip().upper() for part in value.split(",") if part.strip()]
    return value


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


CodeList = Annotated[list[JurisdictionCode], BeforeValidator(_split_codes), AfterValidator(_unique)]

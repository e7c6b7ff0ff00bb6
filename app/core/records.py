"""What every domain's record models share: the base model (every field checked, nothing
extra), the common field types, request-body models derived from a record, and building a
record from request data (a 422 whose errors point into the body).

A record model holds every rule that one record can be checked against on its own; each
domain owns its records (`app/<domain>/records.py`), and the dataset's seed, import and
export use them in batches.
"""

from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
)

from app.core.errors import ValidationFailed
from app.core.schemas import NulFree, Slug

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000), NulFree
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), NulFree
]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def sorted_unique(values: list[str]) -> list[str]:
    return sorted(set(values))


# Sources of a value are a set: kept sorted so that stored and file records compare equal.
SourceIds = Annotated[list[Slug], Field(min_length=1, max_length=50), AfterValidator(sorted_unique)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


def body_model(record: type[Record], name: str, *, drop: str, doc: str) -> type[Record]:
    """A request-body model: `record`'s fields less its identifier (taken from the path).
    The full record, with every rule, is built from it before anything is stored."""
    fields: Any = {
        field_name: (info.annotation, info)
        for field_name, info in record.model_fields.items()
        if field_name != drop
    }
    model: type[Record] = create_model(name, __base__=Record, __doc__=doc, **fields)
    return model


def patch_model(record: type[Record], name: str, *, drop: str, doc: str) -> type[Record]:
    """Like body_model, with every field optional: only the fields sent are changed."""
    annotations: dict[str, Any] = {
        field_name: info.annotation
        for field_name, info in record.model_fields.items()
        if field_name != drop
    }
    fields: Any = {field_name: (kind | None, None) for field_name, kind in annotations.items()}
    model: type[Record] = create_model(name, __base__=Record, __doc__=doc, **fields)
    return model


R = TypeVar("R", bound=Record)


def build_record(model: type[R], data: dict[str, Any], *, at: tuple[str | int, ...] = ()) -> R:
    """`model` from request data; a 422 whose errors point into the body (under `at`)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        issues = [
            {
                "loc": ["body", *at, *[p for p in e["loc"] if p != "__root__"]],
                "msg": e["msg"],
                "type": e["type"],
            }
            for e in error.errors()
        ]
        raise ValidationFailed(
            "; ".join(f"{'.'.join(map(str, i['loc']))}: {i['msg']}" for i in issues),
            errors=issues,
        ) from None

"""A composite index and its components as records: their rules on their own."""

from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from app.core.records import Name, Record, Text
from app.core.schemas import Key, Number
from app.indices.models import ComponentKind, Transform


class ComponentRecord(Record):
    kind: ComponentKind
    key: Key
    weight: Number = Field(ge=0, le=1000)
    transform: Transform


class IndexRecord(Record):
    key: Key
    name: Name
    description: Text | None = None
    methodology: Annotated[Text | None, BeforeValidator(lambda v: v or None)] = None
    components: list[ComponentRecord] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _components(self) -> "IndexRecord":
        keys = [(c.kind, c.key) for c in self.components]
        if len(set(keys)) != len(keys):
            raise ValueError("a component is listed twice")
        if len({c.key for c in self.components}) != len(keys):
            raise ValueError("component keys must be unique within an index")
        if not any(c.weight > 0 for c in self.components):
            raise ValueError("at least one component needs a weight above 0")
        return self

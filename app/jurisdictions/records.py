"""A jurisdiction and its regulators as records: their rules on their own."""

from pydantic import Field, model_validator

from app.core.records import Currency, Name, Record, Text, Url
from app.core.schemas import JurisdictionCode, Slug
from app.jurisdictions.models import JurisdictionKind, Region, Remit


class RegulatorRecord(Record):
    id: Slug
    name: Name
    acronym: Name | None = None
    url: Url | None = None
    remit: list[Remit] = Field(default_factory=list)


class JurisdictionRecord(Record):
    code: JurisdictionCode
    name: Name
    kind: JurisdictionKind
    parent_code: JurisdictionCode | None = None
    region: Region
    currency: Currency | None = None
    summary: Text | None = None
    regulators: list[RegulatorRecord] | None = Field(
        default=None,
        description="The regulators, replacing those stored; omitted (null), they are kept "
        "as they are (a CSV import of jurisdictions carries none).",
    )

    @model_validator(mode="after")
    def _not_own_parent(self) -> "JurisdictionRecord":
        if self.parent_code == self.code:
            raise ValueError("a jurisdiction cannot be its own parent")
        if self.regulators is not None:
            ids = [regulator.id for regulator in self.regulators]
            if len(set(ids)) != len(ids):
                raise ValueError("a regulator is listed twice")
            self.regulators.sort(key=lambda regulator: regulator.id)
        return self

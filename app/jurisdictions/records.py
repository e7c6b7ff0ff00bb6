"""A jurisdiction and its regulators as records: the rules of one record (the models) and
those across records (check_jurisdictions), for the API's writes and the dataset's batches."""

from collections.abc import Mapping

from pydantic import Field, model_validator

from app.core.issues import Issue, issue, unknown_code
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


def check_jurisdictions(
    jurisdictions: list[JurisdictionRecord],
    *,
    parents: Mapping[str, str | None],
    regulators: Mapping[str, str],
) -> list[Issue]:
    """The rules across records of jurisdictions: a known parent, no cycle through the parent
    chain (`parents`: code -> parent code, stored and incoming), and no regulator of another
    jurisdiction (`regulators`: stored regulator id -> code; a conflict)."""
    issues: list[Issue] = []
    regulator_owner = dict(regulators)
    for number, j in enumerate(jurisdictions):
        issues += unknown_code(
            "jurisdictions", number, j.code, "parent_code", j.parent_code, parents
        )
        ancestor, hops = j.parent_code, 0
        while ancestor is not None and hops <= len(parents):
            if ancestor == j.code:
                issues.append(
                    issue(
                        "jurisdictions", number, j.code, "parent_code", "parent chain forms a cycle"
                    )
                )
                break
            ancestor, hops = parents.get(ancestor), hops + 1
        for r_number, regulator in enumerate(j.regulators or []):
            owner = regulator_owner.get(regulator.id)
            if owner is not None and owner != j.code:
                issues.append(
                    issue(
                        "jurisdictions",
                        number,
                        j.code,
                        f"regulators.{r_number}.id",
                        f"regulator {regulator.id!r} belongs to {owner}",
                        conflict=True,
                    )
                )
            regulator_owner[regulator.id] = j.code
    return issues

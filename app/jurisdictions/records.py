"""A jurisdiction and its regulators as records: the rules of one record (the models) and
those across records (check_jurisdictions), for the API's writes and the dataset's batches."""

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator
from sqlalchemy import delete, func

from app.core.issues import Issue, issue, unknown_code
from app.core.records import Currency, Name, Record, Text, Url
from app.core.rows import Rows
from app.core.schemas import JurisdictionCode, Slug
from app.core.stored import Stored
from app.jurisdictions.models import Jurisdiction, JurisdictionKind, Region, Regulator, Remit


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


async def write_jurisdictions(
    rows: Rows, create: list[JurisdictionRecord], change: list[Any]
) -> None:
    """Insert `create`, update the (stored, new) pairs in `change`; parents resolved to ids,
    regulators replaced where they changed."""
    ids = rows.ids["jurisdiction"]

    def row(r: JurisdictionRecord) -> dict[str, Any]:
        return r.model_dump(exclude={"regulators", "parent_code"})

    await rows.insert_named(
        "jurisdiction", Jurisdiction, Jurisdiction.code, [row(r) for r in create]
    )
    # Parents: with the row when the parent's id is known already, else once every new
    # jurisdiction of the batch has its id (a parent may come later in the same file).
    later = [r for r in create if r.parent_code]
    for _, r in change:
        values = row(r) | {"updated_at": func.now()}
        if r.parent_code is None or r.parent_code in ids:
            values["parent_id"] = ids[r.parent_code] if r.parent_code else None
        else:
            later.append(r)
        await rows.update(Jurisdiction, Jurisdiction.code, r.code, values)
    for r in later:
        await rows.update(
            Jurisdiction, Jurisdiction.code, r.code, {"parent_id": ids[r.parent_code]}
        )
    # Regulators: replaced only where they changed.
    touched = create + [r for before, r in change if before.regulators != r.regulators]
    if touched:
        await rows.session.execute(
            delete(Regulator).where(Regulator.jurisdiction_id.in_([ids[r.code] for r in touched]))
        )
        await rows.insert(
            Regulator,
            [
                {"slug": g.id, "jurisdiction_id": ids[r.code], **g.model_dump(exclude={"id"})}
                for r in touched
                for g in r.regulators or []
            ],
            Regulator.id,
        )


# How the records are read back (app.core.stored.read_records), by the keys a write names.
STORED_JURISDICTIONS = Stored(
    """SELECT j.code, j.name, j.kind, p.code AS parent_code, j.region, j.currency, j.summary,
           coalesce((SELECT json_agg(json_build_object('id', r.slug, 'name', r.name,
                      'acronym', r.acronym, 'url', r.url, 'remit', r.remit) ORDER BY r.slug)
                       FROM regulator r WHERE r.jurisdiction_id = j.id), '[]') AS regulators
      FROM jurisdiction j LEFT JOIN jurisdiction p ON p.id = j.parent_id""",
    {"codes": "j.code = ANY(CAST(:codes AS text[]))"},
    "ORDER BY j.code",
)

"""Writing jurisdictions: how the records are read back (STORED_*), the batch
writer that the dataset's imports call in load order, and the API's writes (save_*), checked
by the rules of records.py. Flush, never commit."""

from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes_service
from app.core.db import lock_writers
from app.core.issues import raise_issues
from app.core.rows import Rows, change_rows, plan_records
from app.core.stored import Stored, read_records, read_references
from app.jurisdictions.models import Jurisdiction, Regulator
from app.jurisdictions.records import JurisdictionRecord, check_jurisdictions


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


def keep_regulators(
    record: JurisdictionRecord, before: JurisdictionRecord | None
) -> JurisdictionRecord:
    """A record without regulators (null) keeps the stored ones (none for a new one)."""
    if record.regulators is not None:
        return record
    return record.model_copy(update={"regulators": before.regulators if before else []})


async def save_jurisdiction(
    session: AsyncSession, record: JurisdictionRecord, *, actor: str
) -> None:
    """Create or replace one jurisdiction (and its regulators, unless null), with its change
    record; ConflictError for a regulator of another jurisdiction, ValidationFailed for an
    unknown parent or a parent chain that forms a cycle."""
    await lock_writers(session)
    codes = sorted({record.code, *([record.parent_code] if record.parent_code else [])})
    stored = await read_records(session, STORED_JURISDICTIONS, JurisdictionRecord, {"codes": codes})
    references = await read_references(
        session,
        {"codes": codes, "regulators": sorted({r.id for r in record.regulators or []})},
    )
    raise_issues(
        check_jurisdictions(
            [record],
            parents=references.jurisdictions | {record.code: record.parent_code},
            regulators=references.regulators,
        )
    )
    planned = plan_records([record], stored, key=lambda r: r.code, complete=keep_regulators)
    if not planned.changed:
        return
    await write_jurisdictions(Rows(session, references.ids), planned.create, planned.change)
    await changes_service.record_changes(
        session, change_rows(actor, "jurisdiction", lambda r: r.code, planned)
    )
    await session.flush()

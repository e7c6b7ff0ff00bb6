"""Writing features and values: how the records are read back (STORED_*), the batch
writer that the dataset's imports call in load order, and the API's writes (save_*), checked
by the rules of records.py. Flush, never commit."""

from typing import Any

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes_service
from app.core.db import lock_writers
from app.core.issues import duplicates, raise_issues, show
from app.core.rows import Rows, change_rows, found, plan_records
from app.core.stored import Stored, read_records, read_references
from app.features.models import Feature, FeatureValue, FeatureValueSource
from app.features.records import (
    FeatureRecord,
    FeatureValueRecord,
    check_feature_values,
    fv_key,
    overlapping_intervals,
    stored_values_still_fit,
)
from app.indices.records import log_scored_targets, negative_values


async def write_features(rows: Rows, create: list[FeatureRecord], change: list[Any]) -> None:
    """Insert `create`, update the stored features of the (stored, new) pairs in `change`."""

    def row(r: FeatureRecord) -> dict[str, Any]:
        return r.model_dump(mode="json")

    await rows.insert_named("feature", Feature, Feature.key, [row(r) for r in create])
    for _, r in change:
        await rows.update(Feature, Feature.key, r.key, row(r) | {"updated_at": func.now()})


async def write_feature_values(
    rows: Rows, create: list[FeatureValueRecord], change: list[Any]
) -> None:
    """Insert `create`, update the (stored, new) pairs in `change` (intervals being closed
    first), with their source links."""
    if not create and not change:
        return
    jurisdictions, features = rows.ids["jurisdiction"], rows.ids["feature"]

    def row(r: FeatureValueRecord) -> dict[str, Any]:
        return {
            "jurisdiction_id": jurisdictions[r.jurisdiction_code],
            "feature_id": features[r.feature_key],
            "value": r.value,
            "valid_from": r.valid_from,
            "valid_to": r.valid_to,
            "note": r.note,
            "confidence": r.confidence,
            "checked_on": r.checked_on,
        }

    # Changed rows first, so an interval being closed frees the range a new one takes.
    links: list[tuple[int, list[str]]] = []
    for before, r in sorted(change, key=lambda pair: pair[1].valid_to is None):
        values = row(r)
        row_id = await rows.session.scalar(
            update(FeatureValue)
            .where(
                FeatureValue.jurisdiction_id == values["jurisdiction_id"],
                FeatureValue.feature_id == values["feature_id"],
                FeatureValue.valid_from == r.valid_from,
            )
            .values(**values)
            .returning(FeatureValue.id)
        )
        if before.source_ids != r.source_ids:  # closing an interval keeps its sources
            links.append((found(row_id), r.source_ids))
        else:
            found(row_id)
    replaced = len(links)
    created = await rows.insert(FeatureValue, [row(r) for r in create], FeatureValue.id)
    links += [(row_id, r.source_ids) for (row_id,), r in zip(created, create, strict=True)]
    await rows.links(FeatureValueSource, "feature_value_id", links, replaced=replaced)


def history_changes(
    actor: str,
    stored: list[FeatureValueRecord],
    create: list[FeatureValueRecord],
    change: list[Any],
) -> list[dict[str, Any]]:
    """One change record per (jurisdiction, feature) whose history changed, with the whole
    history before and after (`stored`: the stored values of the pairs written): closing one
    interval and opening the next is one change, and a mirror replays it by replacing that
    pair's history."""
    touched = {(r.jurisdiction_code, r.feature_key) for r in create}
    touched |= {(r.jurisdiction_code, r.feature_key) for _, r in change}
    updated = {fv_key(r): r for _, r in change}
    records = []
    for code, key in sorted(touched):
        before = [v for v in stored if (v.jurisdiction_code, v.feature_key) == (code, key)]
        after = [updated.get(fv_key(v), v) for v in before]
        after += [r for r in create if (r.jurisdiction_code, r.feature_key) == (code, key)]
        after.sort(key=lambda v: v.valid_from)
        records.append(
            {
                "actor": actor,
                "entity": "feature_value",
                "entity_key": f"{code}:{key}",
                "action": "create" if not before else "update",
                "before": [v.model_dump(mode="json") for v in before] or None,
                "after": [v.model_dump(mode="json") for v in after],
            }
        )
    return records


# How the records are read back (app.core.stored.read_records), by the keys a write names.
STORED_FEATURES = Stored(
    """SELECT key, name, category, value_type, unit, allowed_values, higher_is_better,
           description, inherits, reaches_special_zones FROM feature""",
    {"features": "key = ANY(CAST(:features AS text[]))"},
    "ORDER BY key",
)

STORED_FEATURE_VALUES = Stored(
    """SELECT j.code AS jurisdiction_code, f.key AS feature_key, v.value, v.valid_from,
           v.valid_to, v.note, v.confidence, v.checked_on,
           (SELECT array_agg(s.slug ORDER BY s.slug) FROM feature_value_source l
              JOIN source s ON s.id = l.source_id WHERE l.feature_value_id = v.id) AS source_ids
      FROM feature_value v JOIN jurisdiction j ON j.id = v.jurisdiction_id
      JOIN feature f ON f.id = v.feature_id""",
    {
        # Narrowed by each column first, so the (jurisdiction, feature) index applies.
        "pair_codes": """j.code = ANY(CAST(:pair_codes AS text[]))
            AND f.key = ANY(CAST(:pair_features AS text[]))
            AND (j.code, f.key) IN (SELECT * FROM unnest(CAST(:pair_codes AS text[]),
                                                        CAST(:pair_features AS text[])))""",
        "every_value_of": "f.key = ANY(CAST(:every_value_of AS text[]))",
        "everything_of": "j.code = ANY(CAST(:everything_of AS text[]))",
    },
    "ORDER BY j.code, f.key, v.valid_from",
)


async def save_feature(session: AsyncSession, record: FeatureRecord, *, actor: str) -> None:
    """Create or replace one feature definition, with its change record; ValidationFailed
    when a value stored for it would no longer fit it."""
    await lock_writers(session)
    values = await read_records(
        session, STORED_FEATURE_VALUES, FeatureValueRecord, {"every_value_of": [record.key]}
    )
    references = await read_references(session, {"features": [record.key]})
    stored = [FeatureRecord.model_validate_json(f) for f in references.definitions["feature"]]
    raise_issues(
        stored_values_still_fit(
            [record],
            stored_features={f.key: f for f in stored},
            stored_values=values,
            replaced=[],
        )
    )
    planned = plan_records([record], stored, key=lambda r: r.key)
    if not planned.changed:
        return
    await write_features(Rows(session, references.ids), planned.create, planned.change)
    await changes_service.record_changes(
        session, change_rows(actor, "feature", lambda r: r.key, planned)
    )
    await session.flush()


async def save_feature_values(
    session: AsyncSession, records: list[FeatureValueRecord], *, actor: str
) -> None:
    """Write feature values (intervals of jurisdictions' values of features), with one change
    record per history changed; ConflictError for an interval that overlaps a stored one,
    ValidationFailed for an unknown reference, a value its feature refuses or one an index's
    log_minmax cannot take."""
    await lock_writers(session)
    pairs = sorted({(r.jurisdiction_code, r.feature_key) for r in records})
    stored = await read_records(
        session,
        STORED_FEATURE_VALUES,
        FeatureValueRecord,
        {"pair_codes": [c for c, _ in pairs], "pair_features": [k for _, k in pairs]},
    )
    references = await read_references(
        session,
        {
            "codes": sorted({r.jurisdiction_code for r in records}),
            "sources": sorted({s for r in records for s in r.source_ids}),
            "features": sorted({r.feature_key for r in records}),
        },
    )
    features = [FeatureRecord.model_validate_json(f) for f in references.definitions["feature"]]
    written = [
        ("feature_values", n, v.value, ("feature", v.feature_key), show(fv_key(v)))
        for n, v in enumerate(records)
    ]
    raise_issues(
        [
            *duplicates("feature_values", (fv_key(v) for v in records)),
            *check_feature_values(
                records,
                features={f.key: f for f in features},
                codes=references.jurisdictions,
                sources=references.sources,
                rejected=(),
            ),
            *overlapping_intervals(records, stored),
            *negative_values(written, log_scored_targets([], references.log_scored)),
        ]
    )
    planned = plan_records(records, stored, key=fv_key)
    if not planned.changed:
        return
    await write_feature_values(Rows(session, references.ids), planned.create, planned.change)
    await changes_service.record_changes(
        session, history_changes(actor, stored, planned.create, planned.change)
    )
    await session.flush()

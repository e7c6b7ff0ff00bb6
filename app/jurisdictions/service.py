"""Jurisdictions: lists, profiles, lookups by code; create, replace, patch and delete."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.changes import service as changes_service
from app.core.errors import ConflictError, NotFoundError, PermissionDenied
from app.core.periods import today
from app.core.records import build_record
from app.core.stored import read_records
from app.events.records import EventRecord
from app.events.writes import STORED_EVENTS
from app.features.models import FeatureValue
from app.features.records import FeatureValueRecord
from app.features.writes import STORED_FEATURE_VALUES
from app.jurisdictions.models import Jurisdiction, Regulator
from app.jurisdictions.records import JurisdictionRecord
from app.jurisdictions.schemas import JurisdictionProfile, JurisdictionRead
from app.jurisdictions.writes import STORED_JURISDICTIONS, save_jurisdiction
from app.metrics.models import Observation
from app.metrics.records import ObservationRecord
from app.metrics.writes import STORED_OBSERVATIONS, observation_key
from app.scenarios.records import ScenarioRecord
from app.scenarios.writes import STORED_SCENARIOS

Parent = aliased(Jurisdiction, name="parent")


class JurisdictionNotFound(NotFoundError):
    def __init__(self, code: str) -> None:
        super().__init__(f"No jurisdiction with code {code!r}.")


def in_force(as_of: date) -> ColumnElement[bool]:
    """A feature value is in force on `as_of` when valid_from <= as_of < valid_to (or open)."""
    return and_(
        FeatureValue.valid_from <= as_of,
        or_(FeatureValue.valid_to.is_(None), FeatureValue.valid_to > as_of),
    )


def _regulators_json() -> Any:
    """The jurisdiction's regulators as a JSON array ordered by id (correlated subquery)."""
    regulator = aliased(Regulator)
    item = func.json_build_object(
        "id",
        regulator.slug,
        "jurisdiction_code",
        Jurisdiction.code,
        "name",
        regulator.name,
        "acronym",
        regulator.acronym,
        "url",
        regulator.url,
        "remit",
        regulator.remit,
    )
    return (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(item, regulator.slug)), text("'[]'::json")
            )
        )
        .where(regulator.jurisdiction_id == Jurisdiction.id)
        .scalar_subquery()
    )


def _jurisdiction_columns() -> list[Any]:
    return [
        Jurisdiction.code,
        Jurisdiction.name,
        Jurisdiction.kind,
        Parent.code.label("parent_code"),
        Jurisdiction.region,
        Jurisdiction.currency,
        Jurisdiction.summary,
        _regulators_json().label("regulators"),
        Jurisdiction.updated_at,
    ]


async def list_jurisdictions(
    session: AsyncSession,
    *,
    region: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    has_feature_id: int | None = None,
    after: str | None = None,
    limit: int = 50,
) -> list[JurisdictionRead]:
    """Jurisdictions matching the filters, by code, after the cursor; `limit + 1` rows.
    `has_feature_id`: only those with a value of that feature in force today (not `false`)."""
    stmt = (
        select(*_jurisdiction_columns())
        .outerjoin(Parent, Parent.id == Jurisdiction.parent_id)
        .order_by(Jurisdiction.code)
        .limit(limit + 1)
    )
    if region is not None:
        stmt = stmt.where(Jurisdiction.region == region)
    if kind is not None:
        stmt = stmt.where(Jurisdiction.kind == kind)
    if q:
        needle = q.strip()
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Jurisdiction.code.ilike(pattern),
                Jurisdiction.name.ilike(pattern),
                func.word_similarity(needle, Jurisdiction.name) >= 0.65,
            )
        )
    if has_feature_id is not None:
        stmt = stmt.where(
            select(FeatureValue.id)
            .where(
                FeatureValue.jurisdiction_id == Jurisdiction.id,
                FeatureValue.feature_id == has_feature_id,
                in_force(today()),
                FeatureValue.value != func.to_jsonb(False),
            )
            .exists()
        )
    if after is not None:
        stmt = stmt.where(Jurisdiction.code > after)
    rows = (await session.execute(stmt)).mappings().all()
    return [JurisdictionRead.model_validate(dict(row)) for row in rows]


async def jurisdiction_id_for(session: AsyncSession, code: str) -> int:
    """The internal id of a jurisdiction code; JurisdictionNotFound if unknown."""
    jurisdiction_id = await session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == code))
    if jurisdiction_id is None:
        raise JurisdictionNotFound(code)
    return jurisdiction_id


async def jurisdiction_ids_for(session: AsyncSession, codes: list[str]) -> dict[str, int]:
    """Internal ids of jurisdiction codes, in the given order; a 404 naming every unknown one."""
    rows = await session.execute(
        select(Jurisdiction.code, Jurisdiction.id).where(Jurisdiction.code.in_(codes))
    )
    found = {code: internal for code, internal in rows.all()}
    unknown = [code for code in codes if code not in found]
    if unknown:
        names = ", ".join(repr(code) for code in unknown)
        raise NotFoundError(f"No jurisdiction with code {names}.")
    return {code: found[code] for code in codes}


_PROFILE_EXTRAS = text(
    """
    SELECT
      (SELECT count(DISTINCT feature_id) FROM feature_value
        WHERE jurisdiction_id = :jid AND valid_from <= :today
          AND (valid_to IS NULL OR valid_to > :today))               AS features_in_force,
      (SELECT count(*) FROM feature_value WHERE jurisdiction_id = :jid) AS feature_values,
      (SELECT count(*) FROM observation WHERE jurisdiction_id = :jid)   AS observations,
      (SELECT count(DISTINCT metric_id) FROM observation
        WHERE jurisdiction_id = :jid)                                   AS metrics,
      (SELECT count(*) FROM event WHERE jurisdiction_id = :jid)         AS events,
      (SELECT count(*) FROM (
          -- The row ids first, then their links by primary key: a plain join makes the
          -- planner start parallel workers for a few thousand observations.
          SELECT s.source_id FROM feature_value_source s
           WHERE s.feature_value_id = ANY(ARRAY(
                 SELECT id FROM feature_value WHERE jurisdiction_id = :jid))
          UNION
          SELECT s.source_id FROM observation_source s
           WHERE s.observation_id = ANY(ARRAY(
                 SELECT id FROM observation WHERE jurisdiction_id = :jid))
          UNION
          SELECT s.source_id FROM event_source s
           WHERE s.event_id = ANY(ARRAY(SELECT id FROM event WHERE jurisdiction_id = :jid))
      ) cited)                                                          AS sources,
      (SELECT coalesce(json_agg(c.code ORDER BY c.code), '[]'::json)
         FROM jurisdiction c WHERE c.parent_id = :jid)                  AS children,
      (SELECT coalesce(json_agg(json_build_object(
                'metric_key', m.key, 'name', m.name, 'unit', m.unit,
                'period', latest.period, 'value', latest.value, 'bound', latest.bound,
                'confidence', latest.confidence, 'checked_on', latest.checked_on,
                'source_ids', (SELECT coalesce(json_agg(src.slug ORDER BY src.slug), '[]'::json)
                                 FROM observation_source os JOIN source src ON src.id = os.source_id
                                WHERE os.observation_id = latest.id))
              ORDER BY m.key), '[]'::json)
         FROM metric m
         CROSS JOIN LATERAL (
           SELECT o.id, o.period, o.value, o.bound, o.confidence, o.checked_on
             FROM observation o
            WHERE o.jurisdiction_id = :jid AND o.metric_id = m.id AND o.counterpart_id IS NULL
            ORDER BY o.period_end DESC, o.period_start DESC LIMIT 1) latest
        WHERE NOT m.bilateral)                                          AS latest_metrics
    """
)


async def get_jurisdiction_profile(session: AsyncSession, code: str) -> JurisdictionProfile:
    """The profile of one jurisdiction; JurisdictionNotFound if the code is unknown."""
    stmt = (
        select(Jurisdiction.id, *_jurisdiction_columns())
        .outerjoin(Parent, Parent.id == Jurisdiction.parent_id)
        .where(Jurisdiction.code == code)
    )
    row = (await session.execute(stmt)).mappings().one_or_none()
    if row is None:
        raise JurisdictionNotFound(code)
    extras = (
        (await session.execute(_PROFILE_EXTRAS, {"jid": row["id"], "today": today()}))
        .mappings()
        .one()
    )
    counts = {
        k: extras[k]
        for k in (
            "features_in_force",
            "feature_values",
            "observations",
            "metrics",
            "events",
            "sources",
        )
    }
    return JurisdictionProfile.model_validate(
        {
            **row,
            "counts": counts,
            "children": extras["children"],
            "latest_metrics": extras["latest_metrics"],
        }
    )


async def put_jurisdiction(
    session: AsyncSession, *, code: str, data: dict[str, Any], actor: str
) -> JurisdictionProfile:
    """Create a jurisdiction or replace all its fields and regulators, with its change record;
    409 for a regulator of another jurisdiction, 422 when invalid."""
    record = build_record(JurisdictionRecord, {**data, "code": code})
    await save_jurisdiction(session, record, actor=actor)
    return await get_jurisdiction_profile(session, code)


async def patch_jurisdiction(
    session: AsyncSession,
    *,
    code: str,
    changes: dict[str, Any],
    actor: str,
    current: JurisdictionProfile | None = None,
) -> JurisdictionProfile:
    """Change the fields in `changes` (the others keep their values), with the change record;
    `current` is the profile the caller read already (for If-Match); without it only the
    stored record is read, not the profile's counts, whose cost grows with the jurisdiction's
    data. 404 for an unknown code, 409 or 422 as put_jurisdiction."""
    if current is not None:
        stored = current.model_dump(include=set(JurisdictionRecord.model_fields))
        for regulator in stored["regulators"]:
            regulator.pop("jurisdiction_code", None)
    else:
        record = await _record(session, code)
        if record is None:
            raise JurisdictionNotFound(code)
        stored = record.model_dump()
    new = build_record(JurisdictionRecord, {**stored, **changes})
    await save_jurisdiction(session, new, actor=actor)
    return await get_jurisdiction_profile(session, code)


async def delete_jurisdiction(
    session: AsyncSession, code: str, *, actor: str, scopes: Sequence[str], cascade: bool
) -> None:
    """Delete a jurisdiction and its regulators, with its own data when `cascade` (an admin
    key's), recording every removed row; ConflictError while others depend on it or, without
    `cascade`, while it has data; PermissionDenied for a cascade without an admin key."""
    jurisdiction_id = await jurisdiction_id_for(session, code)
    child = aliased(Jurisdiction)
    children = list(
        await session.scalars(
            select(child.code).where(child.parent_id == jurisdiction_id).order_by(child.code)
        )
    )
    counterparts = await session.scalar(
        select(func.count())
        .select_from(Observation)
        .where(Observation.counterpart_id == jurisdiction_id)
    )
    blockers = []
    if children:
        blockers.append(f"it contains {', '.join(children)} (delete or re-parent them first)")
    if counterparts:
        blockers.append(
            f"{counterparts} observation(s) of other jurisdictions name it as counterpart"
        )
    if blockers:
        raise ConflictError(f"Cannot delete {code}: {'; '.join(blockers)}.")
    owned = await _owned_data(session, code)
    if any(owned.values()) and not cascade:
        counts = ", ".join(f"{len(rows)} {name.replace('_', ' ')}" for name, rows in owned.items())
        raise ConflictError(
            f"{code} has data of its own ({counts}); deleting it needs ?cascade=true and an "
            "admin key, and removes all of it."
        )
    if any(owned.values()) and "admin" not in scopes:
        raise PermissionDenied(
            f"Deleting {code} with its data (cascade) needs an admin key; {actor} has "
            f"{', '.join(scopes)}."
        )
    before = await _record(session, code)
    await session.execute(delete(Jurisdiction).where(Jurisdiction.id == jurisdiction_id))
    for change in _removal_changes(code, owned):
        await changes_service.record_change(session, actor=actor, action="delete", **change)
    await changes_service.record_change(
        session,
        actor=actor,
        entity="jurisdiction",
        entity_key=code,
        action="delete",
        before=before.model_dump(mode="json") if before else None,
        after=None,
    )


async def _record(session: AsyncSession, code: str) -> JurisdictionRecord | None:
    """The jurisdiction as a dataset record: its state in the change feed."""
    stored = await read_records(
        session, STORED_JURISDICTIONS, JurisdictionRecord, {"codes": [code]}
    )
    return next(iter(stored), None)


async def _owned_data(session: AsyncSession, code: str) -> dict[str, list[Any]]:
    """The jurisdiction's own feature values, observations, events and saved scenarios, as
    records."""
    mine = {"everything_of": [code]}
    return {
        "feature_values": await read_records(
            session, STORED_FEATURE_VALUES, FeatureValueRecord, mine
        ),
        "observations": await read_records(session, STORED_OBSERVATIONS, ObservationRecord, mine),
        "events": await read_records(session, STORED_EVENTS, EventRecord, mine),
        "scenarios": await read_records(session, STORED_SCENARIOS, ScenarioRecord, mine),
    }


def _removal_changes(code: str, owned: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """One change record per removed row, keyed as the feed keys their creation: a
    feature-value history per feature, each observation, event and saved scenario."""
    histories: dict[str, list[Any]] = {}
    for value in owned["feature_values"]:
        histories.setdefault(value.feature_key, []).append(value.model_dump(mode="json"))
    records = [
        {
            "entity": "feature_value",
            "entity_key": f"{code}:{key}",
            "before": history,
            "after": None,
        }
        for key, history in sorted(histories.items())
    ]
    records += [
        {
            "entity": "observation",
            "entity_key": observation_key(observation),
            "before": observation.model_dump(mode="json"),
            "after": None,
        }
        for observation in owned["observations"]
    ]
    records += [
        {
            "entity": "event",
            "entity_key": event.id,
            "before": event.model_dump(mode="json"),
            "after": None,
        }
        for event in owned["events"]
    ]
    records += [
        {
            "entity": "scenario",
            "entity_key": scenario.id,
            "before": scenario.model_dump(mode="json"),
            "after": None,
        }
        for scenario in owned["scenarios"]
    ]
    return records

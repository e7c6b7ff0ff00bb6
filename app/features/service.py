"""Feature definitions and feature values over time: reads and writes."""

from datetime import date
from typing import Any

from sqlalchemy import Select, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core import periods
from app.core.errors import ConflictError, NotFoundError
from app.core.records import build_record
from app.features.models import Feature, FeatureValue, FeatureValueSource
from app.features.records import FeatureRecord, FeatureValueRecord
from app.features.rules import value_score
from app.features.schemas import FeatureRead, FeatureValueHistory, FeatureValueRead
from app.features.writes import save_feature, save_feature_values
from app.jurisdictions.models import Jurisdiction
from app.jurisdictions.service import JurisdictionNotFound
from app.sources.models import Source


class FeatureNotFound(NotFoundError):
    def __init__(self, key: str) -> None:
        super().__init__(f"No feature with key {key!r}.")


async def feature_id_for(session: AsyncSession, key: str) -> int:
    """The internal id of a feature key; FeatureNotFound if unknown."""
    feature_id = await session.scalar(select(Feature.id).where(Feature.key == key))
    if feature_id is None:
        raise FeatureNotFound(key)
    return feature_id


async def list_features(
    session: AsyncSession, *, category: str | None, after: str | None, limit: int
) -> list[FeatureRead]:
    """Feature definitions by key, after the cursor; `limit + 1` rows."""
    stmt = select(Feature).order_by(Feature.key).limit(limit + 1)
    if category is not None:
        stmt = stmt.where(Feature.category == category)
    if after is not None:
        stmt = stmt.where(Feature.key > after)
    return [
        FeatureRead.model_validate(f, from_attributes=True) for f in await session.scalars(stmt)
    ]


async def get_feature(session: AsyncSession, key: str) -> FeatureRead:
    """One feature definition; FeatureNotFound if unknown."""
    feature = await session.scalar(select(Feature).where(Feature.key == key))
    if feature is None:
        raise FeatureNotFound(key)
    return FeatureRead.model_validate(feature, from_attributes=True)


def _source_ids() -> Any:
    return (
        select(
            func.coalesce(
                func.array_agg(aggregate_order_by(Source.slug, Source.slug)), text("'{}'::text[]")
            )
        )
        .join(FeatureValueSource, FeatureValueSource.source_id == Source.id)
        .where(FeatureValueSource.feature_value_id == FeatureValue.id)
        .scalar_subquery()
    )


_Ancestor = aliased(Jurisdiction, name="ancestor")


def _effective(as_of: date) -> Any:
    """Per jurisdiction and feature, the value in force on `as_of`: its own, else the nearest
    ancestor's for a feature that inherits (the database function of migration
    6b2d8e4f1a37, which every read of values in force uses)."""
    return (
        func.feature_values_in_force(as_of)
        .table_valued("jurisdiction_id", "feature_value_id", "inherited_from_id")
        .render_derived(name="effective")
    )


def values_query(*, as_of: date | None) -> Select[Any]:
    """Feature values joined with their jurisdiction, feature and sources: with `as_of`, each
    jurisdiction's value in force that day, its own or inherited (`inherited_from`); without,
    the jurisdictions' own history. `Jurisdiction` is the jurisdiction the value is read for
    (filter on it), `FeatureValue` the stored value."""
    columns = (
        Jurisdiction.code.label("jurisdiction_code"),
        Feature.key.label("feature_key"),
        Feature.category,
        Feature.value_type,
        Feature.allowed_values,
        Feature.higher_is_better,
        FeatureValue.value,
        FeatureValue.valid_from,
        FeatureValue.valid_to,
        FeatureValue.note,
        FeatureValue.confidence,
        FeatureValue.checked_on,
        _source_ids().label("source_ids"),
    )
    if as_of is None:
        return (
            select(*columns, literal(None).label("inherited_from"))
            .join(Jurisdiction, Jurisdiction.id == FeatureValue.jurisdiction_id)
            .join(Feature, Feature.id == FeatureValue.feature_id)
        )
    effective = _effective(as_of)
    return (
        select(*columns, _Ancestor.code.label("inherited_from"))
        .select_from(effective)
        .join(FeatureValue, FeatureValue.id == effective.c.feature_value_id)
        .join(Jurisdiction, Jurisdiction.id == effective.c.jurisdiction_id)
        .join(Feature, Feature.id == FeatureValue.feature_id)
        .outerjoin(_Ancestor, _Ancestor.id == effective.c.inherited_from_id)
    )


def to_value_read(row: Any) -> FeatureValueRead:
    return FeatureValueRead(
        jurisdiction_code=row.jurisdiction_code,
        feature_key=row.feature_key,
        category=row.category,
        value_type=row.value_type,
        value=row.value,
        score=value_score(row.value_type, row.allowed_values, row.higher_is_better, row.value),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        note=row.note,
        source_ids=list(row.source_ids or []),
        confidence=row.confidence,
        checked_on=row.checked_on,
        inherited_from=row.inherited_from,
    )


async def list_jurisdiction_values(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    as_of: date | None,
    category: str | None,
    after: list[Any] | None,
    limit: int,
) -> list[FeatureValueRead]:
    """A jurisdiction's values by feature key (then valid_from), in force on as_of or all."""
    stmt = values_query(as_of=as_of).where(Jurisdiction.id == jurisdiction_id)
    if category is not None:
        stmt = stmt.where(Feature.category == category)
    if after is not None:
        key, valid_from = after
        stmt = stmt.where(
            or_(
                Feature.key > key,
                (Feature.key == key) & (FeatureValue.valid_from > valid_from),
            )
        )
    stmt = stmt.order_by(Feature.key, FeatureValue.valid_from).limit(limit + 1)
    return [to_value_read(row) for row in await session.execute(stmt)]


async def list_feature_values(
    session: AsyncSession,
    *,
    feature_id: int,
    as_of: date | None,
    jurisdiction_ids: list[int] | None,
    after: list[Any] | None,
    limit: int,
) -> list[FeatureValueRead]:
    """A feature's values across jurisdictions by code (then valid_from)."""
    stmt = values_query(as_of=as_of).where(FeatureValue.feature_id == feature_id)
    if jurisdiction_ids is not None:
        stmt = stmt.where(Jurisdiction.id.in_(jurisdiction_ids))
    if after is not None:
        code, valid_from = after
        stmt = stmt.where(
            or_(
                Jurisdiction.code > code,
                (Jurisdiction.code == code) & (FeatureValue.valid_from > valid_from),
            )
        )
    stmt = stmt.order_by(Jurisdiction.code, FeatureValue.valid_from).limit(limit + 1)
    return [to_value_read(row) for row in await session.execute(stmt)]


async def get_history(session: AsyncSession, *, code: str, key: str) -> FeatureValueHistory:
    """Every interval of one jurisdiction's value of one feature, and the one in force today;
    a 404 naming an unknown code or key."""
    rows = await session.execute(
        values_query(as_of=None)
        .where(Jurisdiction.code == code, Feature.key == key)
        .order_by(FeatureValue.valid_from)
    )
    history = [to_value_read(row) for row in rows]
    if not history:
        # No interval: say which of the two is unknown, if either is (one more statement).
        known = (
            await session.execute(
                select(
                    select(Jurisdiction.id).where(Jurisdiction.code == code).scalar_subquery(),
                    select(Feature.id).where(Feature.key == key).scalar_subquery(),
                )
            )
        ).one()
        if known[0] is None:
            raise JurisdictionNotFound(code)
        if known[1] is None:
            raise FeatureNotFound(key)
    today = periods.today()
    in_force = next(
        (
            v
            for v in history
            if v.valid_from <= today and (v.valid_to is None or v.valid_to > today)
        ),
        None,
    )
    return FeatureValueHistory(
        jurisdiction_code=code, feature_key=key, in_force=in_force, history=history
    )


def as_record(value: FeatureValueRead) -> FeatureValueRecord:
    return FeatureValueRecord(
        jurisdiction_code=value.jurisdiction_code,
        feature_key=value.feature_key,
        value=value.value,
        valid_from=value.valid_from,
        valid_to=value.valid_to,
        note=value.note,
        source_ids=value.source_ids,
        confidence=value.confidence,
        checked_on=value.checked_on,
    )


def plan_new_interval(
    history: list[FeatureValueRead], new: FeatureValueRecord
) -> list[FeatureValueRecord] | None:
    """The records to write for `new`: the interval in force on its valid_from closed on
    that day, then `new`. None when `new` is already stored exactly. ConflictError when it
    would rewrite history or overlap a later interval."""
    same_start = next((v for v in history if v.valid_from == new.valid_from), None)
    if same_start is not None:
        if as_record(same_start) == new:
            return None
        raise ConflictError(
            f"An interval of {new.feature_key} for {new.jurisdiction_code} already starts on "
            f"{new.valid_from}; history is not overwritten: use a later valid_from."
        )
    later = [v for v in history if v.valid_from > new.valid_from]
    if later and (new.valid_to is None or new.valid_to > later[0].valid_from):
        raise ConflictError(
            f"A later interval starts on {later[0].valid_from}; set valid_to on or before "
            "that day to insert an earlier one."
        )
    records: list[FeatureValueRecord] = []
    current = next(
        (
            v
            for v in history
            if v.valid_from < new.valid_from and (v.valid_to is None or v.valid_to > new.valid_from)
        ),
        None,
    )
    if current is not None:
        records.append(as_record(current).model_copy(update={"valid_to": new.valid_from}))
    records.append(new)
    return records


async def put_feature(
    session: AsyncSession, *, key: str, data: dict[str, Any], actor: str
) -> FeatureRead:
    """Create or replace a feature definition, with its change record; 422 when invalid or
    when a value stored for it would no longer fit it."""
    record = build_record(FeatureRecord, {**data, "key": key})
    await save_feature(session, record, actor=actor)
    return await get_feature(session, key)


async def set_feature_value(
    session: AsyncSession,
    *,
    code: str,
    key: str,
    data: dict[str, Any],
    actor: str,
    current: FeatureValueHistory | None = None,
) -> tuple[FeatureValueHistory, bool]:
    """Set a jurisdiction's value of a feature from `valid_from` on (plan_new_interval), with
    the pair's change record; the history after, and whether an interval was opened (not
    when the same one is stored already). `current` is the history the caller read already
    (to check If-Match against it). 404 for an unknown code or key, 409 when the interval
    would rewrite or overlap history, 422 when invalid."""
    if current is None:
        current = await get_history(session, code=code, key=key)
    new = build_record(FeatureValueRecord, {**data, "jurisdiction_code": code, "feature_key": key})
    records = plan_new_interval(current.history, new)
    if records is not None:
        await save_feature_values(session, records, actor=actor)
    return await get_history(session, code=code, key=key), records is not None

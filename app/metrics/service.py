"""Metric definitions and observations: reads and writes."""

from datetime import date
from typing import Any

from sqlalchemy import Text, cast, func, literal, select, text, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core.errors import NotFoundError
from app.core.records import build_record
from app.jurisdictions.models import Jurisdiction
from app.metrics.models import Metric, Observation, ObservationSource
from app.metrics.records import MetricRecord, ObservationRecord
from app.metrics.schemas import BatchResult, MetricRead, ObservationRead
from app.metrics.writes import save_metric, save_observations
from app.sources.models import Source

Counterpart = aliased(Jurisdiction, name="counterpart")


class MetricNotFound(NotFoundError):
    def __init__(self, key: str) -> None:
        super().__init__(f"No metric with key {key!r}.")


async def list_metrics(session: AsyncSession, *, after: str | None, limit: int) -> list[MetricRead]:
    """Metric definitions by key, after the cursor; `limit + 1` rows."""
    stmt = select(Metric).order_by(Metric.key).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(Metric.key > after)
    return [MetricRead.model_validate(m, from_attributes=True) for m in await session.scalars(stmt)]


async def get_metric(session: AsyncSession, key: str) -> MetricRead:
    """One metric definition; MetricNotFound if unknown."""
    metric = await session.scalar(select(Metric).where(Metric.key == key))
    if metric is None:
        raise MetricNotFound(key)
    return MetricRead.model_validate(metric, from_attributes=True)


async def metric_ids_for(session: AsyncSession, keys: list[str]) -> dict[str, int]:
    """Internal ids of metric keys; a 404 naming every unknown one."""
    rows = await session.execute(select(Metric.key, Metric.id).where(Metric.key.in_(keys)))
    found = {key: internal for key, internal in rows.all()}
    unknown = [key for key in keys if key not in found]
    if unknown:
        raise NotFoundError(f"No metric with key {', '.join(repr(k) for k in unknown)}.")
    return {key: found[key] for key in keys}


async def put_metric(
    session: AsyncSession, *, key: str, data: dict[str, Any], actor: str
) -> MetricRead:
    """Create or replace a metric definition, with its change record; 422 when invalid or
    when the stored observations would no longer fit it (bilateral or not)."""
    record = build_record(MetricRecord, {**data, "key": key})
    await save_metric(session, record, actor=actor)
    return await get_metric(session, key)


async def upsert_observations(
    session: AsyncSession, *, key: str, data: list[dict[str, Any]], actor: str
) -> BatchResult:
    """Create new observations of a metric and update changed ones, by (jurisdiction, period,
    counterpart), with a change record each; all or nothing: a 422 naming every invalid one
    by its number in `data`."""
    records = [
        build_record(ObservationRecord, {**o, "metric_key": key}, at=("observations", number))
        for number, o in enumerate(data)
    ]
    planned = await save_observations(session, records, actor=actor)
    return BatchResult(
        created=len(planned.create), updated=len(planned.change), unchanged=planned.unchanged
    )


def _source_ids() -> Any:
    return (
        select(
            func.coalesce(
                func.array_agg(aggregate_order_by(Source.slug, Source.slug)), text("'{}'::text[]")
            )
        )
        .join(ObservationSource, ObservationSource.source_id == Source.id)
        .where(ObservationSource.observation_id == Observation.id)
        .scalar_subquery()
    )


def _sort_key() -> Any:
    return tuple_(
        Jurisdiction.code,
        Metric.key,
        func.coalesce(Counterpart.code, literal("")),
        Observation.period_start,
        Observation.period,
    )


def observation_cursor(o: ObservationRead) -> tuple[str, ...]:
    return (
        o.jurisdiction_code,
        o.metric_key,
        o.counterpart_code or "",
        o.period_start.isoformat(),
        o.period,
    )


def _observations(
    *,
    metric_ids: list[int] | None,
    jurisdiction_ids: list[int] | None,
    counterpart_ids: list[int] | None,
    start: date | None,
    end: date | None,
    mrv: int | None,
    after: list[Any] | None,
    limit: int,
) -> Any:
    """The statement of `limit + 1` observations in series order, with the row's position in
    it as `n` (1, 2, ...)."""
    stmt = (
        select(
            Jurisdiction.code.label("jurisdiction_code"),
            Metric.key.label("metric_key"),
            Observation.period,
            Observation.period_start,
            Observation.period_end,
            Observation.value,
            Observation.bound,
            Counterpart.code.label("counterpart_code"),
            _source_ids().label("source_ids"),
            Observation.confidence,
            Observation.checked_on,
            Observation.note,
        )
        .join(Jurisdiction, Jurisdiction.id == Observation.jurisdiction_id)
        .join(Metric, Metric.id == Observation.metric_id)
        .outerjoin(Counterpart, Counterpart.id == Observation.counterpart_id)
    )
    if metric_ids is not None:
        stmt = stmt.where(Observation.metric_id.in_(metric_ids))
    if jurisdiction_ids is not None:
        # Filter on both sides of the join: on the jurisdiction alone, PostgreSQL walks every
        # jurisdiction in code order and rescans observations for each (seen at 1M rows).
        stmt = stmt.where(
            Observation.jurisdiction_id.in_(jurisdiction_ids),
            Jurisdiction.id.in_(jurisdiction_ids),
        )
    if counterpart_ids is not None:
        stmt = stmt.where(Observation.counterpart_id.in_(counterpart_ids))
    if start is not None:
        stmt = stmt.where(Observation.period_start >= start)
    if end is not None:
        stmt = stmt.where(Observation.period_end <= end)
    if mrv is not None:
        recency = func.row_number().over(
            partition_by=(
                Observation.jurisdiction_id,
                Observation.metric_id,
                Observation.counterpart_id,
            ),
            order_by=(Observation.period_end.desc(), Observation.period_start.desc()),
        )
        ranked = stmt.add_columns(recency.label("recency")).subquery()
        stmt = select(*[c for c in ranked.c if c.name != "recency"]).where(ranked.c.recency <= mrv)
        sort = tuple_(
            ranked.c.jurisdiction_code,
            ranked.c.metric_key,
            func.coalesce(ranked.c.counterpart_code, literal("")),
            ranked.c.period_start,
            ranked.c.period,
        )
    else:
        sort = _sort_key()
    if after is not None:
        j, m, c, period_start, period = after
        stmt = stmt.where(
            sort
            > tuple_(
                literal(j),
                literal(m),
                literal(c),
                literal(period_start),
                literal(period),
            )
        )
    position = func.row_number().over(order_by=sort.clauses).label("n")
    return stmt.add_columns(position).order_by(*sort.clauses).limit(limit + 1)


async def list_observations(
    session: AsyncSession,
    *,
    metric_ids: list[int] | None = None,
    jurisdiction_ids: list[int] | None = None,
    counterpart_ids: list[int] | None = None,
    start: date | None = None,
    end: date | None = None,
    mrv: int | None = None,
    after: list[Any] | None = None,
    limit: int,
) -> list[ObservationRead]:
    """Observations matching the filters, in series order; `mrv` keeps the N most recent of
    each (jurisdiction, metric, counterpart) series. `limit + 1` rows."""
    stmt = _observations(
        metric_ids=metric_ids,
        jurisdiction_ids=jurisdiction_ids,
        counterpart_ids=counterpart_ids,
        start=start,
        end=end,
        mrv=mrv,
        after=after,
        limit=limit,
    )
    return [
        ObservationRead.model_validate(row, from_attributes=True)
        for row in await session.execute(stmt)
    ]


# The documented item's fields, in its order: the JSON built by PostgreSQL cannot drift from
# ObservationRead.
_OBSERVATION_FIELDS = tuple(ObservationRead.model_fields)


async def list_observations_json(
    session: AsyncSession,
    *,
    metric_ids: list[int] | None = None,
    jurisdiction_ids: list[int] | None = None,
    counterpart_ids: list[int] | None = None,
    start: date | None = None,
    end: date | None = None,
    mrv: int | None = None,
    after: list[Any] | None = None,
    limit: int,
) -> tuple[str, tuple[str, ...] | None]:
    """The same page as list_observations, its items as one JSON array built by PostgreSQL
    (the fields of ObservationRead, in order), and the cursor key of its last item when a
    next page follows."""
    page = _observations(
        metric_ids=metric_ids,
        jurisdiction_ids=jurisdiction_ids,
        counterpart_ids=counterpart_ids,
        start=start,
        end=end,
        mrv=mrv,
        after=after,
        limit=limit,
    ).subquery("page")
    item = func.json_build_object(
        *(part for name in _OBSERVATION_FIELDS for part in (literal(name), page.c[name]))
    )
    last = page.c.n == limit
    stmt = select(
        # The array as PostgreSQL writes it: text, never parsed in Python.
        cast(
            func.coalesce(
                func.json_agg(aggregate_order_by(item, page.c.n)).filter(page.c.n <= limit),
                text("'[]'::json"),
            ),
            Text,
        ).label("items"),
        func.count().label("fetched"),
        *(
            func.min(page.c[name]).filter(last).label(name)
            for name in ("jurisdiction_code", "metric_key", "counterpart_code", "period_start")
        ),
        func.min(page.c.period).filter(last).label("period"),
    )
    row = (await session.execute(stmt)).one()
    if row.fetched <= limit:
        return row.items, None
    return row.items, (
        row.jurisdiction_code,
        row.metric_key,
        row.counterpart_code or "",
        row.period_start.isoformat(),
        row.period,
    )

"""Plain async factories: each creates one row (flushed, not committed) and returns it."""

from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.models import Event, EventSource
from app.features.models import Feature, FeatureValue, FeatureValueSource
from app.indices.models import CompositeIndex, IndexComponent
from app.jurisdictions.models import Jurisdiction, Regulator
from app.metrics.models import Metric, Observation, ObservationSource
from app.sources.models import Source

R = TypeVar("R")

# The day test values were "checked" against their sources (fixed, so bodies compare).
CHECKED_ON = date(2026, 1, 15)


async def _add(session: AsyncSession, row: R) -> R:
    session.add(row)
    await session.flush()
    return row


async def vacate_region(session: AsyncSession, region: str = "africa") -> None:
    """Move the bundled jurisdictions of `region` to another region, inside the test's
    transaction, so that a test listing `region` sees only the lands it creates (the bundled
    dataset has jurisdictions in every region)."""
    other = "europe" if region != "europe" else "asia_pacific"
    await session.execute(
        update(Jurisdiction).where(Jurisdiction.region == region).values(region=other)
    )
    await session.flush()


async def create_jurisdiction(
    session: AsyncSession,
    code: str = "ZZ",
    *,
    name: str | None = None,
    kind: str = "country",
    region: str = "europe",
    parent: Jurisdiction | None = None,
    currency: str | None = "EUR",
    summary: str | None = None,
) -> Jurisdiction:
    return await _add(
        session,
        Jurisdiction(
            code=code,
            name=name or f"Land {code}",
            kind=kind,
            region=region,
            parent_id=parent.id if parent else None,
            currency=currency,
            summary=summary,
        ),
    )


async def create_regulator(
    session: AsyncSession,
    jurisdiction: Jurisdiction,
    slug: str,
    *,
    name: str = "Regulator",
    acronym: str | None = None,
    remit: list[str] | None = None,
) -> Regulator:
    return await _add(
        session,
        Regulator(
            slug=slug,
            jurisdiction_id=jurisdiction.id,
            name=name,
            acronym=acronym,
            url=None,
            remit=remit or ["virtual_assets"],
        ),
    )


async def create_source(session: AsyncSession, slug: str = "test-source", **fields: Any) -> Source:
    values = {
        "publisher": "Test Publisher",
        "title": f"Source {slug}",
        "kind": "regulator",
        "url": f"https://example.org/{slug}",
    } | fields
    return await _add(session, Source(slug=slug, **values))


async def create_feature(
    session: AsyncSession,
    key: str = "test_feature",
    *,
    value_type: str = "boolean",
    category: str = "market_access",
    allowed_values: list[dict[str, Any]] | None = None,
    higher_is_better: bool | None = True,
    unit: str | None = None,
    inherits: bool = True,
    reaches_special_zones: bool = True,
) -> Feature:
    return await _add(
        session,
        Feature(
            key=key,
            name=key.replace("_", " ").capitalize(),
            category=category,
            value_type=value_type,
            allowed_values=allowed_values,
            higher_is_better=None if value_type in ("enum", "date", "text") else higher_is_better,
            unit=unit,
            description=None,
            inherits=inherits,
            reaches_special_zones=reaches_special_zones,
        ),
    )


async def create_feature_value(
    session: AsyncSession,
    jurisdiction: Jurisdiction,
    feature: Feature,
    value: Any,
    *,
    valid_from: date = date(2020, 1, 1),
    valid_to: date | None = None,
    sources: Sequence[Source] = (),
    confidence: str = "verified",
    checked_on: date = CHECKED_ON,
    note: str | None = None,
) -> FeatureValue:
    row = await _add(
        session,
        FeatureValue(
            jurisdiction_id=jurisdiction.id,
            feature_id=feature.id,
            value=value,
            valid_from=valid_from,
            valid_to=valid_to,
            confidence=confidence,
            checked_on=checked_on,
            note=note,
        ),
    )
    for source in sources:
        await _add(session, FeatureValueSource(feature_value_id=row.id, source_id=source.id))
    return row


async def create_metric(
    session: AsyncSession,
    key: str = "test_metric",
    *,
    unit: str = "count",
    higher_is_better: bool | None = True,
    frequency: str = "annual",
    bilateral: bool = False,
) -> Metric:
    return await _add(
        session,
        Metric(
            key=key,
            name=key.replace("_", " ").capitalize(),
            unit=unit,
            description=None,
            higher_is_better=higher_is_better,
            frequency=frequency,
            bilateral=bilateral,
        ),
    )


async def create_observation(
    session: AsyncSession,
    jurisdiction: Jurisdiction,
    metric: Metric,
    period: str,
    value: float,
    *,
    counterpart: Jurisdiction | None = None,
    sources: Sequence[Source] = (),
    confidence: str = "verified",
    checked_on: date = CHECKED_ON,
    note: str | None = None,
) -> Observation:
    from app.core.periods import parse_period

    start, end = parse_period(period)
    row = await _add(
        session,
        Observation(
            jurisdiction_id=jurisdiction.id,
            metric_id=metric.id,
            period=period,
            period_start=start,
            period_end=end,
            value=value,
            counterpart_id=counterpart.id if counterpart else None,
            confidence=confidence,
            checked_on=checked_on,
            note=note,
        ),
    )
    for source in sources:
        await _add(session, ObservationSource(observation_id=row.id, source_id=source.id))
    return row


async def create_event(
    session: AsyncSession,
    jurisdiction: Jurisdiction,
    slug: str,
    *,
    event_date: date = date(2023, 6, 1),
    kind: str = "law_effective",
    title: str = "Event",
    sources: Sequence[Source] = (),
) -> Event:
    row = await _add(
        session,
        Event(
            slug=slug,
            jurisdiction_id=jurisdiction.id,
            event_date=event_date,
            kind=kind,
            title=title,
            summary=None,
        ),
    )
    for source in sources:
        await _add(session, EventSource(event_id=row.id, source_id=source.id))
    return row


async def create_index(
    session: AsyncSession,
    key: str,
    components: list[tuple[str, Any, float, str]],
    *,
    name: str = "Test index",
) -> CompositeIndex:
    """components: (kind, Feature-or-Metric, weight, transform)."""
    index = await _add(
        session,
        CompositeIndex(key=key, name=name, description=None, methodology="Test methodology."),
    )
    for position, (kind, target, weight, transform) in enumerate(components):
        await _add(
            session,
            IndexComponent(
                index_id=index.id,
                position=position,
                kind=kind,
                feature_id=target.id if kind == "feature" else None,
                metric_id=target.id if kind == "metric" else None,
                weight=weight,
                transform=transform,
            ),
        )
    return index

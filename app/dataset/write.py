"""Writing a planned batch: inserts and updates in dependency order with natural keys resolved
to row ids, the source links, and one change record per created or updated entity."""

from typing import Any

from sqlalchemy import delete, func, insert, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes.models import Change
from app.dataset.plan import ENTITY_NAMES, Plan, entity_key, history_changes
from app.dataset.read import Ids
from app.dataset.schemas import Dataset
from app.events.models import Event, EventSource
from app.events.records import EventRecord
from app.features.models import Feature, FeatureValue, FeatureValueSource
from app.features.records import FeatureRecord, FeatureValueRecord
from app.indices.models import CompositeIndex, IndexComponent
from app.indices.records import IndexRecord
from app.jurisdictions.models import Jurisdiction, Regulator
from app.jurisdictions.records import JurisdictionRecord
from app.metrics.models import Metric, Observation, ObservationSource
from app.metrics.records import MetricRecord, ObservationRecord
from app.scenarios.models import Scenario, ScenarioSource
from app.scenarios.records import ScenarioRecord
from app.sources.models import Source
from app.sources.records import SourceRecord


async def write_changes(session: AsyncSession, plan: Plan, stored: Dataset, *, actor: str) -> None:
    """One change record per created or updated entity (per feature-value history)."""
    changes = [
        {
            "actor": actor,
            "entity": ENTITY_NAMES[entity],
            "entity_key": entity_key(entity, new),
            "action": "create" if before is None else "update",
            "before": None if before is None else before.model_dump(mode="json"),
            "after": new.model_dump(mode="json"),
        }
        for entity, (create, change, _) in plan.items()
        if entity != "feature_values"
        for before, new in [*change, *[(None, r) for r in create]]
    ]
    changes += history_changes(actor, stored, *plan["feature_values"][:2])
    for chunk in range(0, len(changes), 1000):
        await session.execute(insert(Change), changes[chunk : chunk + 1000])


def _found(row_id: int | None) -> int:
    # The plan said the row exists, and the transaction holds it: a miss is a bug.
    assert row_id is not None, "a row planned for update was not found"
    return row_id


_UPDATE_OBSERVATIONS = text(
    """
    UPDATE observation o
       SET value = v.value, period_start = v.period_start, period_end = v.period_end,
           bound = v.bound, confidence = v.confidence, checked_on = v.checked_on,
           note = v.note
      FROM unnest(CAST(:jurisdiction_id AS int[]), CAST(:metric_id AS int[]),
                  CAST(:period AS text[]), CAST(:counterpart_id AS int[]),
                  CAST(:value AS float8[]), CAST(:period_start AS date[]),
                  CAST(:period_end AS date[]), CAST(:bound AS text[]),
                  CAST(:confidence AS text[]), CAST(:checked_on AS date[]),
                  CAST(:note AS text[]))
           AS v(jurisdiction_id, metric_id, period, counterpart_id, value, period_start,
                period_end, bound, confidence, checked_on, note)
     WHERE o.jurisdiction_id = v.jurisdiction_id AND o.metric_id = v.metric_id
       AND o.period = v.period AND o.counterpart_id IS NOT DISTINCT FROM v.counterpart_id
    RETURNING o.id, o.jurisdiction_id, o.metric_id, o.period, o.counterpart_id
    """
)


# The natural key of an observation row, then the columns an update sets.
_OBSERVATION_KEY = ("jurisdiction_id", "metric_id", "period", "counterpart_id")
_OBSERVATION_SET = (
    *_OBSERVATION_KEY,
    *("value", "period_start", "period_end", "bound", "confidence", "checked_on", "note"),
)


class Writer:
    """Bulk inserts and updates in dependency order, resolving natural keys to row ids."""

    def __init__(self, session: AsyncSession, ids: Ids) -> None:
        self.session = session
        # The ids of every row the dataset names, read with its checks; rows created here are
        # added as they are inserted. No table is read whole.
        self.ids = ids

    async def _insert(self, model: Any, rows: list[dict[str, Any]], *returning: Any) -> list[Any]:
        if not rows:
            return []
        result = await self.session.execute(insert(model).returning(*returning), rows)
        return list(result.all())

    async def _insert_named(
        self, kind: str, model: Any, key: Any, rows: list[dict[str, Any]]
    ) -> None:
        """Insert rows of a table with a natural key and remember their ids."""
        for name, row_id in await self._insert(model, rows, key, model.id):
            self.ids[kind][name] = row_id

    async def _update(self, model: Any, key_column: Any, key: Any, values: dict[str, Any]) -> None:
        await self.session.execute(update(model).where(key_column == key).values(**values))

    async def _links(
        self,
        link: Any,
        owner_column: str,
        pairs: list[tuple[int, list[str]]],
        *,
        replaced: int | None = None,
    ) -> None:
        """Link owners to their sources; the first `replaced` owners (stored rows, not new
        ones) lose their old links first. Default: all of them."""
        if not pairs:
            return
        source_ids = self.ids["source"]
        owners = [owner for owner, _ in pairs][:replaced]
        if owners:
            await self.session.execute(delete(link).where(getattr(link, owner_column).in_(owners)))
        rows = [
            {owner_column: owner, "source_id": source_ids[slug]}
            for owner, slugs in pairs
            for slug in dict.fromkeys(slugs)
        ]
        for chunk in range(0, len(rows), 5000):
            await self.session.execute(insert(link), rows[chunk : chunk + 5000])

    async def sources(self, create: list[SourceRecord], change: list[Any]) -> None:
        def row(r: SourceRecord) -> dict[str, Any]:
            return {"slug": r.id, **r.model_dump(exclude={"id"})}

        await self._insert_named("source", Source, Source.slug, [row(r) for r in create])
        for _, r in change:
            values = row(r) | {"updated_at": func.now()}
            await self._update(Source, Source.slug, r.id, values)

    async def jurisdictions(self, create: list[JurisdictionRecord], change: list[Any]) -> None:
        ids = self.ids["jurisdiction"]

        def row(r: JurisdictionRecord) -> dict[str, Any]:
            return r.model_dump(exclude={"regulators", "parent_code"})

        await self._insert_named(
            "jurisdiction", Jurisdiction, Jurisdiction.code, [row(r) for r in create]
        )
        # Parents: with the row when the parent's id is known already, else once every new
        # jurisdiction of the dataset has its id (a parent may come later in the same file).
        later = [r for r in create if r.parent_code]
        for _, r in change:
            values = row(r) | {"updated_at": func.now()}
            if r.parent_code is None or r.parent_code in ids:
                values["parent_id"] = ids[r.parent_code] if r.parent_code else None
            else:
                later.append(r)
            await self._update(Jurisdiction, Jurisdiction.code, r.code, values)
        for r in later:
            await self._update(
                Jurisdiction, Jurisdiction.code, r.code, {"parent_id": ids[r.parent_code]}
            )
        # Regulators: replaced only where they changed.
        touched = create + [r for before, r in change if before.regulators != r.regulators]
        if touched:
            await self.session.execute(
                delete(Regulator).where(
                    Regulator.jurisdiction_id.in_([ids[r.code] for r in touched])
                )
            )
            await self._insert(
                Regulator,
                [
                    {"slug": g.id, "jurisdiction_id": ids[r.code], **g.model_dump(exclude={"id"})}
                    for r in touched
                    for g in r.regulators or []
                ],
                Regulator.id,
            )

    async def features(self, create: list[FeatureRecord], change: list[Any]) -> None:
        def row(r: FeatureRecord) -> dict[str, Any]:
            return r.model_dump(mode="json")

        await self._insert_named("feature", Feature, Feature.key, [row(r) for r in create])
        for _, r in change:
            await self._update(Feature, Feature.key, r.key, row(r) | {"updated_at": func.now()})

    async def metrics(self, create: list[MetricRecord], change: list[Any]) -> None:
        await self._insert_named("metric", Metric, Metric.key, [r.model_dump() for r in create])
        for _, r in change:
            await self._update(
                Metric, Metric.key, r.key, r.model_dump() | {"updated_at": func.now()}
            )

    async def feature_values(self, create: list[FeatureValueRecord], change: list[Any]) -> None:
        if not create and not change:
            return
        jurisdictions, features = self.ids["jurisdiction"], self.ids["feature"]

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
            row_id = await self.session.scalar(
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
                links.append((_found(row_id), r.source_ids))
            else:
                _found(row_id)
        replaced = len(links)
        created = await self._insert(FeatureValue, [row(r) for r in create], FeatureValue.id)
        links += [(row_id, r.source_ids) for (row_id,), r in zip(created, create, strict=True)]
        await self._links(FeatureValueSource, "feature_value_id", links, replaced=replaced)

    async def observations(self, create: list[ObservationRecord], change: list[Any]) -> None:
        if not create and not change:
            return
        jurisdictions, metrics = self.ids["jurisdiction"], self.ids["metric"]

        def row(r: ObservationRecord) -> dict[str, Any]:
            start, end = r.span
            return {
                "jurisdiction_id": jurisdictions[r.jurisdiction_code],
                "metric_id": metrics[r.metric_key],
                "period": r.period,
                "period_start": start,
                "period_end": end,
                "value": r.value,
                "counterpart_id": jurisdictions.get(r.counterpart_code)
                if r.counterpart_code
                else None,
                "bound": r.bound,
                "confidence": r.confidence,
                "checked_on": r.checked_on,
                "note": r.note,
            }

        links: list[tuple[int, list[str]]] = []
        for chunk in range(0, len(change), 5000):
            part = [r for _, r in change[chunk : chunk + 5000]]
            links += await self._update_observations([row(r) for r in part], part)
        replaced = len(links)
        for chunk in range(0, len(create), 5000):
            part = create[chunk : chunk + 5000]
            created = await self._insert(Observation, [row(r) for r in part], Observation.id)
            links += [(row_id, r.source_ids) for (row_id,), r in zip(created, part, strict=True)]
        await self._links(ObservationSource, "observation_id", links, replaced=replaced)

    async def _update_observations(
        self, rows: list[dict[str, Any]], records: list[ObservationRecord]
    ) -> list[tuple[int, list[str]]]:
        """Update stored observations in one statement; their ids with the new source ids."""
        result = await self.session.execute(
            _UPDATE_OBSERVATIONS, {name: [row[name] for row in rows] for name in _OBSERVATION_SET}
        )
        updated = {(j, m, p, c): row_id for row_id, j, m, p, c in result.all()}
        return [
            (_found(updated.get(tuple(row[name] for name in _OBSERVATION_KEY))), record.source_ids)
            for row, record in zip(rows, records, strict=True)
        ]

    async def events(self, create: list[EventRecord], change: list[Any]) -> None:
        if not create and not change:
            return
        jurisdictions = self.ids["jurisdiction"]

        def row(r: EventRecord) -> dict[str, Any]:
            return {
                "slug": r.id,
                "jurisdiction_id": jurisdictions[r.jurisdiction_code],
                "event_date": r.date,
                "kind": r.kind,
                "title": r.title,
                "summary": r.summary,
            }

        links: list[tuple[int, list[str]]] = []
        for _, r in change:
            row_id = await self.session.scalar(
                update(Event).where(Event.slug == r.id).values(**row(r)).returning(Event.id)
            )
            links.append((_found(row_id), r.source_ids))
        replaced = len(links)
        created = await self._insert(Event, [row(r) for r in create], Event.id)
        links += [(row_id, r.source_ids) for (row_id,), r in zip(created, create, strict=True)]
        await self._links(EventSource, "event_id", links, replaced=replaced)

    async def indices(self, create: list[IndexRecord], change: list[Any]) -> None:
        if not create and not change:
            return
        features, metrics = self.ids["feature"], self.ids["metric"]
        await self._insert_named(
            "index",
            CompositeIndex,
            CompositeIndex.key,
            [r.model_dump(exclude={"components"}) for r in create],
        )
        for _, r in change:
            await self._update(
                CompositeIndex,
                CompositeIndex.key,
                r.key,
                r.model_dump(exclude={"components"}) | {"updated_at": func.now()},
            )
        ids = self.ids["index"]
        touched = create + [r for _, r in change]
        await self.session.execute(
            delete(IndexComponent).where(IndexComponent.index_id.in_([ids[r.key] for r in touched]))
        )
        await self.session.execute(
            insert(IndexComponent),
            [
                {
                    "index_id": ids[r.key],
                    "position": position,
                    "kind": c.kind,
                    "feature_id": features[c.key] if c.kind == "feature" else None,
                    "metric_id": metrics[c.key] if c.kind == "metric" else None,
                    "weight": c.weight,
                    "transform": c.transform,
                }
                for r in touched
                for position, c in enumerate(r.components)
            ],
        )

    async def scenarios(self, create: list[ScenarioRecord], change: list[Any]) -> None:
        if not create and not change:
            return
        jurisdictions, indices = self.ids["jurisdiction"], self.ids["index"]

        def row(r: ScenarioRecord) -> dict[str, Any]:
            data = r.model_dump(mode="json", exclude={"id", "index", "jurisdiction", "source_ids"})
            return {
                "slug": r.id,
                "index_id": indices[r.index],
                "jurisdiction_id": jurisdictions[r.jurisdiction],
                **data,
            }

        links: list[tuple[int, list[str]]] = []
        for _, r in change:
            row_id = await self.session.scalar(
                update(Scenario)
                .where(Scenario.slug == r.id)
                .values(**row(r), updated_at=func.now())
                .returning(Scenario.id)
            )
            links.append((_found(row_id), r.source_ids))
        replaced = len(links)
        created = await self._insert(Scenario, [row(r) for r in create], Scenario.id)
        links += [(row_id, r.source_ids) for (row_id,), r in zip(created, create, strict=True)]
        await self._links(ScenarioSource, "scenario_id", links, replaced=replaced)

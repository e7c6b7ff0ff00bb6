"""The synthetic benchmark dataset: deterministic rows for every table, built without a database.

Codes are ISO 3166 user-assigned alpha-2 codes (`XA`..`XZ`, `QM`..`QZ`, `AA`, `ZZ`) and
subdivisions or special zones under them (`XA-03`, `XA-03-FZ`), so they never clash with a
real jurisdiction. Observations are streamed (a million rows are never held in memory twice).
"""

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bench.series import SeriesPlan, plan_series
from bench.vocab import (
    BILATERAL_STEMS,
    CATEGORIES,
    ENUM_OPTIONS,
    EVENT_KINDS,
    FREQUENCIES,
    METRIC_STEMS,
    PARENT_CODES,
    REGIONS,
    REMITS,
    SOURCE_KINDS,
    VALUE_TYPES,
    confidence,
    place_name,
    sentence,
)

INDEX_KEY = "bench_hub"
GENERATOR = "bench.generate"


@dataclass(frozen=True)
class Sizes:
    """Row counts at a scale (1.0 = SPEC section 6: 300 jurisdictions, 1M observations)."""

    jurisdictions: int
    sources: int
    observations: int
    events_per_jurisdiction: int = 10
    features: int = 120
    metrics: int = 60
    bilateral_metrics: int = 4

    @classmethod
    def at(cls, scale: float) -> "Sizes":
        # 60 jurisdictions at least, so that the 50-code comparison always has its codes.
        return cls(
            jurisdictions=max(60, round(300 * scale)),
            sources=max(20, round(400 * scale)),
            observations=max(1000, round(1_000_000 * scale)),
        )


@dataclass
class Dataset:
    """Every table's rows in load order; observations and their links are streamed."""

    scale: float
    sizes: Sizes
    seed: int
    today: date
    tables: dict[str, tuple[Sequence[str], list[tuple[Any, ...]]]] = field(default_factory=dict)
    plan: SeriesPlan = field(default_factory=lambda: SeriesPlan(seed=0))


def _jurisdictions(
    rng: random.Random, sizes: Sizes
) -> list[tuple[int, str, str, str, int | None, str, str, str]]:
    """(id, code, name, kind, parent_id, region, currency, summary); parents first."""
    n_parents = min(len(PARENT_CODES), max(2, sizes.jurisdictions // 7))
    rows: list[tuple[int, str, str, str, int | None, str, str, str]] = []
    for i, code in enumerate(PARENT_CODES[:n_parents]):
        kind = "supranational" if code == "ZZ" else "territory" if i % 8 == 7 else "country"
        name = place_name(rng)
        summary = f"{name}: {sentence(rng, 18)} {sentence(rng, 14)}"
        rows.append((i + 1, code, name, kind, None, REGIONS[i % 6], f"X{code}", summary))
    counters = [0] * n_parents
    last_subdivision: list[tuple[int, str] | None] = [None] * n_parents
    while len(rows) < sizes.jurisdictions:
        p = len(rows) % n_parents
        parent_id, parent_code, *_, region, currency, _ = rows[p]
        counters[p] += 1
        sub = last_subdivision[p]
        name = place_name(rng)
        summary = f"{name}: {sentence(rng, 16)}"
        jid = len(rows) + 1
        if counters[p] % 6 == 0 and sub is not None:
            zone = f"{name} Free Zone"
            rows.append(
                (jid, f"{sub[1]}-FZ", zone, "special_zone", sub[0], region, currency, summary)
            )
        else:
            code = f"{parent_code}-{counters[p]:02d}"
            rows.append((jid, code, name, "subdivision", parent_id, region, currency, summary))
            last_subdivision[p] = (jid, code)
    return rows


def build(scale: float, seed: int, today: date) -> Dataset:
    """The whole dataset at `scale`, deterministic for a (scale, seed, today)."""
    sizes = Sizes.at(scale)
    rng = random.Random(seed)
    ds = Dataset(scale=scale, sizes=sizes, seed=seed, today=today)
    t = ds.tables

    t["source"] = (
        ("id", "slug", "publisher", "title", "url", "published_on", "accessed_on", "kind", "note"),
        [
            (
                i,
                f"bench-source-{i:04d}",
                f"{place_name(rng)} {rng.choice(('Authority', 'Institute', 'Times', 'Research'))}",
                sentence(rng, 7).rstrip("."),
                f"https://example.org/bench/{i:04d}",
                today - timedelta(days=rng.randint(30, 4000)),
                today - timedelta(days=rng.randint(0, 29)),
                SOURCE_KINDS[i % len(SOURCE_KINDS)],
                "Reported second-hand; the original could not be found." if i % 25 == 0 else None,
            )
            for i in range(1, sizes.sources + 1)
        ],
    )
    source_ids = [row[0] for row in t["source"][1]]

    jurisdictions = _jurisdictions(rng, sizes)
    t["jurisdiction"] = (
        ("id", "code", "name", "kind", "parent_id", "region", "currency", "summary"),
        list(jurisdictions),
    )
    pools = {j[0]: rng.sample(source_ids, min(8, len(source_ids))) for j in jurisdictions}

    regulators: list[tuple[Any, ...]] = []
    for jid, code, name, *_ in jurisdictions:
        for k in range(1, rng.randint(1, 3) + 1):
            regulators.append(
                (
                    len(regulators) + 1,
                    f"{code.lower()}-reg-{k}",
                    jid,
                    f"{name} {place_name(rng)} Authority",
                    f"{code.split('-')[0]}{('FSA', 'MA', 'SC')[k - 1]}",
                    f"https://example.org/{code.lower()}/reg-{k}",
                    sorted(rng.sample(REMITS, rng.randint(1, 4))),
                )
            )
    t["regulator"] = (
        ("id", "slug", "jurisdiction_id", "name", "acronym", "url", "remit"),
        regulators,
    )

    features: list[tuple[Any, ...]] = []
    for ci, category in enumerate(CATEGORIES):
        for n in range(sizes.features // len(CATEGORIES)):
            vtype = VALUE_TYPES[(ci + n) % len(VALUE_TYPES)]
            options = ENUM_OPTIONS[(ci + n) % len(ENUM_OPTIONS)] if vtype == "enum" else None
            allowed = (
                json.dumps([{"value": v, "label": lb, "score": sc} for v, lb, sc in options])
                if options
                else None
            )
            directed = vtype in ("boolean", "integer", "number", "percent")
            features.append(
                (
                    len(features) + 1,
                    f"{category}_{vtype}_{n + 1:02d}",
                    f"{category.replace('_', ' ').capitalize()}: {vtype} {n + 1}",
                    category,
                    vtype,
                    {"integer": "days", "number": "USD thousands", "percent": "percent"}.get(vtype),
                    allowed,
                    rng.random() < 0.75 if directed else None,
                    sentence(rng, 12),
                )
            )
    t["feature"] = (
        (
            "id",
            "key",
            "name",
            "category",
            "value_type",
            "unit",
            "allowed_values",
            "higher_is_better",
            "description",
        ),
        features,
    )

    metrics: list[tuple[Any, ...]] = []
    for i in range(sizes.metrics - sizes.bilateral_metrics):
        stem, unit, better = METRIC_STEMS[i % len(METRIC_STEMS)]
        key = f"{stem}_{i // len(METRIC_STEMS) + 1}"
        frequency = FREQUENCIES[i % len(FREQUENCIES)]
        name = key.replace("_", " ").capitalize()
        metrics.append((i + 1, key, name, unit, sentence(rng, 10), better, frequency, False))
    for i in range(sizes.bilateral_metrics):
        stem, unit = BILATERAL_STEMS[i % len(BILATERAL_STEMS)]
        key = f"{stem}_{i // len(BILATERAL_STEMS) + 1}"
        name = key.replace("_", " ").capitalize()
        metrics.append((len(metrics) + 1, key, name, unit, sentence(rng, 10), None, "annual", True))
    t["metric"] = (
        ("id", "key", "name", "unit", "description", "higher_is_better", "frequency", "bilateral"),
        metrics,
    )

    _feature_values(ds, rng, jurisdictions, features, pools)
    ds.plan = plan_series(
        rng,
        seed=seed,
        today=today,
        target=sizes.observations,
        jurisdictions=jurisdictions,
        metrics=metrics,
        pools=pools,
    )
    _events(ds, rng, jurisdictions, pools)
    _index(ds, features, metrics)
    return ds


def _value(rng: random.Random, feature: Sequence[Any], code: str, first: date, span: int) -> Any:
    vtype = feature[4]
    if vtype == "boolean":
        return rng.random() < 0.6
    if vtype == "enum":
        return rng.choice(json.loads(feature[6]))["value"]
    if vtype == "integer":
        return rng.randint(0, 500)
    if vtype == "number":
        return round(rng.uniform(0, 10_000), 2)
    if vtype == "percent":
        return round(rng.uniform(0, 45), 1)
    if vtype == "date":
        return (first + timedelta(days=rng.randrange(span))).isoformat()
    return f"{sentence(rng, 6)} ({code})"


def _feature_values(
    ds: Dataset,
    rng: random.Random,
    jurisdictions: Sequence[tuple[Any, ...]],
    features: Sequence[tuple[Any, ...]],
    pools: dict[int, list[int]],
) -> None:
    """80% of (jurisdiction, feature) pairs have 2-4 adjoining intervals; the last is usually
    open, sometimes closed (a repealed rule), so some pairs have nothing in force today."""
    first = date(2012, 1, 1)
    span = (ds.today - timedelta(days=30) - first).days
    values: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    for jid, code, *_ in jurisdictions:
        pool = pools[jid]
        for feature in features:
            if rng.random() >= 0.8:
                continue
            starts = sorted(
                first + timedelta(days=d) for d in rng.sample(range(span), rng.randint(2, 4))
            )
            closed = rng.random() < 0.08
            for i, valid_from in enumerate(starts):
                if i + 1 < len(starts):
                    valid_to: date | None = starts[i + 1]
                else:
                    valid_to = valid_from + timedelta(days=rng.randint(30, 900)) if closed else None
                vid = len(values) + 1
                note = "Estimated from secondary reporting." if rng.random() < 0.05 else None
                values.append(
                    (
                        vid,
                        jid,
                        feature[0],
                        json.dumps(_value(rng, feature, code, first, span)),
                        valid_from,
                        valid_to,
                        note,
                        confidence(rng),
                    )
                )
                cited = rng.sample(pool, 2 if rng.random() < 0.3 else 1)
                links.extend((vid, source_id) for source_id in cited)
    ds.tables["feature_value"] = (
        ("id", "jurisdiction_id", "feature_id", "value", "valid_from", "valid_to", "note",
         "confidence"),
        values,
    )  # fmt: skip
    ds.tables["feature_value_source"] = (("feature_value_id", "source_id"), links)


def _events(
    ds: Dataset,
    rng: random.Random,
    jurisdictions: Sequence[tuple[Any, ...]],
    pools: dict[int, list[int]],
) -> None:
    first = date(2010, 1, 1)
    span = (ds.today - first).days
    events: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    for jid, code, name, *_ in jurisdictions:
        for k in range(1, ds.sizes.events_per_jurisdiction + 1):
            eid = len(events) + 1
            kind = rng.choice(EVENT_KINDS)
            events.append(
                (
                    eid,
                    f"{code.lower()}-event-{k:02d}",
                    jid,
                    first + timedelta(days=rng.randrange(span)),
                    kind,
                    f"{name}: {kind.replace('_', ' ')} ({sentence(rng, 4).rstrip('.')})",
                    sentence(rng, 20),
                )
            )
            links.extend((eid, s) for s in rng.sample(pools[jid], rng.randint(1, 2)))
    ds.tables["event"] = (
        ("id", "slug", "jurisdiction_id", "event_date", "kind", "title", "summary"),
        events,
    )
    ds.tables["event_source"] = (("event_id", "source_id"), links)


def _index(
    ds: Dataset, features: Sequence[tuple[Any, ...]], metrics: Sequence[tuple[Any, ...]]
) -> None:
    """`bench_hub`: three enum, two boolean and two numeric features, three metrics."""

    def pick(types: tuple[str, ...], count: int) -> list[int]:
        chosen: list[int] = []
        for f in features:
            if f[4] in types and f[3] not in {features[c - 1][3] for c in chosen}:
                chosen.append(f[0])
            if len(chosen) == count:
                break
        return chosen

    enums = pick(("enum",), 3)
    booleans = [f[0] for f in features if f[4] == "boolean" and f[7]][:2]
    numbers = pick(("integer", "percent"), 2)
    series_metrics = [m[0] for m in metrics if not m[7] and m[6] == "annual"][:3]
    weights = (0.14, 0.12, 0.10, 0.10, 0.08, 0.10, 0.08, 0.10, 0.10, 0.08)
    parts: list[tuple[str, int, str]] = [
        *(("feature", f, "enum_score") for f in enums),
        *(("feature", f, "boolean") for f in booleans),
        *(("feature", f, "minmax") for f in numbers),
        ("metric", series_metrics[0], "log_minmax"),
        ("metric", series_metrics[1], "log_minmax"),
        ("metric", series_metrics[2], "rank"),
    ]
    ds.tables["composite_index"] = (
        ("id", "key", "name", "description", "methodology"),
        [
            (
                1,
                INDEX_KEY,
                "Benchmark hub index",
                "A synthetic composite of ten components for the load benchmark.",
                "Weighted mean of 0-1 component scores (enum scores, booleans, min-max, "
                "log min-max and rank across the compared set), scaled to 0-100.",
            )
        ],
    )
    ds.tables["index_component"] = (
        ("index_id", "position", "kind", "feature_id", "metric_id", "weight", "transform"),
        [
            (
                1,
                position,
                kind,
                target if kind == "feature" else None,
                target if kind == "metric" else None,
                weight,
                transform,
            )
            for position, ((kind, target, transform), weight) in enumerate(
                zip(parts, weights, strict=True), start=1
            )
        ],
    )
    marker = {"generator": GENERATOR, "scale": ds.scale, "seed": ds.seed, "today": str(ds.today)}
    first = ds.tables["jurisdiction"][1][0]
    ds.tables["change"] = (
        ("actor", "entity", "entity_key", "action", "before", "after"),
        [
            ("bench", "dataset", "bench", "create", None, json.dumps(marker)),
            ("bench", "jurisdiction", first[1], "create", None, json.dumps({"name": first[2]})),
            ("bench", "composite_index", INDEX_KEY, "create", None, json.dumps({"components": 10})),
            (
                "bench",
                "jurisdiction",
                first[1],
                "update",
                json.dumps({"summary": None}),
                json.dumps({"summary": first[7]}),
            ),
        ],
    )

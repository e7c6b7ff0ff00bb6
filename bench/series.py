"""Observation series: planned up front (who, which metric, how long), streamed as rows.

The plan is small (tens of thousands of series); the million observations and their source
links are generated lazily, in the same order twice, so their ids agree without being stored.
"""

import calendar
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from bench.vocab import FREQUENCIES, HISTORY, confidence


@dataclass(frozen=True)
class Series:
    jurisdiction_id: int
    metric_id: int
    counterpart_id: int | None
    frequency: str
    length: int
    base: float
    confidence: str
    source_id: int
    second_source_id: int


@dataclass
class SeriesPlan:
    """Every series of the dataset; rows are produced on demand, deterministic for a seed."""

    seed: int
    series: list[Series] = field(default_factory=list)
    periods: dict[str, list[tuple[str, date, date]]] = field(default_factory=dict)

    @property
    def observation_count(self) -> int:
        return sum(s.length for s in self.series)

    def observation_rows(self) -> Iterator[tuple[Any, ...]]:
        """(id, jurisdiction_id, metric_id, period, start, end, value, counterpart, ...)."""
        rng = random.Random(self.seed * 7 + 1)
        oid = 0
        for s in self.series:
            value = s.base
            for period, start, end in self.periods[s.frequency][-s.length :]:
                oid += 1
                value *= 1.0 + rng.gauss(0.01, 0.05)
                yield (
                    oid,
                    s.jurisdiction_id,
                    s.metric_id,
                    period,
                    start,
                    end,
                    round(value, 4),
                    s.counterpart_id,
                    s.confidence,
                    None,
                )

    def observation_source_rows(self) -> Iterator[tuple[int, int]]:
        """One source per observation; every tenth observation cites a second one."""
        oid = 0
        for s in self.series:
            for _ in range(s.length):
                oid += 1
                yield (oid, s.source_id)
                if oid % 10 == 0:
                    yield (oid, s.second_source_id)


def periods(frequency: str, today: date) -> list[tuple[str, date, date]]:
    """The last HISTORY[frequency] complete periods before `today`, oldest first."""
    out: list[tuple[str, date, date]] = []
    if frequency == "annual":
        for year in range(today.year - HISTORY["annual"], today.year):
            out.append((str(year), date(year, 1, 1), date(year, 12, 31)))
    elif frequency == "quarterly":
        index = today.year * 4 + (today.month - 1) // 3  # the current quarter, excluded
        for q in range(index - HISTORY["quarterly"], index):
            year, quarter = divmod(q, 4)
            first = 3 * quarter + 1
            last = first + 2
            end = date(year, last, calendar.monthrange(year, last)[1])
            out.append((f"{year}-Q{quarter + 1}", date(year, first, 1), end))
    else:
        index = today.year * 12 + today.month - 1  # the current month, excluded
        for m in range(index - HISTORY["monthly"], index):
            year, month0 = divmod(m, 12)
            end = date(year, month0 + 1, calendar.monthrange(year, month0 + 1)[1])
            out.append((f"{year}-{month0 + 1:02d}", date(year, month0 + 1, 1), end))
    return out


def plan_series(
    rng: random.Random,
    *,
    seed: int,
    today: date,
    target: int,
    jurisdictions: Sequence[tuple[Any, ...]],
    metrics: Sequence[tuple[Any, ...]],
    pools: dict[int, list[int]],
) -> SeriesPlan:
    """Plan every series (92% coverage, ragged starts, five counterparts per bilateral
    series), then shorten them proportionally so that they hold `target` observations."""
    plan = SeriesPlan(seed=seed, periods={f: periods(f, today) for f in FREQUENCIES})
    parents = [j[0] for j in jurisdictions if j[4] is None]
    planned: list[Series] = []
    for mid, _key, _, unit, _, _, frequency, bilateral in metrics:
        scale = rng.uniform(5, 60) if unit == "percent" else 10 ** rng.uniform(1, 6)
        full = HISTORY[frequency]
        for jid, *_ in jurisdictions:
            pool = pools[jid]
            counterparts: list[int | None]
            if bilateral:
                others = [p for p in parents if p != jid]
                counterparts = list(rng.sample(others, min(5, len(others))))
            elif rng.random() < 0.92:
                counterparts = [None]
            else:
                continue
            for counterpart in counterparts:
                source, second = rng.sample(pool, 2)
                planned.append(
                    Series(
                        jurisdiction_id=jid,
                        metric_id=mid,
                        counterpart_id=counterpart,
                        frequency=frequency,
                        length=rng.randint(full // 2, full),
                        base=scale * rng.uniform(0.3, 3.0),
                        confidence=confidence(rng),
                        source_id=source,
                        second_source_id=second,
                    )
                )
    total = sum(s.length for s in planned)
    target = min(target, total)
    factor = target / total
    lengths = [max(1, math.floor(s.length * factor)) for s in planned]
    order = list(range(len(planned)))
    rng.shuffle(order)
    diff = target - sum(lengths)
    while diff != 0:
        for i in order:
            if diff > 0 and lengths[i] < planned[i].length:
                lengths[i] += 1
                diff -= 1
            elif diff < 0 and lengths[i] > 1:
                lengths[i] -= 1
                diff += 1
            if diff == 0:
                break
    plan.series = [replace(s, length=n) for s, n in zip(planned, lengths, strict=True)]
    return plan

"""A small world with hand-checkable numbers, shared by the compare, scores and scenario tests.

    feature zz_retail (boolean, higher is better): XA true, ZB true,
            ZC false until 2023-01-01 then true
    feature zz_regime (enum licence 1.0 / registration 0.6 / none 0.0):
            XA licence, ZB registration, ZC none
    feature zz_tax (percent, lower is better): XA 10, ZB 20, ZC none
    feature zz_note (text): XA "sandbox since 2019"
    metric  zz_firms (count, higher is better): XA 2024 = 10; ZB 2023 = 5, 2024-Q2 = 7
    metric  zz_flow (bilateral)
    index   zz_index: zz_regime enum_score 0.5, zz_tax minmax 0.25, zz_firms log_minmax 0.25
All values from 2020-01-01 unless said.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    create_feature,
    create_feature_value,
    create_index,
    create_jurisdiction,
    create_metric,
    create_observation,
    create_source,
)

REGIME = [
    {"value": "licence", "label": "Licence", "score": 1.0},
    {"value": "registration", "label": "Registration", "score": 0.6},
    {"value": "none", "label": "None", "score": 0.0},
]


@dataclass
class World:
    codes: str = "XA,ZB,ZC"


async def build_world(session: AsyncSession) -> World:
    xa = await create_jurisdiction(session, "XA", name="Zedland A")
    zb = await create_jurisdiction(session, "ZB", name="Zedland B")
    zc = await create_jurisdiction(session, "ZC", name="Zedland C")
    law = await create_source(session, "zz-law")
    news = await create_source(session, "zz-news", kind="news")
    retail = await create_feature(session, "zz_retail")
    regime = await create_feature(
        session, "zz_regime", value_type="enum", category="licensing", allowed_values=REGIME
    )
    tax = await create_feature(
        session,
        "zz_tax",
        value_type="percent",
        category="taxation",
        higher_is_better=False,
        unit="percent",
    )
    note = await create_feature(session, "zz_note", value_type="text", category="innovation")
    for land in (xa, zb):
        await create_feature_value(session, land, retail, True, sources=[law])
    await create_feature_value(session, zc, retail, False, valid_to=date(2023, 1, 1), sources=[law])
    await create_feature_value(
        session,
        zc,
        retail,
        True,
        valid_from=date(2023, 1, 1),
        sources=[news],
        confidence="reported",
    )
    for land, value in ((xa, "licence"), (zb, "registration"), (zc, "none")):
        await create_feature_value(session, land, regime, value, sources=[law])
    await create_feature_value(session, xa, tax, 10, sources=[law])
    await create_feature_value(session, zb, tax, 20, sources=[law])
    await create_feature_value(session, xa, note, "sandbox since 2019", sources=[news])
    firms = await create_metric(session, "zz_firms")
    await create_metric(session, "zz_flow", unit="percent", bilateral=True)
    await create_observation(session, xa, firms, "2024", 10, sources=[law])
    await create_observation(session, zb, firms, "2023", 5, sources=[news])
    await create_observation(session, zb, firms, "2024-Q2", 7, sources=[news])
    await create_index(
        session,
        "zz_index",
        [
            ("feature", regime, 0.5, "enum_score"),
            ("feature", tax, 0.25, "minmax"),
            ("metric", firms, 0.25, "log_minmax"),
        ],
    )
    return World()

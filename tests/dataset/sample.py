"""A small, complete dataset in the bundled format, for loader tests independent of the
curated data."""

import copy
from typing import Any

_SAMPLE: dict[str, list[dict[str, Any]]] = {
    "sources": [
        {
            "id": "qa-gazette-2021",
            "publisher": "Qland Gazette",
            "title": "Virtual Assets Act",
            "url": "https://example.org/qa/vaa",
            "published_on": "2021-03-01",
            "accessed_on": "2026-11-24",
            "kind": "law",
            "note": None,
        },
        {
            "id": "qb-news-2024",
            "publisher": "Daily Qb",
            "title": "Firms counted",
            "url": "https://example.org/qb/news",
            "published_on": None,
            "accessed_on": "2026-11-24",
            "kind": "news",
            "note": "Secondary report (S).",
        },
    ],
    "jurisdictions": [
        {
            "code": "QA",
            "name": "Qland",
            "kind": "country",
            "parent_code": None,
            "region": "europe",
            "currency": "EUR",
            "summary": "A test land.",
            "regulators": [
                {
                    "id": "qa-vaa",
                    "name": "Virtual Asset Authority",
                    "acronym": "VAA",
                    "url": "https://example.org/vaa",
                    "remit": ["virtual_assets"],
                }
            ],
        },
        {
            "code": "QA-NORTH",
            "name": "North Qland",
            "kind": "subdivision",
            "parent_code": "QA",
            "region": "europe",
            "currency": "EUR",
            "summary": None,
            "regulators": [],
        },
        {
            "code": "QB",
            "name": "Qbia",
            "kind": "territory",
            "parent_code": None,
            "region": "asia_pacific",
            "currency": "USD",
            "summary": None,
            "regulators": [],
        },
    ],
    "features": [
        {
            "key": "qq_retail",
            "name": "Retail allowed",
            "category": "market_access",
            "value_type": "boolean",
            "unit": None,
            "allowed_values": None,
            "higher_is_better": True,
            "description": None,
        },
        {
            "key": "qq_regime",
            "name": "Regime",
            "category": "licensing",
            "value_type": "enum",
            "unit": None,
            "allowed_values": [
                {"value": "licence", "label": "Licence", "score": 1.0},
                {"value": "none", "label": "None", "score": 0.0},
            ],
            "higher_is_better": None,
            "description": "Licensing regime.",
        },
        {
            "key": "qq_cgt",
            "name": "Capital gains tax",
            "category": "taxation",
            "value_type": "percent",
            "unit": "percent",
            "allowed_values": None,
            "higher_is_better": False,
            "description": None,
        },
    ],
    "metrics": [
        {
            "key": "qq_firms",
            "name": "Licensed firms",
            "unit": "count",
            "description": None,
            "higher_is_better": True,
            "frequency": "irregular",
            "bilateral": False,
        },
        {
            "key": "qq_flow",
            "name": "Talent flow share",
            "unit": "percent",
            "description": None,
            "higher_is_better": None,
            "frequency": "annual",
            "bilateral": True,
        },
    ],
    "feature_values": [
        {
            "jurisdiction_code": "QA",
            "feature_key": "qq_regime",
            "value": "none",
            "valid_from": "2015-01-01",
            "valid_to": "2021-06-01",
            "note": None,
            "source_ids": ["qa-gazette-2021"],
            "confidence": "verified",
        },
        {
            "jurisdiction_code": "QA",
            "feature_key": "qq_regime",
            "value": "licence",
            "valid_from": "2021-06-01",
            "valid_to": None,
            "note": "Act in force.",
            "source_ids": ["qa-gazette-2021"],
            "confidence": "verified",
        },
        {
            "jurisdiction_code": "QA",
            "feature_key": "qq_retail",
            "value": True,
            "valid_from": "2021-06-01",
            "valid_to": None,
            "note": None,
            "source_ids": ["qa-gazette-2021"],
            "confidence": "verified",
        },
        {
            "jurisdiction_code": "QB",
            "feature_key": "qq_cgt",
            "value": 15.5,
            "valid_from": "2020-01-01",
            "valid_to": None,
            "note": None,
            "source_ids": ["qb-news-2024"],
            "confidence": "reported",
        },
    ],
    "observations": [
        {
            "jurisdiction_code": "QA",
            "metric_key": "qq_firms",
            "period": "2023",
            "value": 4.0,
            "counterpart_code": None,
            "source_ids": ["qa-gazette-2021"],
            "confidence": "verified",
            "note": None,
        },
        {
            "jurisdiction_code": "QA",
            "metric_key": "qq_firms",
            "period": "2024-06-30",
            "value": 7.0,
            "counterpart_code": None,
            "source_ids": ["qb-news-2024"],
            "confidence": "reported",
            "note": "As reported.",
        },
        {
            "jurisdiction_code": "QA",
            "metric_key": "qq_flow",
            "period": "2024",
            "value": 45.0,
            "counterpart_code": "QB",
            "source_ids": ["qb-news-2024"],
            "confidence": "reported",
            "note": None,
        },
    ],
    "events": [
        {
            "id": "qa-2021-06-01-act",
            "jurisdiction_code": "QA",
            "date": "2021-06-01",
            "kind": "law_effective",
            "title": "Virtual Assets Act in force",
            "summary": None,
            "source_ids": ["qa-gazette-2021"],
        },
    ],
    "indices": [
        {
            "key": "qq_index",
            "name": "Q index",
            "description": None,
            "methodology": "Test.",
            "components": [
                {"kind": "feature", "key": "qq_regime", "weight": 0.5, "transform": "enum_score"},
                {"kind": "feature", "key": "qq_cgt", "weight": 0.25, "transform": "minmax"},
                {"kind": "metric", "key": "qq_firms", "weight": 0.25, "transform": "log_minmax"},
            ],
        },
    ],
}


def sample() -> dict[str, list[dict[str, Any]]]:
    """A fresh deep copy of the sample dataset (tests may mutate it)."""
    return copy.deepcopy(_SAMPLE)

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.models import Bound, Confidence
from app.core.records import body_model, patch_model
from app.http.lists import Page
from app.jurisdictions.models import JurisdictionKind, Region
from app.jurisdictions.records import JurisdictionRecord


class RegulatorRead(BaseModel):
    """An authority that regulates part of a jurisdiction's virtual-asset market."""

    id: str = Field(examples=["hk-sfc"])
    jurisdiction_code: str = Field(examples=["HK"])
    name: str = Field(examples=["Securities and Futures Commission"])
    acronym: str | None = Field(default=None, examples=["SFC"])
    url: str | None = Field(default=None, examples=["https://www.sfc.hk"])
    remit: list[str] = Field(examples=[["securities", "virtual_assets"]])


HONG_KONG: dict[str, Any] = {
    "code": "HK",
    "name": "Hong Kong",
    "kind": "territory",
    "parent_code": None,
    "region": "asia_pacific",
    "currency": "HKD",
    "summary": "Special Administrative Region of China ...",
    "regulators": [
        {
            "id": "hk-sfc",
            "jurisdiction_code": "HK",
            "name": "Securities and Futures Commission",
            "acronym": "SFC",
            "url": "https://www.sfc.hk",
            "remit": ["securities", "virtual_assets"],
        }
    ],
    "updated_at": "2026-11-25T07:00:00Z",
}


class JurisdictionRead(BaseModel):
    """A jurisdiction: a country, territory, subdivision, supranational union or special zone."""

    model_config = ConfigDict(json_schema_extra={"examples": [HONG_KONG]})

    code: str
    name: str
    kind: JurisdictionKind
    parent_code: str | None
    region: Region
    currency: str | None
    summary: str | None
    regulators: list[RegulatorRead]
    updated_at: datetime


class JurisdictionCounts(BaseModel):
    """How much data the API holds on a jurisdiction."""

    features_in_force: int = Field(description="Features with a value in force today.")
    feature_values: int = Field(description="Feature values, history included.")
    observations: int
    metrics: int = Field(description="Metrics with at least one observation.")
    events: int
    sources: int = Field(description="Distinct sources cited by its values and events.")


class LatestObservation(BaseModel):
    """The most recent observation of one metric for a jurisdiction."""

    metric_key: str = Field(examples=["licensed_vasp_count"])
    name: str
    unit: str | None
    period: str = Field(examples=["2024-12-18"])
    value: float
    bound: Bound | None = Field(description="Null for a point value; see `ObservationRead`.")
    confidence: Confidence
    checked_on: date
    source_ids: list[str]


class JurisdictionProfile(JurisdictionRead):
    """A jurisdiction with its regulators, data counts and the latest value of each metric."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **HONG_KONG,
                    "counts": {
                        "features_in_force": 48,
                        "feature_values": 61,
                        "observations": 12,
                        "metrics": 6,
                        "events": 9,
                        "sources": 37,
                    },
                    "latest_metrics": [
                        {
                            "metric_key": "licensed_vasp_count",
                            "name": "Licensed virtual-asset trading platforms",
                            "unit": "count",
                            "period": "2024-12-18",
                            "value": 7,
                            "bound": None,
                            "confidence": "verified",
                            "checked_on": "2026-11-30",
                            "source_ids": ["hk-sfc-vatp-register"],
                        }
                    ],
                    "children": [],
                }
            ]
        }
    )

    counts: JurisdictionCounts
    latest_metrics: list[LatestObservation]
    children: list[str] = Field(description="Codes of subdivisions and zones within it.")


class JurisdictionList(Page[JurisdictionRead]):
    """A page of jurisdictions, ordered by code."""


JurisdictionWrite = body_model(
    JurisdictionRecord,
    "JurisdictionWrite",
    drop="code",
    doc="A jurisdiction to create or replace (the code is in the path).",
)
JurisdictionPatch = patch_model(
    JurisdictionRecord,
    "JurisdictionPatch",
    drop="code",
    doc="Fields of a jurisdiction to change; fields not sent keep their value.",
)

"""Path parameters shared by the routes under a jurisdiction (this domain's and others')."""

from typing import Annotated

from fastapi import Path

from app.core.schemas import JurisdictionCode

CodePath = Annotated[
    JurisdictionCode,
    Path(description="Jurisdiction code, case-insensitive (e.g. `HK`, `ae-du`).", examples=["HK"]),
]

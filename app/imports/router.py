"""POST /v1/imports: a dataset in the bundled format, all or nothing (scope `admin`)."""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.core.errors import BadRequest, ValidationFailed, error_responses
from app.core.issues import Issue
from app.dataset import bulk, loader
from app.dataset.io import (
    DatasetInvalid,
    dataset_from_mapping,
    rows_from_csv,
    unknown_lists,
)
from app.dataset.schemas import ENTITY_FILES
from app.dataset.stream import MappingSource
from app.http import strict_json
from app.http.auth import AdminKey
from app.http.dependencies import SessionDep

router = APIRouter(prefix="/v1/imports", tags=["imports"])


class ImportEntity(StrEnum):
    """The entity lists of a dataset (for CSV bodies: which one the rows are)."""

    sources = "sources"
    jurisdictions = "jurisdictions"
    features = "features"
    metrics = "metrics"
    feature_values = "feature_values"
    observations = "observations"
    events = "events"
    indices = "indices"


REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "description": "JSON: an object of entity lists as in the bundled dataset, e.g. "
        '`{"sources": [...], "observations": [...]}`. CSV (`text/csv`): the rows of one '
        "entity, named by `entity` (default observations), with the export's columns; it is "
        "accepted but not listed as a content type, which SDK generators cannot model.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "object"}},
                },
                "example": {
                    "observations": [
                        {
                            "jurisdiction_code": "HK",
                            "metric_key": "licensed_vasp_count",
                            "period": "2025-06-30",
                            "value": 10,
                            "counterpart_code": None,
                            "source_ids": ["hk-sfc-vatp-list"],
                            "confidence": "verified",
                            "note": None,
                        }
                    ]
                },
            },
        },
    }
}


def _errors(issues: list[Issue]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for issue in issues:
        loc: list[str | int] = ["body", issue.file.split(":")[-1].removesuffix(".json")]
        if issue.record is not None:
            loc.append(issue.record)
        if issue.field:
            loc += [int(p) if p.isdigit() else p for p in issue.field.split(".")]
        message = f"{issue.key}: {issue.message}" if issue.key else issue.message
        errors.append({"loc": loc, "msg": message, "type": "invalid_record"})
    return errors


def _invalid(issues: list[Issue]) -> ValidationFailed:
    return ValidationFailed(
        f"{len(issues)} invalid record(s); nothing was imported.", errors=_errors(issues)
    )


@router.post(
    "",
    operation_id="importDataset",
    summary="Import a dataset",
    response_model=loader.ImportReport,
    openapi_extra=REQUEST_BODY,
    responses=error_responses(400, 401, 403, 409, 413, 422, 429, 503),
)
async def import_dataset(
    request: Request,
    session: SessionDep,
    caller: AdminKey,
    dry_run: Annotated[bool, Query(description="Validate and report only.")] = False,
    entity: Annotated[
        ImportEntity, Query(description="For CSV bodies: which entity the rows are.")
    ] = ImportEntity.observations,
) -> loader.ImportReport:
    """Upsert a whole or partial dataset in one transaction: every record is validated with
    the dataset's rules against what is stored, and one invalid record rejects the import
    with a 422 listing every invalid record and where it is (entity, record number, field).
    Nothing is deleted. Same code path as `juriscope import`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if content_type == "text/csv":
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The CSV body is not UTF-8.") from None
        try:
            payload: object = {entity.value: rows_from_csv(entity.value, text)}
        except ValueError as error:
            raise ValidationFailed(
                f"The CSV body is refused: {error}",
                errors=[{"loc": ["body"], "msg": str(error), "type": "csv"}],
            ) from None
    elif content_type in ("application/json", ""):
        try:
            payload = strict_json.loads(raw)
        except strict_json.StrictJSONError as error:
            raise BadRequest(f"The request body is not valid JSON: {error}") from None
    else:
        raise ValidationFailed(
            f"Unsupported Content-Type {content_type!r}: send application/json or text/csv.",
            errors=[
                {
                    "loc": ["header", "content-type"],
                    "msg": "Unsupported media type",
                    "type": "content_type",
                }
            ],
        )
    if bulk.is_large_payload(payload):
        # Staged by COPY, checked and written set-wise, with the same rules and report.
        try:
            return await bulk.import_records(
                session,
                MappingSource(payload),
                actor=caller.id,
                dry_run=dry_run,
                prior_issues=unknown_lists(payload, file=""),
            )
        except DatasetInvalid as error:
            raise _invalid(error.issues) from None
    positions: dict[str, list[int]] = {}
    dataset, issues = dataset_from_mapping(payload, file="", positions=positions)
    if not issues and not any(getattr(dataset, name) for name in ENTITY_FILES):
        raise ValidationFailed(
            "The dataset is empty.",
            errors=[{"loc": ["body"], "msg": "No records", "type": "empty"}],
        )
    try:
        # Records that failed their own rules are reported with the cross-record problems of
        # the others: one answer lists every invalid record.
        return await loader.apply_dataset(
            session,
            dataset,
            actor=caller.id,
            dry_run=dry_run,
            prior_issues=issues,
            positions=positions,
        )
    except DatasetInvalid as error:
        raise _invalid(error.issues) from None

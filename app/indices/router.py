"""Composite indices and their rankings: reads, and writes (scope `write`)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic_core import to_json

from app.core.errors import ValidationFailed, error_responses
from app.core.schemas import Key, ascii_fold, parse_codes
from app.http.auth import READ_ACCESS, WriteKey
from app.http.dependencies import (
    DEFAULT_LIMIT,
    JSON_ONLY,
    AsOf,
    CodesQuery,
    CursorQuery,
    FormatQuery,
    LimitQuery,
    ReadSessionDep,
    SessionDep,
)
from app.http.etags import resource_etag
from app.http.lists import decode_cursor, encode_cursor, next_link
from app.http.negotiation import CSV_CONTENT, csv_response, wants_csv
from app.http.strict_json import parse_number
from app.http.writes import fields_of, put_resource
from app.indices import service
from app.indices.schemas import IndexList, IndexRead, IndexScores, IndexWrite
from app.indices.scoring import score_response
from app.scoring.engine import DEFAULT_MIN_COVERAGE

router = APIRouter(prefix="/v1/indices", tags=["indices"])


KeyPath = Annotated[Key, Path(description="Index key.", examples=["va_hub_competitiveness"])]


def parse_weights(raw: str | None) -> dict[str, float] | None:
    """`key:weight,key:weight` as a mapping; a 422 naming each malformed pair."""
    if raw is None:
        return None
    weights: dict[str, float] = {}
    bad: list[str] = []
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        key, _, number = pair.partition(":")
        try:
            weights[ascii_fold(key, upper=False)] = parse_number(number)
        except ValueError:
            bad.append(pair)
    if bad or not weights:
        raise ValidationFailed(
            f"weights: expected key:number pairs, got {', '.join(bad) or 'nothing'}",
            errors=[
                {"loc": ["query", "weights"], "msg": f"Not key:number: {pair!r}", "type": "weights"}
                for pair in bad or [raw]
            ],
        )
    return weights


@router.get(
    "",
    operation_id="listIndices",
    summary="List composite indices",
    response_model=IndexList,
    dependencies=[READ_ACCESS, JSON_ONLY],
    responses=error_responses(406, 422, 503),
)
async def list_indices(session: ReadSessionDep) -> IndexList:
    """Every composite index with its components, weights, transforms and methodology."""
    return IndexList(items=await service.list_indices(session), next_cursor=None)


@router.get(
    "/{key}",
    operation_id="getIndex",
    summary="Get a composite index",
    response_model=IndexRead,
    dependencies=[READ_ACCESS, JSON_ONLY],
    responses=error_responses(404, 406, 422, 503),
)
async def get_index(key: KeyPath, response: Response, session: ReadSessionDep) -> IndexRead:
    """One index definition."""
    index = await service.get_index(session, key)
    response.headers["ETag"] = resource_etag(index)
    return index


@router.put(
    "/{key}",
    operation_id="putIndex",
    summary="Create or replace a composite index",
    response_model=IndexRead,
    responses={
        201: {"model": IndexRead, "description": "Created."},
        **error_responses(400, 401, 403, 409, 412, 413, 422, 429, 503),
    },
)
async def put_index(
    key: KeyPath,
    body: Annotated[IndexWrite, Body()],  # type: ignore[valid-type]
    request: Request,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> IndexRead:
    """Create the index or replace its components, weights and methodology. Each component
    must name an existing feature or metric, with a transform that fits its type (enum_score
    for enums, boolean for booleans, minmax/log_minmax/rank for numbers and metrics).
    Honours If-Match."""
    return await put_resource(
        request,
        response,
        load=lambda: service.get_index(session, key),
        missing=service.IndexNotFound,
        write=lambda: service.put_index(session, key=key, data=fields_of(body), actor=caller.id),
        location=f"/v1/indices/{key}",
    )


@router.get(
    "/{key}/scores",
    operation_id="getIndexScores",
    dependencies=[READ_ACCESS],
    summary="Rank jurisdictions on an index",
    response_model=IndexScores,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
)
async def get_index_scores(
    key: KeyPath,
    request: Request,
    session: ReadSessionDep,
    as_of: AsOf,
    jurisdictions: CodesQuery = None,
    weights: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="Re-weight components: `key:weight,...`. Listed "
            "components take the new weight, others keep theirs; all are renormalised to "
            "sum 1.",
            examples=["crypto_capital_gains_tax_individual_pct:0.4"],
        ),
    ] = None,
    min_coverage: Annotated[
        float,
        Query(
            ge=0,
            le=1,
            description="Jurisdictions whose data covers less of the weight are "
            "listed unranked (score and rank null). The default, 0.8, keeps a jurisdiction "
            "known only in part (a few favourable values, the rest unknown) from topping the "
            "ranking; 0 ranks all.",
        ),
    ] = DEFAULT_MIN_COVERAGE,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    format: FormatQuery = None,
) -> Response:
    """Rank the compared set (every jurisdiction, or those listed) on the index as of a date.

    Each component's raw value becomes a 0-1 score by its transform, across the compared
    set; a missing value is left out of the weight (lowering `coverage`), never scored 0.
    The score is 100 x the weighted mean over the components with data. The response lists
    the weights, transforms, enum tables and min/max used, so every number can be recomputed.
    """
    as_csv = wants_csv(request, format)
    position = decode_cursor(cursor, int)
    result = await score_response(
        session,
        key=key,
        codes=parse_codes(jurisdictions),
        as_of=as_of,
        weights=parse_weights(weights),
        min_coverage=min_coverage,
    )
    start = position[0] if position else 0
    page = result["items"][start : start + limit]
    next_cursor = None
    if start + limit < len(result["items"]):
        next_cursor = encode_cursor([start + limit])
    headers = next_link(request, next_cursor)
    if as_csv:
        keys = list(result["weights"])
        return csv_response(
            [
                "rank",
                "code",
                "name",
                "score",
                "coverage",
                *[f"{k}_raw" for k in keys],
                *[f"{k}_contribution" for k in keys],
            ],
            (_csv_row(item) for item in page),
            headers=headers,
        )
    return Response(
        to_json({**result, "items": page, "next_cursor": next_cursor}),
        media_type="application/json",
        headers=headers,
    )


def _csv_row(item: dict[str, Any]) -> dict[str, Any]:
    row = {name: item[name] for name in ("rank", "code", "name", "score", "coverage")}
    for component in item["components"]:
        row[f"{component['key']}_raw"] = component["raw"]
        row[f"{component['key']}_contribution"] = component["contribution"]
    return row

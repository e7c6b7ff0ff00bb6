"""GET /v1/export: the whole dataset in one download."""

from fastapi import APIRouter, Request, Response

from app.changes import service as changes_service
from app.core.errors import NotAcceptable, error_responses
from app.dataset.datapackage import package_files, zipped
from app.dataset.read import read_database
from app.http.auth import READ_ACCESS
from app.http.dependencies import ReadSessionDep
from app.http.negotiation import negotiate

router = APIRouter(prefix="/v1/export", tags=["export"])

ZIP = "application/zip"


@router.get(
    "",
    operation_id="exportDataset",
    dependencies=[READ_ACCESS],
    summary="Download the dataset",
    response_class=Response,
    responses={
        200: {
            "description": "A zip of CSV files with a Frictionless Data `datapackage.json`.",
            "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
        },
        **error_responses(406, 503),
    },
)
async def export_dataset(request: Request, session: ReadSessionDep) -> Response:
    """The whole dataset as one zip: a CSV file per table (sources, jurisdictions,
    regulators, features, metrics, feature values, observations, events, indices, saved
    scenarios; the format
    of `juriscope export --format csv` and of imports) and a Frictionless Data
    `datapackage.json` that describes every table and column and gives the data version
    (`version`, the same as `data_version` of GET /v1)."""
    accept = request.headers.get("accept", "")
    if negotiate(accept, (ZIP,)) is None:
        raise NotAcceptable(f"Cannot produce {accept!r}; this endpoint serves {ZIP}.")
    dataset = await read_database(session)
    data = await changes_service.get_data_version(session)
    body = zipped(
        package_files(dataset, data_version=data.version, data_changed_at=data.changed_at)
    )
    return Response(
        body,
        media_type=ZIP,
        headers={"Content-Disposition": f'attachment; filename="juriscope-{data.version}.zip"'},
    )

"""One write of the API through the batch path, for the domains' services: its records (built
with app.core.records.build_record) checked and written by the
loader with only the rows they touch, and the issues raised as typed errors: a conflict with
stored data (an overlapping interval, a regulator of another jurisdiction) is a 409, the rest
a 422. Writes and imports so hold one set of rules."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ConflictError, ValidationFailed
from app.core.issues import Issue
from app.dataset.io import DatasetInvalid
from app.dataset.loader import ImportReport, apply_dataset
from app.dataset.schemas import Dataset


def _issue_error(issue: Issue, batch: str | None) -> dict[str, Any]:
    loc: list[str | int] = ["body"]
    if batch is not None and issue.record is not None:
        loc += [batch, issue.record]
    if issue.field:
        loc += [int(p) if p.isdigit() else p for p in issue.field.split(".")]
    return {"loc": loc, "msg": issue.message, "type": "invalid"}


async def write_records(
    session: AsyncSession,
    *,
    actor: str,
    batch: str | None = None,
    **entities: list[Any],
) -> ImportReport:
    """Upsert records through the loader with their change records (flushed, not committed);
    ConflictError for conflicts with stored data, ValidationFailed otherwise. For a batch
    body, `batch` names its list so that errors point at the record in it."""
    try:
        return await apply_dataset(session, Dataset(**entities), actor=actor)
    except DatasetInvalid as error:
        detail = "; ".join(
            f"{issue.key or issue.file}: {issue.field + ': ' if issue.field else ''}{issue.message}"
            for issue in error.issues
        )
        errors = [_issue_error(issue, batch) for issue in error.issues]
        # Classified where raised: a conflict with stored data is a 409, the rest a 422.
        if any(issue.conflict for issue in error.issues):
            raise ConflictError(detail, errors=errors) from None
        raise ValidationFailed(detail, errors=errors) from None

"""Issues: what is wrong with one record of a write or an import, where, and in which words.

Each domain's rules (`app/<domain>/records.py`) report in these terms, so one write of the
API and a batch of the dataset's import name a problem the same way. A record is addressed
by its entity type (its file, `<entity>.json`), its 0-based number and its natural key.
"""

from collections.abc import Container, Iterable
from typing import Any

from pydantic import BaseModel, Field

from app.core.errors import ConflictError, ValidationFailed


class Issue(BaseModel):
    """One invalid record: where it is (file, 0-based record number, field) and what is wrong."""

    file: str
    record: int | None = None
    key: str | None = None
    field: str | None = None
    message: str
    # True when the record is valid in itself but conflicts with stored data (an overlapping
    # interval, a regulator of another jurisdiction): a 409 rather than a 422.
    conflict: bool = Field(default=False, exclude=True)


def issue(
    entity: str,
    record: int | None,
    key: str | None,
    field: str | None,
    message: str,
    *,
    conflict: bool = False,
) -> Issue:
    """An issue of record `record` of `entity` (named by its file, as in a dataset)."""
    return Issue(
        file=f"{entity}.json",
        record=record,
        key=key,
        field=field,
        message=message,
        conflict=conflict,
    )


def show(key: Any) -> str:
    """A natural key as reports show it: the parts of a compound key joined by "/"."""
    if isinstance(key, tuple):
        return "/".join(str(part) for part in key if part is not None)
    return str(key)


# The words of the rules, shared with the set-wise checks of bulk imports
# (app/dataset/bulk.py), which apply the same rules in SQL.


def duplicate(first: int) -> str:
    return f"duplicate of record {first}"


def unknown(kind: str, key: str) -> str:
    return f"unknown {kind} {key!r}"


def duplicates(entity: str, keys: Iterable[Any]) -> list[Issue]:
    """An issue for each record whose natural key an earlier record of the input has."""
    seen: dict[Any, int] = {}
    issues = []
    for number, key in enumerate(keys):
        if key in seen:
            issues.append(issue(entity, number, show(key), None, duplicate(seen[key])))
        else:
            seen[key] = number
    return issues


def unknown_sources(
    entity: str, number: int, key: str, ids: list[str], sources: Container[str]
) -> list[Issue]:
    """An issue for each cited source that is neither stored nor in the input."""
    return [
        issue(entity, number, key, "source_ids", unknown("source", source_id))
        for source_id in ids
        if source_id not in sources
    ]


def unknown_code(
    entity: str, number: int, key: str, field: str, code: str | None, codes: Container[str]
) -> list[Issue]:
    """An issue when `code` names a jurisdiction that is neither stored nor in the input."""
    if code is not None and code not in codes:
        return [issue(entity, number, key, field, unknown("jurisdiction", code))]
    return []


def _error(issue: Issue, batch: str | None) -> dict[str, Any]:
    loc: list[str | int] = ["body"]
    if batch is not None and issue.record is not None:
        loc += [batch, issue.record]
    if issue.field:
        loc += [int(p) if p.isdigit() else p for p in issue.field.split(".")]
    return {"loc": loc, "msg": issue.message, "type": "invalid"}


def raise_issues(issues: list[Issue], *, batch: str | None = None) -> None:
    """Nothing when `issues` is empty; else every issue at once as the error of a write:
    ConflictError when one conflicts with stored data, ValidationFailed otherwise. For a batch
    body, `batch` names its list so that errors point at the record in it."""
    if not issues:
        return
    detail = "; ".join(
        f"{issue.key or issue.file}: {issue.field + ': ' if issue.field else ''}{issue.message}"
        for issue in issues
    )
    errors = [_error(issue, batch) for issue in issues]
    # Classified where raised: a conflict with stored data is a 409, the rest a 422.
    if any(issue.conflict for issue in issues):
        raise ConflictError(detail, errors=errors)
    raise ValidationFailed(detail, errors=errors)

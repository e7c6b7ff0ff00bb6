"""Checks a generated section of a docs page against the API's answer; with UPDATE_DOCS=1
(`make docs`) it rewrites the section first."""

import os
from pathlib import Path

from app.generated_docs import replace_between


def assert_section_current(page_path: Path, begin: str, end: str, text: str, what: str) -> None:
    page = page_path.read_text(encoding="utf-8")
    if os.environ.get("UPDATE_DOCS") == "1":
        page_path.write_text(replace_between(page, begin, end, text), encoding="utf-8")
        page = page_path.read_text(encoding="utf-8")
    assert replace_between(page, begin, end, text) == page, f"{what} is stale: run `make docs`"

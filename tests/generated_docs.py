"""Checks a generated section of a docs page (the text between two marker comments) against
the API's answer; with UPDATE_DOCS=1 (`make docs`) it rewrites the section first."""

import os
from pathlib import Path


def replace_between(page: str, begin: str, end: str, text: str) -> str:
    """`page` with the text between the markers `begin` and `end` replaced by `text`."""
    start = page.index(begin) + len(begin)
    return page[:start] + "\n" + text + "\n" + page[page.index(end) :]


def assert_section_current(page_path: Path, begin: str, end: str, text: str, what: str) -> None:
    page = page_path.read_text(encoding="utf-8")
    if os.environ.get("UPDATE_DOCS") == "1":
        page_path.write_text(replace_between(page, begin, end, text), encoding="utf-8")
        page = page_path.read_text(encoding="utf-8")
    assert replace_between(page, begin, end, text) == page, f"{what} is stale: run `make docs`"

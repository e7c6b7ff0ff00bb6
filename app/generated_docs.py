"""Sections of the docs generated from the API's own answers: the text between two marker
comments of a page. `make docs` rewrites them; tests fail when a page and the API disagree
(tests/generated_docs.py)."""


def replace_between(page: str, begin: str, end: str, text: str) -> str:
    """`page` with the text between the markers `begin` and `end` replaced by `text`."""
    start = page.index(begin) + len(begin)
    return page[:start] + "\n" + text + "\n" + page[page.index(end) :]

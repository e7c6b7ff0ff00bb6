"""CSV at `.csv` paths: `/v1/jurisdictions.csv` is `/v1/jurisdictions?format=csv`.

The OpenAPI document describes CSV on these paths, as operations of their own, so that a
generated client types a JSON operation's 200 as JSON only; `format=csv` and
`Accept: text/csv` keep working on the JSON paths."""

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from app.http.protection import send_problem

SUFFIX = ".csv"


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


class CsvPathMiddleware:
    """Rewrites a GET or HEAD of `<csv route>.csv` to the route with `format=csv`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.patterns: list[re.Pattern[str]] | None = None

    def _routes(self, scope: Scope) -> list[re.Pattern[str]]:
        if self.patterns is None:
            # The routes are the document's `.csv` paths (nested routers hide theirs).
            self.patterns = [
                _pattern(path.removesuffix(SUFFIX))
                for path in scope["app"].openapi()["paths"]
                if path.endswith(SUFFIX)
            ]
        return self.patterns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/v1/") and path.endswith(SUFFIX):
            base = path.removesuffix(SUFFIX)
            if any(pattern.match(base) for pattern in self._routes(scope)):
                if scope["method"] not in ("GET", "HEAD"):
                    await send_problem(
                        send,
                        scope,
                        405,
                        "Method Not Allowed",
                        f"{path} is read-only: GET or HEAD.",
                        headers=[(b"allow", b"GET, HEAD")],
                    )
                    return
                # The query's own bytes are kept; only a `format` of its own is replaced.
                query = [
                    part
                    for part in scope.get("query_string", b"").split(b"&")
                    if part and part.split(b"=", 1)[0] != b"format"
                ]
                raw = scope.get("raw_path") or path.encode()
                scope = {
                    **scope,
                    "path": base,
                    "raw_path": raw[: -len(SUFFIX)],
                    "query_string": b"&".join([*query, b"format=csv"]),
                }
        await self.app(scope, receive, send)

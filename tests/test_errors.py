"""Every error path answers RFC 9457 problem+json, never a stack trace."""

from typing import Any

from httpx import AsyncClient, Response


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    return body


async def test_unknown_path_is_404_problem(client: AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/nowhere"), 404)
    assert body["instance"] == "/v1/nowhere"
    assert body["detail"] == "No resource at /v1/nowhere."


async def test_wrong_method_is_405_problem(client: AsyncClient) -> None:
    response = await client.delete("/healthz")
    body = assert_problem(response, 405)
    assert body["detail"] == "DELETE is not allowed on /healthz."
    assert response.headers["allow"] == "GET, HEAD"


async def test_invalid_parameter_is_422_problem_listing_each_error(client: AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/jurisdictions?limit=0&kind=planet"), 422)
    assert sorted(tuple(e["loc"]) for e in body["errors"]) == [
        ("query", "kind"),
        ("query", "limit"),
    ]
    assert all({"loc", "msg", "type"} == e.keys() for e in body["errors"])


async def test_unhandled_error_is_500_problem_without_trace(app, client: AsyncClient) -> None:  # type: ignore[no-untyped-def]
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/boom", boom)
    transport_client = client
    transport_client._transport.raise_app_exceptions = False  # type: ignore[attr-defined]
    response = await transport_client.get("/boom")
    body = assert_problem(response, 500)
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert body["detail"] == "An unexpected error occurred; it has been logged."

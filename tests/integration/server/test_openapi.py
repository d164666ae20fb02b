"""The OpenAPI document and its docs page."""

from __future__ import annotations

from aiohttp.test_utils import TestClient


async def test_document_lists_api_routes_with_roles(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200
    spec = await resp.json()
    assert spec["openapi"].startswith("3.")
    token = spec["paths"]["/api/v1/auth/token"]["post"]
    # The request model comes from pydantic.
    ref = token["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    model = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(model["required"]) == {"username", "password"}
    me = spec["paths"]["/api/v1/auth/me"]["get"]
    assert "Roles:" in me["description"]
    assert me["security"]


async def test_docs_page_uses_local_swagger_files(client: TestClient) -> None:  # type: ignore[type-arg]
    page = await client.get("/api/docs")
    assert page.status == 200
    html = await page.text()
    assert "https://" not in html
    js = await client.get("/static-swagger/swagger-ui-bundle.js")
    assert js.status == 200


async def test_request_models_are_found_in_the_handlers(client: TestClient) -> None:  # type: ignore[type-arg]
    spec = await (await client.get("/api/v1/openapi.json")).json()
    order = spec["paths"]["/api/v1/orders"]["post"]
    ref = order["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    model = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"customer_id", "lines", "delivery", "payment"} <= set(model["properties"])
    customers = spec["paths"]["/api/v1/customers"]["get"]
    assert "limit" in {p["name"] for p in customers["parameters"]}
    # Every API route is documented with the roles it allows.
    for path, methods in spec["paths"].items():
        for op in methods.values():
            assert "Roles:" in op["description"] or "everyone" in op["description"], path

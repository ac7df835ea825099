"""The OpenAPI 3 schema and its local Swagger UI page."""

import re

from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.validation import validate_schema


def test_the_schema_is_valid_openapi_3_and_lists_the_four_resources(client, db):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on an invalid document
    paths = schema["paths"]
    for resource in ("org-nodes", "households", "grids", "users", "work-teams", "work-groups", "pairings"):
        assert f"/api/v1/{resource}/" in paths
        assert f"/api/v1/{resource}/{{id}}/" in paths
    assert "/api/v1/households/{id}/personal-data/" in paths
    assert "/api/v1/auth/token/" in paths
    assert "post" in paths["/api/v1/pairings/"] and "/api/v1/pairings/{id}/end/" in paths
    pairing_filters = {parameter["name"] for parameter in paths["/api/v1/pairings/"]["get"]["parameters"]}
    assert {"cadre", "work_group", "node", "household", "on"} <= pairing_filters
    assert "post" in paths["/api/v1/users/"] and "/api/v1/users/{id}/grants/" in paths
    assert "delete" not in paths["/api/v1/households/{id}/"]


def test_the_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns every warning of drf-spectacular into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/households/" in (tmp_path / "schema.yaml").read_text()


def test_the_docs_page_loads_swagger_ui_from_local_static_files_only(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references
    # Under the Content-Security-Policy the start-up script is a second request to the page itself.
    scripts = [reference for reference in references if reference.startswith("/api/docs/?")]
    assert len(scripts) == 1 and "<style" not in html and "<script>" not in html
    for reference in set(references) - set(scripts):
        assert reference.startswith("/static/"), reference
        assert finders.find(reference.removeprefix("/static/")), reference
    script = client.get(scripts[0].replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    for text in (html, script.content.decode()):
        assert "http://" not in text and "https://" not in text and "//cdn" not in text
    assert '"validatorUrl": null' in script.content.decode()  # no badge fetched from validator.swagger.io

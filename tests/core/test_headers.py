"""Security headers (issue 5, item 11): a Content-Security-Policy on every answer, no inline script
or style for it to refuse, and ``Cache-Control: no-store`` on what carries personal data."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def directives(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize(
    "path, username",
    [
        ("/", "cadre1"),
        ("/accounts/login/", None),
        ("/grids/", "staff"),
        ("/api/v1/households/", "cadre1"),
        ("/api/docs/", None),
        ("/healthz", None),
        ("/no-such-page/", "cadre1"),
    ],
)
def test_every_answer_carries_a_strict_content_security_policy(org, client, path, username):
    if username:
        client.force_login(getattr(org.users, username))
    policy = directives(client.get(path))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "an inline <script>"),
    (re.compile(r"<style\b", re.IGNORECASE), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "a style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "an inline event handler"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
    (re.compile(r"\shx-on", re.IGNORECASE), "an hx-on handler (needs eval)"),
]


def test_no_template_holds_what_the_policy_refuses():
    found = []
    for template in TEMPLATES.rglob("*.html"):
        text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", "", template.read_text(), flags=re.S)
        for pattern, what in INLINE:
            if pattern.search(text):
                found.append(f"{template.relative_to(TEMPLATES)}: {what}")
    assert not found, "move these to static/css or static/js: " + "; ".join(found)


def test_the_base_page_keeps_htmx_from_injecting_styles_or_evaluating_code(org, client):
    client.force_login(org.users.cadre1)
    page = client.get("/").content.decode()
    assert '"includeIndicatorStyles": false' in page and '"allowEval": false' in page
    assert "js/zhubao.js" in page  # the language menu's change handler lives there


def test_the_export_workbook_is_never_stored_by_a_browser_or_proxy(org, client):
    client.force_login(org.users.staff)
    response = client.get(reverse("imports:export"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_favicon_ico_is_served_from_the_static_files(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].startswith("/static/") and response["Location"].endswith(".ico")
    assert finders.find("favicon.ico")
    assert client.get(response["Location"]).status_code == 200


def test_pages_link_their_icon(org, client):
    client.force_login(org.users.cadre1)
    assert 'rel="icon"' in client.get("/").content.decode()


def test_only_the_admin_may_use_style_attributes_and_nothing_else_is_relaxed_there(org, client):
    client.force_login(org.users.admin)
    admin = directives(client.get("/admin/grid/orgnode/"))
    assert admin["style-src-attr"] == ["'unsafe-inline'"]  # django-mptt's indented tree rows
    assert admin["style-src"] == ["'self'"] and admin["script-src"] == ["'self'"]
    assert "style-src-attr" not in directives(client.get("/"))

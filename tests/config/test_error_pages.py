"""What people see when something goes wrong: branded 403, 404 and 500 pages in their
language that say what happened and where to go, never Django's debug pages."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "title"),
    [("en", "This page does not exist"), ("fr", "Cette page n’existe pas")],
)
def test_an_unknown_page_is_the_branded_404_in_the_person_s_language(personas, language, title):
    personas.teammate.language = language
    personas.teammate.save(update_fields=["language"])
    response = client_for(personas.teammate).get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert title in body
    assert 'href="/"' in body or "/feed/" in body
    assert "URLconf" not in body


def test_a_page_of_another_role_is_a_branded_refusal(personas):
    response = client_for(personas.teammate).get("/admin/networks/")
    assert response.status_code in (403, 404)
    body = response.content.decode()
    assert "URLconf" not in body and "Traceback" not in body
    assert "error-page" in body


def test_a_server_error_is_the_bilingual_500_page(settings):
    response = server_error(RequestFactory().get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "Un problème de notre côté" in body

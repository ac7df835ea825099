"""Fixtures of the API suites: a DRF client logged in as one of the ``org`` users."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    """``api(user)``: a DRF test client with a session for ``user`` (None: anonymous).

    tests/api/test_auth.py logs in with the password and a token; elsewhere the session is
    made directly, which is faster.
    """

    def _client(user=None):
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return _client

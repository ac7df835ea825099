"""Helpers of the API suites."""


def results(response) -> list[dict]:
    """The rows of a paginated list answer."""
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(response) -> set[int]:
    return {row["id"] for row in results(response)}

"""The HTTP contract over the real socket: error bodies, versions, OpenAPI, bad input."""

from __future__ import annotations

import httpx
import pytest

from aitbc_daemon import API_VERSION, __version__


@pytest.fixture
def http(daemon):
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(daemon.socket_path)), base_url="http://aitbc") as client:
        yield client


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


def test_health_and_version(http):
    assert http.get("/v1/health").json() == {"status": "ok"}
    assert http.get("/v1/version").json() == {"daemon": __version__, "api": API_VERSION}


def test_every_response_carries_the_api_version(http):
    assert http.get("/v1/health").headers["x-aitbc-api"] == API_VERSION
    assert http.get("/v1/nope").headers["x-aitbc-api"] == API_VERSION


def test_unknown_route_is_a_404_error_body(http):
    response = http.get("/v1/does-not-exist")
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "no such endpoint: GET /v1/does-not-exist"}


def test_wrong_method_is_a_405_error_body(http):
    response = http.post("/v1/health")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b"{not json", {"content-type": "application/json"}, 400, "invalid_json"),
        (b"[1, 2]", {"content-type": "application/json"}, 422, "invalid_request"),
        (b'{"level": "loud"}', {"content-type": "application/json"}, 422, "invalid_request"),
        (b'{"level": "info", "extra": 1}', {"content-type": "application/json"}, 422, "invalid_request"),
        (b"", {}, 422, "invalid_request"),
        (b"level=info", {"content-type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    ],
)
def test_bad_bodies_get_error_bodies_and_change_nothing(http, daemon, content, headers, status, code):
    before = daemon.paths.log_file.read_text()
    response = http.put("/v1/log-level", content=content, headers=headers)
    assert response.status_code == status
    assert error_of(response)["code"] == code
    # the level is unchanged: a debug-only line (the access log) must not appear
    http.get("/v1/health")
    assert "GET /v1/health" not in daemon.paths.log_file.read_text()[len(before):]


def test_valid_body_is_applied(http, daemon):
    assert http.put("/v1/log-level", json={"level": "debug"}).json() == {"level": "debug"}
    http.get("/v1/health")


def test_unknown_field_error_names_the_field(http):
    response = http.put("/v1/log-level", json={"level": "info", "colour": "red"})
    assert error_of(response)["message"] == "colour: unknown field"


def test_openapi_document_is_served_and_describes_errors(http):
    document = http.get("/openapi.json").json()
    assert document["info"]["version"] == __version__
    for path in ("/v1/health", "/v1/version", "/v1/status", "/v1/plugins", "/v1/events", "/v1/log-level"):
        assert path in document["paths"]
    put = document["paths"]["/v1/log-level"]["put"]["responses"]
    assert put["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")

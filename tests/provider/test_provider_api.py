"""The REST API side: ``POST /transactions`` and ``GET /transactions/{id}``."""

from __future__ import annotations

import json

import pytest
from provider_support import COMPANY, ROA, Flow

from mock_provider.scopes import PROFILE_SCOPE

INSOLVENCY = (
    "https://api.company-information.service.gov.uk/company/*/insolvency.write-full"
)
EMPTY = {"error": "Empty Authorization header", "type": "ch:service"}
INVALID = {"error": "Invalid Authorization", "type": "ch:service"}


def _bearer(
    flow: Flow, scope: str = ROA.format(COMPANY), **params: str
) -> dict[str, str]:
    token = flow.exchange(flow.code(scope, **params)).get_json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_transaction_created_for_company_in_scope(flow: Flow) -> None:
    headers = _bearer(flow)

    response = flow.http.post(
        "/transactions",
        headers=headers,
        json={
            "company_number": COMPANY,
            "description": "ROA change",
            "reference": "r1",
        },
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["company_number"] == COMPANY
    assert body["company_name"] == "EXAMPLE TRADING LIMITED"
    assert body["status"] == "open"
    assert body["description"] == "ROA change"
    assert body["created_by"] == {"id": "user-0001"}
    assert body["links"]["self"] == f"/transactions/{body['id']}"


def test_transaction_created_from_form_body(flow: Flow) -> None:
    headers = _bearer(flow)

    response = flow.http.post(
        "/transactions", headers=headers, data={"company_number": COMPANY}
    )

    assert response.status_code == 201


def test_transaction_read_back(flow: Flow) -> None:
    headers = _bearer(flow)
    created = flow.http.post(
        "/transactions", headers=headers, json={"company_number": COMPANY}
    ).get_json()

    response = flow.http.get(created["links"]["self"], headers=headers)

    assert response.status_code == 200
    assert response.get_json() == created


def test_transaction_any_company_with_insolvency_scope(flow: Flow) -> None:
    code = flow.code(INSOLVENCY, client_id="insolvency-client-id")
    token = flow.token(
        client_id="insolvency-client-id",
        client_secret="insolvency-client-secret",
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://127.0.0.1:8000/callback",
    ).get_json()["access_token"]

    response = flow.http.post(
        "/transactions",
        headers={"Authorization": f"Bearer {token}"},
        json={"company_number": "00099999"},
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "   "}],
    ids=["absent", "empty", "blank"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/transactions"), ("GET", "/transactions/000000-000000-000000")],
    ids=["create", "read"],
)
def test_transaction_without_authorization_gets_401_empty(
    flow: Flow, headers: dict[str, str], method: str, path: str
) -> None:
    response = flow.http.open(
        path, method=method, headers=headers, json={"company_number": COMPANY}
    )

    assert response.status_code == 401
    assert response.get_json() == EMPTY


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Bearer", "Basic dGVzdDp0ZXN0", "not-a-token"],
    ids=["unknown-token", "bearer-only", "basic", "no-scheme"],
)
def test_transaction_with_bad_token_gets_401_invalid(
    flow: Flow, authorization: str
) -> None:
    response = flow.http.post(
        "/transactions",
        headers={"Authorization": authorization},
        json={"company_number": COMPANY},
    )

    assert response.status_code == 401
    assert response.get_json() == INVALID


def test_transaction_with_expired_token_gets_401_invalid(flow: Flow) -> None:
    headers = _bearer(flow)
    flow.provider.clock.advance(3600)

    response = flow.http.post(
        "/transactions", headers=headers, json={"company_number": COMPANY}
    )

    assert response.status_code == 401
    assert response.get_json() == INVALID


@pytest.mark.parametrize(
    "scope",
    [ROA.format("00099999"), PROFILE_SCOPE],
    ids=["other-company", "profile-only"],
)
def test_transaction_for_company_outside_scope_gets_401(flow: Flow, scope: str) -> None:
    headers = _bearer(flow, scope)

    response = flow.http.post(
        "/transactions", headers=headers, json={"company_number": COMPANY}
    )

    assert response.status_code == 401
    assert response.get_json() == INVALID


def test_transaction_read_for_company_outside_scope_gets_401(flow: Flow) -> None:
    created = flow.http.post(
        "/transactions", headers=_bearer(flow), json={"company_number": COMPANY}
    ).get_json()
    other = _bearer(flow, ROA.format("00099999"))

    response = flow.http.get(created["links"]["self"], headers=other)

    assert response.status_code == 401
    assert response.get_json() == INVALID


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"00012345"', "application/json"),
        (b"{}", "application/json"),
        (json.dumps({"company_number": 12345}).encode(), "application/json"),
        (json.dumps({"company_number": "1234"}).encode(), "application/json"),
        (json.dumps({"company_number": "00012345 "}).encode(), "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"company_number=abc", "application/x-www-form-urlencoded"),
    ],
    ids=[
        "not-json",
        "array",
        "string",
        "no-company",
        "number-not-string",
        "short-number",
        "trailing-space",
        "not-utf8",
        "form-bad-number",
    ],
)
def test_transaction_bad_body_gets_400(
    flow: Flow, body: bytes, content_type: str
) -> None:
    headers = _bearer(flow)

    response = flow.http.post(
        "/transactions", headers=headers, data=body, content_type=content_type
    )

    assert response.status_code == 400
    error = response.get_json()
    assert set(error) == {"error", "type"}
    assert error["type"] == "ch:validation"


def test_transaction_unknown_id_gets_404(flow: Flow) -> None:
    headers = _bearer(flow)

    response = flow.http.get("/transactions/000000-000000-000000", headers=headers)

    assert response.status_code == 404
    assert response.get_json() == {
        "error": "transaction not found",
        "type": "ch:service",
    }


def test_transaction_scope_lost_when_auth_code_changes(flow: Flow) -> None:
    headers = _bearer(flow)
    flow.control.set_auth_code(number=COMPANY, auth_code="333333")

    response = flow.http.post(
        "/transactions", headers=headers, json={"company_number": COMPANY}
    )

    assert response.status_code == 401
    assert response.get_json() == INVALID

from django.urls import reverse
from rest_framework.test import APIClient


def obtain(client, username, password):
    return client.post(
        reverse("api-token"), {"username": username, "password": password}, format="json"
    )


def test_jwt_obtain_refresh_and_an_authenticated_call(bob, password):
    client = APIClient()
    tokens = obtain(client, "bob", password).json()
    assert {"access", "refresh"} <= tokens.keys()

    refreshed = client.post(
        reverse("api-token-refresh"), {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200
    access = refreshed.json()["access"]

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = client.get(reverse("api-me"))
    assert me.status_code == 200
    assert me.json()["username"] == "bob"


def test_the_api_refuses_a_missing_or_forged_token(bob):
    client = APIClient()
    assert client.get(reverse("api-me")).status_code in (401, 403)
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert client.get(reverse("api-me")).status_code == 401


def test_a_wrong_password_gets_no_token_and_repeats_are_throttled(bob, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    client = APIClient()
    assert obtain(client, "bob", "wrong").status_code == 401
    assert obtain(client, "bob", "wrong").status_code == 401
    locked = obtain(client, "bob", password)
    assert locked.status_code == 429
    assert "access" not in locked.json()


def test_me_updates_the_profile_but_not_the_role(bob):
    client = APIClient()
    client.force_authenticate(bob)
    response = client.patch(
        reverse("api-me"), {"display_name": "B", "is_broadcaster": True}, format="json"
    )
    assert response.status_code == 200
    bob.refresh_from_db()
    assert bob.display_name == "B"
    assert not bob.is_broadcaster


def test_the_openapi_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/token/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content


def test_cors_allows_only_configured_origins(client, db, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    allowed = client.get("/api/rooms/", HTTP_ORIGIN="https://app.example.com")
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    other = client.get("/api/rooms/", HTTP_ORIGIN="https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in other

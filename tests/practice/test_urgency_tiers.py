from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from practice.models import UrgencyTier
from practice.services import InUse
from tests.factories import BlockFactory, tier

pytestmark = pytest.mark.django_db


def test_standard_and_urgent_are_seeded(scheduler_client: APIClient) -> None:
    rows = scheduler_client.get("/api/v1/urgency-tiers/").json()["results"]
    assert [(row["code"], row["max_wait_days"]) for row in rows] == [("urgent", 3), ("standard", 14)]


def test_an_administrator_adds_an_emergent_tier(admin_client_api: APIClient) -> None:
    body = {"code": "emergent", "name": "Emergent", "max_wait_days": 1, "rank": 30}
    response = admin_client_api.post("/api/v1/urgency-tiers/", body)
    assert response.status_code == 201
    assert response.json() == {"id": UrgencyTier.objects.get(code="emergent").pk, **body}


def test_an_administrator_shortens_the_standard_wait(admin_client_api: APIClient) -> None:
    response = admin_client_api.patch(f"/api/v1/urgency-tiers/{tier('standard').pk}/", {"max_wait_days": 10})
    assert response.status_code == 200
    assert tier("standard").max_wait_days == 10


def test_two_tiers_cannot_share_a_rank(admin_client_api: APIClient) -> None:
    body = {"code": "emergent", "name": "Emergent", "max_wait_days": 1, "rank": tier("urgent").rank}
    response = admin_client_api.post("/api/v1/urgency-tiers/", body)
    assert response.status_code == 400
    assert "rank" in response.json()["error"]["fields"]


def test_a_wait_longer_than_a_year_is_refused(admin_client_api: APIClient) -> None:
    response = admin_client_api.patch(f"/api/v1/urgency-tiers/{tier('standard').pk}/", {"max_wait_days": 400})
    assert response.status_code == 400
    assert "max_wait_days" in response.json()["error"]["fields"]


def test_a_tier_holding_blocks_cannot_be_deleted(admin_client_api: APIClient) -> None:
    BlockFactory(reserved_for_tier=tier("urgent"))
    response = admin_client_api.delete(f"/api/v1/urgency-tiers/{tier('urgent').pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == InUse.code

"""The outbox in the admin: administrators read it; nobody edits the audit trail there."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client

from notifications import reactions
from notifications.models import Message, WorklistItem
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_site(administrator: User) -> Client:
    client = Client()
    client.force_login(administrator)
    return client


@pytest.mark.parametrize("model", ["message", "inboundmessage", "worklistitem"])
def test_an_administrator_sees_each_list(admin_site: Client, model: str) -> None:
    reactions.visit_booked(appointment=AppointmentFactory(start=dt.datetime(2099, 1, 5, 16, tzinfo=dt.UTC)))
    assert admin_site.get(f"/admin/notifications/{model}/").status_code == 200


def test_a_message_cannot_be_changed_in_the_admin(admin_site: Client) -> None:
    reactions.visit_booked(appointment=AppointmentFactory(start=dt.datetime(2099, 1, 5, 16, tzinfo=dt.UTC)))
    message = Message.objects.first()
    assert message is not None
    response = admin_site.post(f"/admin/notifications/message/{message.pk}/change/", {"body": "changed"})
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.body != "changed"


def test_worklist_items_are_resolved_from_the_admin(admin_site: Client) -> None:
    item = WorklistItem.objects.create(kind="reply", summary="Replied with a text that needs a person.")
    response = admin_site.post(
        "/admin/notifications/worklistitem/", {"action": "resolve", "_selected_action": [item.pk]}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.resolved_at is not None

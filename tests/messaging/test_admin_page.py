"""The org admin's page /admin/channels/: who may see it, connecting Slack, destinations
and their forms, the test message, the recent messages (failures first) and resend; every
change audited; secrets never shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from advocacy.token_vault import token_decrypt
from messaging.models import (
    ChannelMessage,
    ConnectionStatus,
    Destination,
    DestinationKind,
    DestinationStatus,
    EventKind,
    SlackConnection,
)
from messaging.outbox import message_send
from messaging.teams import teams_webhook_clean
from organizations.audit_text import audit_rows
from organizations.errors import DomainError
from organizations.models import AuditLogEntry, Role
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.messaging.conftest import CHANNEL, TOKEN, slack_destination, teams_destination

pytestmark = pytest.mark.django_db
URL = "/admin/channels/"


def test_the_url_name():
    assert reverse("channels_admin") == URL


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.EDITOR, Role.REVIEWER, Role.MANAGER])
def test_only_org_admins_see_the_page(personas, role):
    user = UserFactory(organization=personas.organization, role=role)
    assert client_for(user).get(URL).status_code == 404
    assert client_for(user).post(URL, {"action": "slack_disconnect"}).status_code == 404


def test_anonymous_people_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_empty_page_says_what_to_do(personas, django_assert_max_num_queries):
    client = client_for(personas.owner)
    with django_assert_max_num_queries(14):
        response = client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Slack is not connected" in page
    assert "No destination yet" in page
    assert "No message yet" in page


def test_connecting_slack_checks_the_token_and_never_shows_it(personas, fake_slack):
    client = client_for(personas.owner)
    response = client.post(URL, {"action": "slack_connect", "token": TOKEN}, follow=True)
    page = response.content.decode()
    assert "Slack is connected to the workspace “Acme Santé” as portevoix." in page
    assert TOKEN not in page
    assert "xoxb-…CDEF" in page
    connection = SlackConnection.objects.get(organization=personas.organization)
    assert connection.bot_token != TOKEN and token_decrypt(connection.bot_token) == TOKEN
    assert (connection.team_name, connection.bot_name) == ("Acme Santé", "portevoix")
    entry = AuditLogEntry.objects.get(action="channels.slack_connected")
    assert TOKEN not in str(entry.details)
    assert audit_rows([entry])[0].sentence.endswith("connected Slack (workspace “Acme Santé”).")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-token", "it starts with xoxb-"),
        ("xoxb-9999999999-unknown-token", "Slack refused this token (invalid_auth)"),
    ],
)
def test_a_bad_token_is_refused_on_the_form(personas, fake_slack, token, message):
    response = client_for(personas.owner).post(URL, {"action": "slack_connect", "token": token})
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem to correct" in page
    assert message in page
    assert not SlackConnection.objects.exists()


def test_disconnecting_forgets_the_token(personas, connected):
    client_for(personas.owner).post(URL, {"action": "slack_disconnect"})
    assert not SlackConnection.objects.exists()
    assert AuditLogEntry.objects.filter(action="channels.slack_disconnected").exists()


def test_adding_a_slack_destination(personas, connected):
    team = personas.team
    response = client_for(personas.owner).post(
        URL,
        {
            "action": "destination_create",
            "new-kind": "slack",
            "new-label": "#news",
            "new-slack_channel_id": "c0123456789",
            "new-events": [EventKind.CONTENT_PUBLISHED, EventKind.LEADERBOARD_WEEKLY],
            "new-teams": [team.pk],
        },
    )
    assert response.status_code == 302
    destination = Destination.objects.get()
    assert destination.slack_channel_id == CHANNEL
    assert destination.events == [EventKind.CONTENT_PUBLISHED, EventKind.LEADERBOARD_WEEKLY]
    assert list(destination.teams.all()) == [team]
    assert AuditLogEntry.objects.filter(action="channels.destination_created").exists()


def test_a_destination_form_names_each_problem(personas, connected):
    response = client_for(personas.owner).post(
        URL,
        {
            "action": "destination_create",
            "new-kind": "slack",
            "new-label": "#news",
            "new-slack_channel_id": "#news",
            "new-events": [EventKind.CONTENT_PUBLISHED],
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Give the channel&#x27;s id, such as C0123456789" in page
    assert not Destination.objects.exists()
    response = client_for(personas.owner).post(
        URL, {"action": "destination_create", "new-kind": "teams", "new-label": "Teams"}
    )
    page = response.content.decode()
    assert "Choose at least one kind of message." in page


def test_another_organisations_team_cannot_be_chosen(personas, connected):
    response = client_for(personas.owner).post(
        URL,
        {
            "action": "destination_create",
            "new-kind": "slack",
            "new-label": "#news",
            "new-slack_channel_id": CHANNEL,
            "new-events": [EventKind.CONTENT_PUBLISHED],
            "new-teams": [personas.other_team.pk],
        },
    )
    assert response.status_code == 200
    assert not Destination.objects.exists()


def test_a_teams_webhook_is_stored_encrypted_and_shown_masked(personas, fake_teams):
    url = fake_teams.add_flow()
    client = client_for(personas.owner)
    client.post(
        URL,
        {
            "action": "destination_create",
            "new-kind": "teams",
            "new-label": "Teams · Général",
            "new-webhook_url": url,
            "new-events": [EventKind.CHALLENGE_LAUNCHED],
        },
    )
    destination = Destination.objects.get()
    assert destination.kind == DestinationKind.TEAMS
    assert token_decrypt(destination.webhook_url) == url
    page = client.get(URL).content.decode()
    signature = url.rsplit("sig=", 1)[1]
    assert signature not in page and "/workflows/" not in page
    assert destination.webhook_hint in page


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x", True),
        ("https://default1234.56.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?sig=x", True),
        ("http://prod-12.westeurope.logic.azure.com/workflows/abc", False),
        ("https://example.com/workflows/abc", False),
        ("https://logic.azure.com.evil.example/workflows/abc", False),
        ("https://acme.webhook.office.com/webhookb2/abc", False),
        ("https://user:pw@prod-1.logic.azure.com/workflows/abc", False),
        ("http://127.0.0.1:8032/workflows/abc", True),
        ("ftp://127.0.0.1/workflows", False),
        ("", False),
        # requests ends the host at the backslash and would connect to the first part.
        ("https://127.0.0.1\\.logic.azure.com/workflows/abc", False),
        ("https://evil.example\\.logic.azure.com/workflows/abc", False),
        ("http://169.254.169.254\\.logic.azure.com/", False),
        ("https://prod-1.logic.azure.com%2F@evil.example/workflows/abc", False),
        ("https://prod 1.logic.azure.com/workflows/abc", False),
    ],
)  # fmt: skip
def test_webhook_addresses(url, accepted):
    if accepted:
        assert teams_webhook_clean(url) == url
    else:
        with pytest.raises(DomainError) as caught:
            teams_webhook_clean(url)
        assert caught.value.field == "webhook_url"


def test_loopback_webhooks_only_when_allowed(settings):
    settings.MESSAGING_ALLOW_LOOPBACK = False
    with pytest.raises(DomainError):
        teams_webhook_clean("http://127.0.0.1:8032/workflows/abc")


def test_editing_keeps_the_webhook_and_clears_a_problem(personas, fake_teams):
    url = fake_teams.add_flow()
    destination = teams_destination(personas, url)
    Destination.objects.filter(pk=destination.pk).update(
        status=DestinationStatus.BROKEN, problem="webhook_gone"
    )
    client = client_for(personas.owner)
    edit = reverse("channels_destination_edit", args=[destination.pk])
    page = client.get(edit).content.decode()
    assert "Leave empty to keep the current address." in page
    response = client.post(
        edit, {"kind": "slack", "label": "Renamed", "events": [EventKind.CHALLENGE_RESULTS]}
    )
    assert response.status_code == 302
    destination.refresh_from_db()
    assert destination.kind == DestinationKind.TEAMS  # the kind cannot change
    assert destination.label == "Renamed"
    assert token_decrypt(destination.webhook_url) == url
    assert destination.status == DestinationStatus.ACTIVE


def test_another_organisations_destination_is_not_found(personas, fake_teams):
    from tests.messaging.conftest import teams_destination as make

    class Other:
        owner = personas.outsider
        organization = personas.other_organization

    theirs = make(Other, fake_teams.add_flow())
    client = client_for(personas.owner)
    assert client.get(reverse("channels_destination_edit", args=[theirs.pk])).status_code == 404
    for action in ("destination_delete", "destination_test"):
        assert client.post(URL, {"action": action, "id": theirs.pk}).status_code == 404
    assert Destination.objects.filter(pk=theirs.pk).exists()
    # Nor can their failed message be sent again from here.
    client_for(personas.outsider).post(URL, {"action": "destination_test", "id": theirs.pk})
    message = ChannelMessage.objects.get(destination=theirs)
    ChannelMessage.objects.filter(pk=message.pk).update(status="failed")
    assert client.post(URL, {"action": "resend", "id": message.pk}).status_code == 404
    message.refresh_from_db()
    assert message.status == "failed" and message.resent_count == 0


def test_test_message_then_the_recent_list_with_failures_first(
    personas, connected, fake_slack, django_assert_max_num_queries
):
    good = slack_destination(personas, label="#good")
    lost = slack_destination(personas, label="#private", channel="C0PRIVATE01")
    client = client_for(personas.owner)
    client.post(URL, {"action": "destination_test", "id": good.pk})
    fake_slack.tokens[TOKEN].outside.add("C0PRIVATE01")
    client.post(URL, {"action": "destination_test", "id": lost.pk})
    for message in ChannelMessage.objects.order_by("pk"):
        message_send(message_id=message.pk)
    with django_assert_max_num_queries(14):
        page = client.get(URL).content.decode()
    failed_row = page.index("The bot is not in this Slack channel")
    assert failed_row < page.index("#good</td>")
    assert "Resend" in page
    assert AuditLogEntry.objects.filter(action="channels.test_sent").count() == 2
    # The admin invites the bot and resends: the destination is active again.
    fake_slack.tokens[TOKEN].outside.clear()
    failed = ChannelMessage.objects.get(destination=lost)
    client.post(URL, {"action": "resend", "id": failed.pk})
    lost.refresh_from_db()
    assert lost.status == DestinationStatus.ACTIVE
    assert message_send(message_id=failed.pk) == "sent"
    assert AuditLogEntry.objects.filter(action="channels.message_resent").exists()


def test_a_test_message_needs_slack_connected(personas, fake_slack):
    destination = slack_destination(personas)
    response = client_for(personas.owner).post(
        URL, {"action": "destination_test", "id": destination.pk}, follow=True
    )
    assert "Slack is not connected: connect it, then resend." in response.content.decode()
    assert not ChannelMessage.objects.exists()


def test_a_broken_connection_is_shown_in_words(personas, connected):
    SlackConnection.objects.update(status=ConnectionStatus.BROKEN, problem="token_revoked")
    page = client_for(personas.owner).get(URL).content.decode()
    assert "The Slack token was revoked (the app was removed?): connect Slack again." in page


def test_removing_a_destination(personas, connected):
    destination = slack_destination(personas)
    client_for(personas.owner).post(URL, {"action": "destination_delete", "id": destination.pk})
    assert not Destination.objects.exists()
    entry = AuditLogEntry.objects.get(action="channels.destination_deleted")
    assert audit_rows([entry])[0].sentence.endswith(
        "removed the channel destination “#announcements”."
    )


def test_unknown_actions_and_ids(personas):
    client = client_for(personas.owner)
    response = client.post(URL, {"action": "explode"}, follow=True)
    assert "That action is not available." in response.content.decode()
    assert client.post(URL, {"action": "resend", "id": "abc"}).status_code == 404

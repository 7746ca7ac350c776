"""The digest API: /api/v1/me/digest/ (the caller's choice: GET, PATCH) and
/api/v1/me/digest/preview/ (the caller's digest as it would be sent now). Same selectors
and services as the pages; errors are problem JSON (organizations.api_errors)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from digests import selectors, services
from digests.emails import digest_render
from digests.models import Frequency
from organizations.api import HasOrganization, api_caller


class PreferenceSerializer(serializers.Serializer):
    frequency = serializers.ChoiceField(
        choices=Frequency.choices, help_text="What applies to the caller now."
    )
    follows_default = serializers.BooleanField(
        help_text="True while the caller has not chosen: the organisation's default applies."
    )
    # A plain string: one enum per choice set in the schema (FrequencyEnum is the other).
    default_frequency = serializers.CharField(
        help_text="The organisation's default: daily, weekly or never."
    )
    weekday = serializers.IntegerField(help_text="Day of the weekly digest, 0 is Monday.")
    hour = serializers.IntegerField(help_text="Hour of the digest in the caller's time zone.")


class PreferenceInput(serializers.Serializer):
    frequency = serializers.ChoiceField(choices=Frequency.choices)


class DigestItemSerializer(serializers.Serializer):
    content_id = serializers.IntegerField()
    title = serializers.CharField()
    why_it_matters = serializers.CharField(allow_blank=True)
    image_url = serializers.CharField(allow_blank=True)
    language = serializers.CharField()
    published_at = serializers.DateTimeField()
    points_text = serializers.CharField(allow_blank=True)
    challenge_text = serializers.CharField(allow_blank=True)
    content_url = serializers.CharField()
    share_url = serializers.CharField(help_text="Signed for the caller, valid 7 days.")


class DigestChallengeSerializer(serializers.Serializer):
    challenge_id = serializers.IntegerField()
    title = serializers.CharField()
    value = serializers.IntegerField()
    goal = serializers.IntegerField(allow_null=True)
    percent = serializers.IntegerField()
    ends_at = serializers.DateTimeField()
    url = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    would_send = serializers.BooleanField(help_text="False: nothing new, no email.")
    frequency = serializers.ChoiceField(choices=Frequency.choices)
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    items = DigestItemSerializer(many=True)
    more = serializers.IntegerField(help_text="New posts left out of the email.")
    challenges = DigestChallengeSerializer(many=True)
    points = serializers.IntegerField()
    points_gained = serializers.IntegerField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    rank_change = serializers.IntegerField(allow_null=True, help_text="> 0: moved up.")
    subject = serializers.CharField(allow_blank=True)
    html = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)


def _preference_body(request: Request) -> dict:
    view = selectors.digest_preference_for(api_caller(request))
    return {
        "frequency": view.frequency,
        "follows_default": not view.chosen,
        "default_frequency": view.default_frequency,
        "weekday": view.weekday,
        "hour": view.hour,
    }


class MyDigestView(APIView):
    """The caller's digest frequency (daily, weekly or never)."""

    permission_classes = [HasOrganization]

    @extend_schema(responses=PreferenceSerializer)
    def get(self, request: Request) -> Response:
        return Response(PreferenceSerializer(_preference_body(request)).data)

    @extend_schema(request=PreferenceInput, responses=PreferenceSerializer)
    def patch(self, request: Request) -> Response:
        data = PreferenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.digest_preference_set(
            user=api_caller(request), frequency=data.validated_data["frequency"]
        )
        return Response(PreferenceSerializer(_preference_body(request)).data)


class MyDigestPreviewView(APIView):
    """The caller's digest as it would be sent now: the same posts, challenges and points,
    the email's HTML and text; `would_send` is false when nothing is new."""

    permission_classes = [HasOrganization]

    @extend_schema(responses=PreviewSerializer)
    def get(self, request: Request) -> Response:
        digest = selectors.digest_for(api_caller(request))
        subject = html = text = ""
        if digest.would_send:
            rendered = digest_render(digest)
            subject, html, text = rendered.subject, rendered.html, rendered.text
        body = {
            "would_send": digest.would_send,
            "frequency": digest.frequency,
            "since": digest.since,
            "until": digest.until,
            "items": digest.items,
            "more": digest.more,
            "challenges": digest.challenges,
            "points": digest.points,
            "points_gained": digest.points_gained,
            "rank": digest.rank,
            "rank_change": digest.rank_change,
            "subject": subject,
            "html": html,
            "text": text,
        }
        return Response(PreviewSerializer(body).data)

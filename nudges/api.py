"""/api/v1/me/nudges/: the caller's reminders, kind by kind (GET), and their choice
(PATCH: the kinds named change, the others stay as they are)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nudges import selectors, services
from nudges.models import NudgeKind
from organizations.api import HasOrganization, api_caller


class NudgePreferenceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=NudgeKind.choices)
    # A declared field, popped by DRF's metaclass: it does not replace Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    enabled = serializers.BooleanField(help_text="The caller wants this kind of reminder.")
    organization_enabled = serializers.BooleanField(
        help_text="The organisation sends this kind at all; when false, nothing is sent "
        "whatever the caller's choice."
    )


class MyNudgesSerializer(serializers.Serializer):
    weekly_cap = serializers.IntegerField(help_text="The most reminders a person gets in 7 days.")
    nudges = NudgePreferenceSerializer(many=True, help_text="In priority order.")


class MyNudgesInput(serializers.Serializer):
    """Each field is optional: `{"inactive": false}` switches that reminder off."""

    scheduled_share = serializers.BooleanField(required=False)
    challenge_ending = serializers.BooleanField(required=False)
    charter = serializers.BooleanField(required=False)
    inactive = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, bool]) -> dict[str, bool]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    unknown[0]: _("Unknown kind of reminder. Known kinds: %(kinds)s.")
                    % {"kinds": ", ".join(NudgeKind.values)}
                }
            )
        return attrs


class MyNudgesView(APIView):
    """The caller's reminders ("nudges"): which kinds they receive."""

    permission_classes = [HasOrganization]

    def _answer(self, request: Request) -> Response:
        config, rows = selectors.nudge_preferences_of(api_caller(request))
        body = {
            "weekly_cap": config.weekly_cap,
            "nudges": [
                {
                    "kind": row.kind,
                    "label": str(row.label),
                    "enabled": row.enabled,
                    "organization_enabled": row.organization_enabled,
                }
                for row in rows
            ],
        }
        return Response(MyNudgesSerializer(body).data)

    @extend_schema(responses=MyNudgesSerializer)
    def get(self, request: Request) -> Response:
        return self._answer(request)

    @extend_schema(request=MyNudgesInput, responses=MyNudgesSerializer)
    def patch(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_('Send a JSON object, such as {"inactive": false}.')]}
            )
        data = MyNudgesInput(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data:
            user = api_caller(request)
            _config, rows = selectors.nudge_preferences_of(user)
            enabled = {row.kind for row in rows if row.enabled}
            for kind, wanted in data.validated_data.items():
                if wanted:
                    enabled.add(kind)
                else:
                    enabled.discard(kind)
            services.nudge_preferences_set(user=user, enabled=enabled)
        return self._answer(request)


urlpatterns = [path("me/nudges/", MyNudgesView.as_view(), name="api_my_nudges")]

"""How the API's authentication appears in the OpenAPI schema (loaded in AppConfig.ready)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    # drf-spectacular's own knox extension matches knox's class exactly, not a subclass.
    target_class = "organizations.api_auth.UserLanguageTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        prefix = self.target.authenticate_header(None)
        # What drf-spectacular writes for DRF's own token scheme, so the schema is unchanged.
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f'Token-based authentication with required prefix "{prefix}"',
        }

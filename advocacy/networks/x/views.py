"""The OAuth 2.0 login and callback views allauth mounts for X (see provider.py)."""

from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView

from advocacy.networks.x.provider import XOAuth2Adapter

oauth2_login = OAuth2LoginView.adapter_view(XOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(XOAuth2Adapter)

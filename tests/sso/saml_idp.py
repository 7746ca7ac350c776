"""A SAML 2.0 identity provider for the tests: pysaml2's IdP (saml2.server.Server), which
signs with the xmlsec1 binary, served on loopback by a small WSGI app.

    GET  /metadata            the IdP's metadata (what the admin uploads or links)
    GET  /sso/redirect        an AuthnRequest (HTTP-Redirect binding): the sign-in form
    POST /sso/login           the person chosen: an auto-posting form to the SP's ACS

The tests also call `respond()` directly to get a signed (or unsigned, or altered)
SAMLResponse for a request, as an attacker replaying or forging one would hold it."""

from __future__ import annotations

import base64
import datetime as dt
import html
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

# Who can sign in at the test IdP: login -> attributes (pysaml2's friendly names).
SAML_PEOPLE: dict[str, dict[str, list[str]]] = {
    "claire": {
        "mail": ["claire.martin@acme.test"],
        "givenName": ["Claire"],
        "sn": ["Martin"],
        "preferredLanguage": ["en"],
    },
    "dora": {"mail": ["dora@acme.test"], "givenName": ["Dora"], "sn": ["Durand"]},
}
ASSERTION_LIFETIME_MINUTES = 5


def _key_and_cert(directory: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test IdP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=3650))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / "idp.key", directory / "idp.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class SamlIdp:
    directory: Path
    server: WSGIServer | None = None
    base_url: str = ""
    idp: Server | None = None
    sp_metadata: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> SamlIdp:
        self.key_path, self.cert_path = _key_and_cert(self.directory)
        self.server = make_server("127.0.0.1", 0, self._app, handler_class=_QuietHandler)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self._configure()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/metadata"

    def _configure(self) -> None:
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (f"{self.base_url}/sso/redirect", BINDING_HTTP_REDIRECT)
                            ]
                        },
                        "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": ASSERTION_LIFETIME_MINUTES},
                                "attribute_restrictions": None,
                                "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
                            }
                        },
                        "want_authn_requests_signed": False,
                    }
                },
                "key_file": str(self.key_path),
                "cert_file": str(self.cert_path),
                "xmlsec_binary": "/usr/bin/xmlsec1",
                "metadata": {"inline": list(self.sp_metadata)} if self.sp_metadata else {},
            }
        )
        self.idp = Server(config=config)

    def trust_sp(self, metadata_xml: str) -> None:
        """Register our service provider (its metadata), as the IdP admin does."""
        self.sp_metadata = [metadata_xml]
        self._configure()

    def metadata(self) -> str:
        assert self.idp is not None
        return create_metadata_string(None, config=self.idp.config, valid=None).decode()

    def request_info(self, saml_request: str) -> dict[str, Any]:
        assert self.idp is not None
        parsed = self.idp.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
        return self.idp.response_args(parsed.message, [BINDING_HTTP_POST])

    def respond(
        self, request_args: dict[str, Any], login: str, *, sign: bool = True
    ) -> tuple[str, str]:
        """(ACS URL, SAMLResponse in base64) for this person."""
        assert self.idp is not None
        person = SAML_PEOPLE[login]
        email = person["mail"][0]
        response = self.idp.create_authn_response(
            dict(person),
            userid=email,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
            sign_assertion=sign,
            sign_response=False,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            in_response_to=request_args["in_response_to"],
            destination=request_args["destination"],
            sp_entity_id=request_args["sp_entity_id"],
            name_id_policy=request_args.get("name_id_policy"),
        )
        return request_args["destination"], base64.b64encode(str(response).encode()).decode()

    # --- The web pages a browser sees ------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        if path == "/metadata":
            start_response("200 OK", [("Content-Type", "application/samlmetadata+xml")])
            return [self.metadata().encode()]
        if path == "/sso/redirect":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            saml_request = query.get("SAMLRequest", [""])[0]
            relay = query.get("RelayState", [""])[0]
            options = "".join(
                f'<option value="{html.escape(login)}">{html.escape(login)}</option>'
                for login in SAML_PEOPLE
            )
            body = (
                "<!doctype html><title>Test IdP</title><h1>Test IdP sign-in</h1>"
                '<form method="post" action="/sso/login">'
                f'<input type="hidden" name="SAMLRequest" value="{html.escape(saml_request)}">'
                f'<input type="hidden" name="RelayState" value="{html.escape(relay)}">'
                f'<label>Person <select name="login">{options}</select></label>'
                '<button type="submit">Sign in at the IdP</button></form>'
            )
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [body.encode()]
        if path == "/sso/login" and environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = parse_qs(environ["wsgi.input"].read(length).decode())
            args = self.request_info(form["SAMLRequest"][0])
            acs, saml_response = self.respond(args, form["login"][0])
            relay = form.get("RelayState", [""])[0]
            body = (
                "<!doctype html><title>Test IdP</title>"
                f'<form id="back" method="post" action="{html.escape(acs)}">'
                f'<input type="hidden" name="SAMLResponse" value="{saml_response}">'
                f'<input type="hidden" name="RelayState" value="{html.escape(relay)}">'
                '<button type="submit">Continue</button></form>'
                "<script>document.getElementById('back').submit()</script>"
            )
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [body.encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

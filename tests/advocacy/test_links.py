"""Tracked-link destinations: what may be redirected to, and the UTM parameters added."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from advocacy.links import DESTINATION_MAX_LENGTH, destination_validate, destination_with_utm
from advocacy.models import Share, TrackedLink
from organizations.errors import DomainError
from tests.advocacy.conftest import make_content, share_now

ACCEPTED = [
    "https://www.example.org/news/1",
    "http://example.com",
    "HTTPS://Example.COM/Path",
    "https://example.com:8443/a/b?q=1&r=two#frag",
    "https://example.com/?next=//evil.com",  # the destination's own query is its business
    "https://example.com/a%20b?x=%2F",
    "https://例え.jp/パス",
    "https://sub_domain.example.com/",
    "https://example.com./",
    "https://93.184.216.34/",
    "https://[2001:db8::1]/x",
    "  https://example.com/pasted-with-spaces  ",
]

# (vector, why it is refused). Several are read differently by Python's urlsplit and by
# browsers (WHATWG URL): the browser reading is the one that matters for a redirect.
REFUSED = [
    ("", "empty"),
    ("javascript:alert(1)", "script scheme"),
    ("JaVaScRiPt:alert(1)", "script scheme, mixed case"),
    ("java\tscript:alert(1)", "browsers drop the tab: javascript:"),
    ("vbscript:msgbox(1)", "script scheme"),
    ("data:text/html,<script>alert(1)</script>", "data scheme"),
    ("file:///etc/passwd", "file scheme"),
    ("ftp://example.com/file", "not http(s)"),
    ("//evil.com", "scheme-relative: the browser keeps our scheme and goes to evil.com"),
    ("/local/path", "relative"),
    ("example.com", "no scheme"),
    ("http:evil.com", "urlsplit: a path; browsers: host evil.com"),
    ("http:/evil.com", "urlsplit: a path; browsers: host evil.com"),
    ("https:///evil.com", "urlsplit: no host; browsers: host evil.com"),
    ("https:/\\evil.com", "browsers read the backslash as a slash: host evil.com"),
    ("https:\\\\evil.com", "browsers: host evil.com"),
    ("https://good.com\\@evil.com", "urlsplit: host evil.com; browsers: host good.com"),
    ("https://evil.com\\.good.com", "urlsplit: host evil.com\\.good.com; browsers: evil.com"),
    ("https://user:pass@example.com/", "user info"),
    ("https://user@example.com/", "user info"),
    ("https://good.com@evil.com/", "looks like good.com, goes to evil.com"),
    ("https://good.com:443@evil.com/", "looks like good.com, goes to evil.com"),
    ("https://good.com%40evil.com/", "browsers percent-decode the host"),
    ("https://evil.com%2f.good.com/", "browsers percent-decode the host"),
    ("https://evil.com／good.com/", "fullwidth solidus: NFKC makes it a slash"),
    ("https://good.com;.evil.com/", "not a host name"),
    ("https://exa mple.com/", "space in host"),
    ("https://example.com/a b", "space in path"),
    ("https://example.com/a\u3000b", "ideographic space"),
    ("https://example.com/\r\nSet-Cookie:x=1", "header injection"),
    ("https://example.com/\x00", "NUL"),
    ("\x00https://example.com/", "leading NUL"),
    ("https://exa\u200bmple.com/", "zero-width space"),
    ("https://goo\u00adgle.com/", "soft hyphen: browsers drop it"),
    ("https://example.com/\u202egnp.exe", "right-to-left override"),
    ("https://example.com/\x7f", "DEL"),
    ("https://", "no host"),
    ("https://:443/", "no host"),
    ("https://?q=1", "no host"),
    ("http://[::1", "unclosed IPv6 bracket: urlsplit raises"),
    ("http://[not-ipv6]/", "bad IPv6 literal"),
    ("https://0x7f.1/", "browsers: 127.0.0.1"),
    ("https://2130706433/", "browsers: 127.0.0.1"),
    ("https://example.123/", "browsers: an invalid IPv4 address"),
    ("https://example.com:99999/", "port out of range"),
    ("https://example.com:80:80/", "two ports"),
    ("https://example.com:abc/", "port not a number"),
    ("https://example.com:-1/", "negative port"),
    ("https://example.com:+80/", "signed port"),
    ("https://example.com:٨٠/", "non-ASCII digits"),
    ("https://example.com:0/", "port 0"),
    ("https://" + "a" * 64 + ".com/", "host label over 63 characters"),
    ("https://example.com/" + "a" * DESTINATION_MAX_LENGTH, "longer than the column"),
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_accepted_destinations(url):
    assert destination_validate(url) == url.strip()


@pytest.mark.parametrize(("url", "why"), REFUSED, ids=[why for _url, why in REFUSED])
def test_refused_destinations(url, why):
    with pytest.raises(DomainError) as caught:
        destination_validate(url)
    assert caught.value.field == "link"
    assert caught.value.message


def test_utm_parameters_added_and_replaced_rest_kept_verbatim():
    target = destination_with_utm(
        "https://example.com/a%20b?flag&x=%2Fy&utm_source=old&UTM_keep=1&utm_medium=m#top",
        source="linkedin",
        campaign="launch-42",
    )
    assert target == (
        "https://example.com/a%20b?flag&x=%2Fy&UTM_keep=1"
        "&utm_source=linkedin&utm_medium=employee_advocacy&utm_campaign=launch-42#top"
    )


def test_utm_parameters_on_a_bare_destination():
    target = destination_with_utm("https://example.com", source="x", campaign="c & d")
    parts = urlsplit(target)
    assert (parts.netloc, parts.path) == ("example.com", "")
    assert parts.query == "utm_source=x&utm_medium=employee_advocacy&utm_campaign=c+%26+d"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad", ["javascript:alert(1)", "https://good.com@evil.com/", "https:/\\evil.com"]
)
def test_share_with_a_bad_destination_creates_nothing(personas, bad):
    content = make_content(personas.organization, link=bad)
    with pytest.raises(DomainError):
        share_now(personas.teammate, content, networks=("facebook",))
    assert not Share.objects.exists()
    assert not TrackedLink.objects.exists()


@pytest.mark.django_db
def test_share_link_stores_the_validated_destination(personas):
    content = make_content(personas.organization, link="https://www.example.org/news/1?a=1")
    [share] = share_now(personas.teammate, content, networks=("facebook",))
    link = share.tracked_link
    assert link.destination == "https://www.example.org/news/1?a=1"
    assert link.utm_source == "facebook"
    assert link.organization_id == personas.organization.pk

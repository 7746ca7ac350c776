"""One pipeline for every stored image (avatars, logos, challenge banners, reward images):
validated, re-encoded without EXIF or GPS, stored under an unguessable name, served only
to those who may see its owner, refused past the byte limit before it is decoded, and
deleted once replaced."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from challenges.models import Challenge, ChallengeStatus, Reward
from challenges.services.campaigns import ChallengeInput, challenge_create, challenge_update
from challenges.services.rewards import RewardInput, reward_create, reward_update
from organizations.images import validate_image
from organizations.models import Organization, Role, User
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def gps_jpeg(colour: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    """A phone photo: EXIF with the maker and a GPS position in Paris."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), colour).save(buffer, "JPEG", exif=exif)
    data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as check:
        assert check.getexif().get_ifd(GPS_IFD), "the test photo carries GPS"
    return data


def photo(name: str = "holiday-gps.jpg", colour: tuple[int, int, int] = (10, 120, 200)):
    return SimpleUploadedFile(name, gps_jpeg(colour), content_type="image/jpeg")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    return tmp_path


def _profile(client: Client, avatar) -> None:
    response = client.post(
        "/me/",
        {"first_name": "Ana", "last_name": "Lopez", "job_title": "", "language": "en",
         "avatar": avatar},
    )  # fmt: skip
    assert response.status_code == 302, response.content[:500]


def _logo(client: Client, logo) -> None:
    response = client.post(
        "/admin/",
        {"name": "Acme Santé", "default_language": "fr", "time_zone": "Europe/Paris",
         "brand_colour": "#112233", "logo": logo},
    )  # fmt: skip
    assert response.status_code == 302, response.content[:500]


def _challenge_input(**fields) -> ChallengeInput:
    now = timezone.now()
    return ChallengeInput(
        title="Launch week",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=8),
        goal=10,
        **fields,
    )


def store(kind: str, personas, upload) -> tuple[object, str]:
    """Upload ``upload`` as ``kind`` the way the product does; returns (owner, field)."""
    if kind == "avatar":
        _profile(client_for(personas.teammate), upload)
        return User.objects.get(pk=personas.teammate.pk), "avatar"
    if kind == "logo":
        _logo(client_for(personas.owner), upload)
        return Organization.objects.get(pk=personas.organization.pk), "logo"
    if kind == "banner":
        existing = Challenge.objects.filter(organization=personas.organization).first()
        if existing is None:
            challenge = challenge_create(actor=personas.owner, data=_challenge_input(banner=upload))
        else:
            challenge = challenge_update(
                actor=personas.owner, challenge=existing, data=_challenge_input(banner=upload)
            )
        return Challenge.objects.get(pk=challenge.pk), "banner"
    existing_reward = Reward.objects.filter(organization=personas.organization).first()
    data = RewardInput(title="A day off", cost=100, image=upload)
    if existing_reward is None:
        reward = reward_create(actor=personas.owner, data=data)
    else:
        reward = reward_update(actor=personas.owner, reward=existing_reward, data=data)
    return Reward.objects.get(pk=reward.pk), "image"


KINDS = {"avatar": "avatars", "logo": "logos", "banner": "challenges", "reward": "rewards"}


# --- Re-encoded, metadata stripped, unguessable names ---------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_exif_and_gps_never_reach_the_stored_file(personas, media, kind):
    owner, field = store(kind, personas, photo())
    stored = getattr(owner, field)
    with Image.open(stored.path) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info
        assert image.size == (320, 200)
    assert b"PhoneMaker" not in (media / stored.name).read_bytes()


@pytest.mark.parametrize("kind", KINDS)
def test_stored_names_are_unguessable(personas, media, kind):
    owner, field = store(kind, personas, photo("ana-lopez-avatar.jpg"))
    name = getattr(owner, field).name
    assert re.fullmatch(rf"{KINDS[kind]}/[A-Za-z0-9_-]{{24}}\.jpg", name), name
    assert "ana" not in name.lower()


def test_the_extension_follows_the_content_not_the_upload_name(personas, media):
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(buffer, "PNG")
    owner, field = store("avatar", personas, SimpleUploadedFile("pic.jpg", buffer.getvalue()))
    assert getattr(owner, field).name.endswith(".png")


def test_an_image_saved_on_the_model_directly_is_cleaned_too(personas, media):
    """The Django admin and any code that assigns the field go through the same pipeline."""
    user = personas.teammate
    user.avatar = photo()
    user.save()
    user.refresh_from_db()
    with Image.open(user.avatar.path) as image:
        assert not image.getexif()
    assert re.fullmatch(r"avatars/[A-Za-z0-9_-]{24}\.jpg", user.avatar.name)


# --- The byte limit -------------------------------------------------------------------------


def test_the_byte_limit_is_checked_before_decoding(settings):
    settings.IMAGE_MAX_BYTES = 4096
    padded = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff\xe0" + b"\0" * (12 * 1024 - 4))
    with (
        mock.patch("PIL.Image.open", side_effect=AssertionError("decoded")) as opened,
        pytest.raises(ValidationError) as caught,
    ):
        validate_image(padded)
    assert caught.value.code == "file_too_large"
    assert caught.value.messages[0] == "This file is too large (12 KB; at most 4 KB)."
    opened.assert_not_called()


@pytest.mark.parametrize(
    ("language", "says"),
    [("en", "This file is too large: at most 64 KB."), ("fr", "256\u00a0Ko au maximum")],
)
def test_an_avatar_over_the_byte_limit_is_refused_and_nothing_is_stored(
    personas, media, settings, language, says
):
    settings.IMAGE_MAX_BYTES = 64 * 1024 if language == "en" else 256 * 1024
    User.objects.filter(pk=personas.teammate.pk).update(language=language)
    big = SimpleUploadedFile("big.jpg", gps_jpeg() + b"\0" * (400 * 1024))
    response = client_for(personas.teammate).post(
        "/me/", {"first_name": "Ana", "last_name": "L", "language": "en", "avatar": big}
    )
    assert response.status_code == 413
    assert says in response.content.decode()
    personas.teammate.refresh_from_db()
    assert not personas.teammate.avatar
    assert personas.teammate.first_name != "Ana"
    assert [p for p in media.rglob("*") if p.is_file()] == []


# --- Replaced files are deleted -------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_replaced_image_is_deleted(personas, media, kind, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        owner, field = store(kind, personas, photo(colour=(200, 0, 0)))
    first = media / getattr(owner, field).name
    assert first.is_file()
    with django_capture_on_commit_callbacks(execute=True):
        owner, field = store(kind, personas, photo(colour=(0, 200, 0)))
    second = media / getattr(owner, field).name
    assert second.is_file()
    assert second != first
    assert not first.exists()
    assert sorted(p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()) == [
        getattr(owner, field).name
    ]


def test_a_removed_banner_is_deleted(personas, media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        challenge, _field = store("banner", personas, photo())
    stored = media / challenge.banner.name
    with django_capture_on_commit_callbacks(execute=True):
        challenge_update(
            actor=personas.owner, challenge=challenge, data=_challenge_input(remove_banner=True)
        )
    challenge.refresh_from_db()
    assert not challenge.banner
    assert not stored.exists()


def test_a_replaced_file_still_referenced_elsewhere_is_kept(
    personas, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner, _field = store("avatar", personas, photo())
    shared = owner.avatar.name
    User.objects.filter(pk=personas.owner.pk).update(avatar=shared)
    with django_capture_on_commit_callbacks(execute=True):
        store("avatar", personas, photo(colour=(0, 0, 0)))
    assert (media / shared).is_file()


# --- Served behind an access check ----------------------------------------------------------


def _get(client: Client, url: str):
    response = client.get(url)
    if response.status_code == 200:
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response.status_code


def test_avatars_and_logos_are_for_members_of_the_organisation(personas, media):
    avatar_owner, _ = store("avatar", personas, photo())
    organization, _ = store("logo", personas, photo())
    for url in (avatar_owner.avatar.url, organization.logo.url):
        assert url.startswith("/media/")
        assert _get(Client(), url) == 404
        assert _get(client_for(personas.outsider), url) == 404
        assert _get(client_for(personas.owner), url) == 200
        assert _get(client_for(personas.teammate), url) == 200


def test_a_draft_challenge_banner_is_for_editors_only(personas, media):
    challenge, _ = store("banner", personas, photo())
    url = challenge.banner.url
    assert challenge.status == ChallengeStatus.DRAFT
    assert _get(Client(), url) == 404
    assert _get(client_for(personas.teammate), url) == 404
    assert _get(client_for(personas.outsider), url) == 404
    assert _get(client_for(personas.owner), url) == 200
    Challenge.objects.filter(pk=challenge.pk).update(status=ChallengeStatus.ACTIVE)
    assert _get(client_for(personas.teammate), url) == 200
    assert _get(Client(), url) == 404


def test_an_inactive_reward_image_is_for_administrators_only(personas, media):
    reward, _ = store("reward", personas, photo())
    url = reward.image.url
    assert _get(client_for(personas.teammate), url) == 200
    assert _get(client_for(personas.outsider), url) == 404
    assert _get(Client(), url) == 404
    Reward.objects.filter(pk=reward.pk).update(is_active=False)
    assert _get(client_for(personas.teammate), url) == 404
    assert _get(client_for(personas.owner), url) == 200


def test_an_old_guessable_name_is_still_served_but_only_behind_the_check(personas, media):
    """Files stored before the unguessable names keep working for those who may see them."""
    (media / "avatars").mkdir()
    (media / "avatars" / "ana.jpg").write_bytes(gps_jpeg())
    User.objects.filter(pk=personas.teammate.pk).update(avatar="avatars/ana.jpg")
    (media / "avatars" / "nobody.jpg").write_bytes(gps_jpeg())
    assert _get(client_for(personas.owner), "/media/avatars/ana.jpg") == 200
    assert _get(Client(), "/media/avatars/ana.jpg") == 404
    assert _get(client_for(personas.outsider), "/media/avatars/ana.jpg") == 404
    # A file that no row references is nobody's: not served, even to an administrator.
    assert _get(client_for(personas.owner), "/media/avatars/nobody.jpg") == 404


def test_pages_that_show_these_images_still_show_them(personas, media):
    store("avatar", personas, photo())
    store("logo", personas, photo())
    challenge, _ = store("banner", personas, photo())
    Challenge.objects.filter(pk=challenge.pk).update(status=ChallengeStatus.ACTIVE)
    store("reward", personas, photo())
    employee = client_for(personas.teammate)
    seen: set[str] = set()
    for page in ("/me/", "/challenges/", f"/challenges/{challenge.pk}/", "/rewards/"):
        response = employee.get(page)
        assert response.status_code == 200, page
        for url in re.findall(r'src="(/media/[^"]+)"', response.content.decode()):
            assert _get(employee, url) == 200, (page, url)
            seen.add(url.split("/")[2])
    assert seen == {"avatars", "logos", "challenges", "rewards"}


def test_a_superuser_sees_files_in_the_django_admin(personas, media):
    avatar_owner, _ = store("avatar", personas, photo())
    staff = UserFactory(organization=None, role=Role.EMPLOYEE, is_staff=True, is_superuser=True)
    assert _get(client_for(staff), avatar_owner.avatar.url) == 200

"""content.imaging: clean originals (no metadata, upright), exact renditions, and every bad
upload refused with a ValidationError, never another exception."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageChops, ImageCms, PngImagePlugin

from content.imaging import (
    RENDITIONS,
    ProcessedImage,
    _bare,
    _drawable,
    demo_image_draw,
    image_process,
)


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def upload(data: bytes, name: str = "upload.bin") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def noisy(size: tuple[int, int], mode: str = "RGB", seed: int = 0) -> Image.Image:
    bands = len(mode)
    return Image.frombytes(mode, size, random.Random(seed).randbytes(size[0] * size[1] * bands))


def quadrants(size: tuple[int, int] = (400, 300)) -> Image.Image:
    """Red top-left, green top-right, blue bottom-left, white bottom-right."""
    width, height = size
    image = Image.new("RGB", size, "white")
    image.paste((255, 0, 0), (0, 0, width // 2, height // 2))
    image.paste((0, 255, 0), (width // 2, 0, width, height // 2))
    image.paste((0, 0, 255), (0, height // 2, width // 2, height))
    return image


def close_to(pixel, expected, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))


def assert_renditions(processed: ProcessedImage, rendition_format: str) -> None:
    assert set(processed.renditions) == set(RENDITIONS)
    for key, size in RENDITIONS.items():
        rendition = opened(processed.renditions[key])
        assert rendition.format == rendition_format, key
        assert rendition.size == size, key


def gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "SECRET-CAMERA"
    exif[ExifTags.Base.ImageDescription] = "SECRET-DESCRIPTION"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 21.0, 7.0)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(
        quadrants(),
        "JPEG",
        exif=exif,
        icc_profile=srgb,
        comment=b"SECRET-COMMENT",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">SECRET-XMP</x:xmpmeta>',
        quality=95,
    )


# -- Metadata and orientation ----------------------------------------------------------


def test_jpeg_with_gps_exif_is_stripped_and_rotated():
    data = gps_jpeg()
    source = opened(data)
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really has GPS
    assert {"exif", "icc_profile", "comment", "xmp"} <= set(source.info)

    processed = image_process(upload(data, "holiday.jpg"))

    assert processed.format == "JPEG"
    original = opened(processed.original)
    assert original.format == "JPEG"
    assert not original.getexif()
    for key in ("exif", "icc_profile", "comment", "xmp"):
        assert key not in original.info
    for secret in (b"SECRET", b"Exif", b"GPS", b"http://ns.adobe.com/xap"):
        assert secret not in processed.original
    # Orientation 6: rotated 90° clockwise, so the size is swapped and red (top-left of
    # the stored pixels) ends up top-right.
    assert (processed.width, processed.height) == (300, 400) == original.size
    assert close_to(original.getpixel((290, 10)), (255, 0, 0))
    assert close_to(original.getpixel((10, 10)), (0, 0, 255))
    assert_renditions(processed, "JPEG")
    for rendition in processed.renditions.values():
        assert b"SECRET" not in rendition
        assert not opened(rendition).getexif()


def test_png_text_chunks_and_exif_are_stripped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "SECRET-AUTHOR")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SECRET-CAMERA"
    data = encode(quadrants(), "PNG", pnginfo=info, exif=exif)

    processed = image_process(upload(data, "chart.png"))

    assert processed.format == "PNG"
    assert b"SECRET" not in processed.original
    original = opened(processed.original)
    assert not original.getexif()
    assert "Author" not in original.info
    assert original.size == (400, 300)


def test_cmyk_jpeg_becomes_rgb_with_the_right_colours():
    data = encode(Image.new("CMYK", (200, 200), (0, 255, 255, 0)), "JPEG")

    processed = image_process(upload(data, "print.jpg"))

    original = opened(processed.original)
    assert original.mode == "RGB"
    assert close_to(original.getpixel((100, 100)), (255, 0, 0))
    assert close_to(opened(processed.renditions["thumb"]).getpixel((240, 135)), (255, 0, 0))


def test_a_broken_icc_profile_is_dropped_without_failing():
    data = encode(quadrants(), "JPEG", icc_profile=b"not really a profile" * 10)

    processed = image_process(upload(data, "odd.jpg"))

    assert "icc_profile" not in opened(processed.original).info
    assert_renditions(processed, "JPEG")


def test_16_bit_greyscale_png_is_scaled_not_clipped():
    data = encode(Image.new("I;16", (300, 200), 40_000), "PNG")

    processed = image_process(upload(data, "scan.png"))

    grey = opened(processed.renditions["thumb"]).convert("L").getpixel((240, 135))
    assert abs(grey - 40_000 // 256) <= 3


# -- Renditions -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(4000, 3000), (300, 900), (3000, 200), (50, 40)])
def test_renditions_have_exact_sizes_whatever_the_source(size):
    processed = image_process(upload(encode(quadrants(size), "JPEG"), "photo.jpg"))

    assert (processed.width, processed.height) == size
    assert_renditions(processed, "JPEG")


def test_renditions_are_centred_cover_crops():
    # A wide image: the crop keeps the centre, so the four colours meet in the middle.
    processed = image_process(upload(encode(quadrants((3200, 900)), "PNG"), "wide.png"))

    linkedin = opened(processed.renditions["linkedin"])
    assert close_to(linkedin.getpixel((10, 10)), (255, 0, 0))
    assert close_to(linkedin.getpixel((1190, 10)), (0, 255, 0))
    assert close_to(linkedin.getpixel((10, 617)), (0, 0, 255))
    assert close_to(linkedin.getpixel((1190, 617)), (255, 255, 255))


def test_png_with_alpha_keeps_transparency():
    image = Image.new("RGBA", (800, 600), (0, 0, 0, 0))
    image.paste((200, 30, 30, 255), (200, 150, 600, 450))

    processed = image_process(upload(encode(image, "PNG"), "logo.png"))

    original = opened(processed.original)
    assert original.mode == "RGBA"
    assert original.getpixel((0, 0))[3] == 0
    assert_renditions(processed, "PNG")
    for rendition in processed.renditions.values():
        rendition_image = opened(rendition)
        assert rendition_image.mode == "RGBA"
        assert rendition_image.getpixel((0, 0))[3] == 0
        width, height = rendition_image.size
        assert rendition_image.getpixel((width // 2, height // 2)) == (200, 30, 30, 255)


def test_palette_png_with_transparency_keeps_it():
    image = Image.new("P", (300, 200), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    image.paste(1, (100, 50, 200, 150))

    processed = image_process(upload(encode(image, "PNG", transparency=0), "icon.png"))

    assert "transparency" in opened(processed.original).info
    assert_renditions(processed, "PNG")
    assert opened(processed.renditions["thumb"]).getpixel((0, 0))[3] == 0


def test_opaque_rgba_png_gets_jpeg_renditions():
    image = quadrants().convert("RGBA")

    processed = image_process(upload(encode(image, "PNG"), "opaque.png"))

    assert_renditions(processed, "JPEG")


# -- Accepted formats -----------------------------------------------------------------------


def test_webp_is_accepted():
    processed = image_process(upload(encode(quadrants(), "WEBP", quality=90), "photo.webp"))

    assert processed.format == "WEBP"
    assert opened(processed.original).format == "WEBP"
    assert (processed.width, processed.height) == (400, 300)
    assert_renditions(processed, "JPEG")


def test_static_gif_is_accepted_without_its_comment():
    image = quadrants().convert("P", palette=Image.Palette.ADAPTIVE)
    data = encode(image, "GIF", comment=b"SECRET-COMMENT")

    processed = image_process(upload(data, "chart.gif"))

    assert processed.format == "GIF"
    assert b"SECRET" not in processed.original
    assert opened(processed.original).format == "GIF"
    assert_renditions(processed, "JPEG")


def test_animated_gif_keeps_its_animation_and_renders_the_first_frame():
    frames = [Image.new("RGB", (320, 180), colour) for colour in ("red", "lime", "blue")]
    data = encode(
        frames[0],
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300],
        loop=0,
        comment=b"SECRET-COMMENT",
    )

    processed = image_process(upload(data, "party.gif"))

    assert processed.format == "GIF"
    assert b"SECRET" not in processed.original
    original = Image.open(io.BytesIO(processed.original))
    assert original.n_frames == 3
    assert original.info.get("loop") == 0
    original.seek(2)
    assert close_to(original.convert("RGB").getpixel((10, 10)), (0, 0, 255))
    assert_renditions(processed, "JPEG")
    assert close_to(opened(processed.renditions["x"]).getpixel((800, 450)), (255, 0, 0))


def test_animation_over_the_pixel_budget_keeps_only_the_first_frame(settings):
    frames = [Image.new("RGB", (1000, 1000), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    settings.IMAGE_MAX_PIXELS = 2_000_000

    processed = image_process(upload(data, "big.gif"))

    assert getattr(Image.open(io.BytesIO(processed.original)), "n_frames", 1) == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda data: SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg"),
        lambda data: File(io.BytesIO(data), name="photo.jpg"),
        io.BytesIO,
    ],
    ids=["uploaded-file", "django-file", "bytesio"],
)
def test_accepts_django_files_and_plain_binary_streams(make):
    data = encode(quadrants(), "JPEG")
    stream = make(data)
    stream.seek(5)

    processed = image_process(stream)

    assert processed.width == 400
    assert stream.tell() == 5  # the caller's position is left alone


# -- Refused uploads ------------------------------------------------------------------------


def test_text_file_named_jpg_is_refused():
    with pytest.raises(ValidationError):
        image_process(SimpleUploadedFile("photo.jpg", b"hello, not a picture", "image/jpeg"))


def test_empty_file_is_refused():
    with pytest.raises(ValidationError):
        image_process(upload(b"", "empty.png"))


def test_bmp_is_refused():
    with pytest.raises(ValidationError):
        image_process(upload(encode(quadrants(), "BMP"), "photo.jpg"))


def test_png_over_the_pixel_limit_is_refused(settings):
    settings.IMAGE_MAX_PIXELS = 10_000

    with pytest.raises(ValidationError):
        image_process(upload(encode(Image.new("RGB", (101, 100)), "PNG"), "big.png"))


def test_truncated_jpeg_is_refused():
    data = encode(noisy((600, 400)), "JPEG", quality=90)

    with pytest.raises(ValidationError):
        image_process(upload(data[: len(data) // 2], "cut.jpg"))


def test_truncated_png_is_refused():
    data = encode(noisy((600, 400)), "PNG")

    with pytest.raises(ValidationError):
        image_process(upload(data[: len(data) // 2], "cut.png"))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims ``width`` x ``height`` (CRC fixed up)."""
    data = bytearray(encode(Image.new("1", (8, 8)), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize("dimensions", [(100_000, 100_000), (20_000, 20_000), (65_535, 1)])
@pytest.mark.parametrize("max_pixels", [None, 10**12])
def test_decompression_bombs_are_refused(settings, dimensions, max_pixels):
    if max_pixels is not None:
        # Even with our own limit out of the way, Pillow's bomb guard still answers.
        settings.IMAGE_MAX_PIXELS = max_pixels

    with pytest.raises(ValidationError):
        image_process(upload(png_declaring(*dimensions), "bomb.png"))


def test_real_decompression_bomb_is_refused():
    # 100 megapixels of a single colour compresses to a few kilobytes.
    data = encode(Image.new("1", (10_000, 10_000)), "PNG")
    assert len(data) < 100_000

    with pytest.raises(ValidationError):
        image_process(upload(data, "bomb.png"))


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "GIF"])
@pytest.mark.parametrize("seed", range(12))
def test_corrupted_files_never_raise_anything_but_validation_error(image_format, seed):
    rng = random.Random(seed)
    source = noisy((120, 80), seed=seed)
    if image_format == "GIF":
        source = source.convert("P")
    data = bytearray(encode(source, image_format))
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(8, len(data))] = rng.randrange(256)

    try:
        processed = image_process(upload(bytes(data), "damaged"))
    except ValidationError:
        return
    for key, size in RENDITIONS.items():
        assert opened(processed.renditions[key]).size == size


# -- Demo illustrations -----------------------------------------------------------------


def test_demo_image_is_a_png_of_the_requested_size():
    data = demo_image_draw(title="Bienvenue chez Acme Santé", colour="#0a66c2")

    image = opened(data)
    assert image.format == "PNG"
    assert image.size == (1200, 627)

    custom = opened(demo_image_draw(title="Square", colour="tomato", size=(600, 600)))
    assert custom.size == (600, 600)


def test_demo_image_is_deterministic_and_varies_with_its_arguments():
    arguments = {"title": "Nos engagements RSE 2025", "colour": "#2e7d32", "seed": 3}

    first = demo_image_draw(**arguments)

    assert demo_image_draw(**arguments) == first
    assert demo_image_draw(**{**arguments, "seed": 4}) != first
    assert demo_image_draw(**{**arguments, "colour": "#6a1b9a"}) != first
    assert demo_image_draw(**{**arguments, "title": "Autre titre"}) != first


def white_pixels(image: Image.Image) -> int:
    red, green, blue = image.convert("RGB").split()
    darkest = ImageChops.darker(ImageChops.darker(red, green), blue)
    return sum(darkest.histogram()[241:])


def test_demo_image_has_white_title_text_on_the_colour():
    plain = opened(demo_image_draw(title="", colour="#0a66c2"))
    titled = opened(demo_image_draw(title="Un titre bien visible", colour="#0a66c2"))

    assert plain.getpixel((5, 5))[2] > plain.getpixel((5, 5))[0]  # blue background
    assert white_pixels(titled) > white_pixels(plain) + 1000


@pytest.mark.parametrize(
    "title",
    [
        "",
        "x",
        "Un titre très long " * 20,
        "Supercalifragilisticexpialidocious" * 6,
        "a\nb\nc",
        "Événement : la Fête de l'été à Noël, maîtrise, naïf, garçon, Ça, ÎLE",
        "🎉 Lancement \u2013 10 € 漢字",
    ],
)
def test_demo_image_handles_any_title(title):
    image = opened(demo_image_draw(title=title, colour="#ffe082", size=(480, 270), seed=1))

    assert image.size == (480, 270)


def test_demo_image_only_draws_what_the_bundled_font_has():
    # The bundled font is ASCII only: accents become marks over the base letter, a few
    # characters get an ASCII stand-in, and the rest (emoji, other scripts) is left out
    # instead of being drawn as "tofu" boxes.
    assert _bare(_drawable("Santé à l'Été")) == "Sante a l'Ete"
    assert _drawable("Santé") != "Sante"
    assert _drawable("🎉 Lancement \u2013 10 € 漢字") == " Lancement - 10 EUR "
    assert white_pixels(opened(demo_image_draw(title="🎉 漢字", colour="navy"))) < 100


def test_demo_image_goes_through_the_processing_pipeline():
    processed = image_process(upload(demo_image_draw(title="Demo", colour="navy"), "demo.png"))

    assert processed.format == "PNG"
    assert_renditions(processed, "JPEG")


@pytest.mark.parametrize(
    "arguments", [{"colour": "not-a-colour"}, {"size": (0, 100)}, {"size": (100_000, 100)}]
)
def test_demo_image_refuses_bad_arguments(arguments):
    with pytest.raises(ValueError):
        demo_image_draw(**{"title": "Demo", "colour": "navy", **arguments})

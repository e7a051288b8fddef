"""The unified social credit code (统一社会信用代码, GB 32100-2015) with its check character."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# 31 characters: digits and capitals without I, O, Z, S, V.
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(ch) * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """None when valid, else a sentence saying what is wrong."""
    if len(code) != 18:
        return f"unified social credit code '{code}' must have 18 characters, has {len(code)}"
    bad = sorted({ch for ch in code if ch not in CREDIT_CODE_CHARS})
    if bad:
        return f"unified social credit code '{code}' has characters not allowed: {''.join(bad)}"
    if not code[2:8].isdigit():
        return f"unified social credit code '{code}': characters 3-8 must be the registering adcode"
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        return f"unified social credit code '{code}': check character is '{code[17]}', expected '{expected}'"
    return None


def validate_credit_code(value: str) -> None:
    problem = credit_code_problem(value)
    if problem:
        raise ValidationError(problem)


# --- Attachments -------------------------------------------------------------------------
# Checked by the file's first bytes, not by the name or the client's content type.
ATTACHMENT_SIGNATURES: tuple[tuple[bytes, str, tuple[str, ...]], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
    (b"%PDF-", "application/pdf", (".pdf",)),
)


def attachment_content_type(*, name: str, head: bytes, size: int, max_bytes: int) -> str:
    """The content type of an acceptable attachment; ValidationError with a clear message otherwise."""
    if size <= 0:
        raise ValidationError(_("'%(name)s' is empty.") % {"name": name})
    if size > max_bytes:
        raise ValidationError(
            _("'%(name)s' is %(value).1f MB; attachments may be at most %(value2).1f MB.")
            % {"name": name, "value": size / 1048576, "value2": max_bytes / 1048576}
        )
    lower = name.lower()
    for magic, content_type, suffixes in ATTACHMENT_SIGNATURES:
        if head.startswith(magic):
            if not lower.endswith(suffixes):
                raise ValidationError(
                    _("'%(name)s' is a %(content_type)s file but its name ends otherwise; use %(suffix)s.")
                    % {"name": name, "content_type": content_type, "suffix": suffixes[0]}
                )
            return content_type
    raise ValidationError(_("'%(name)s' is not a JPEG, PNG or PDF file; only those are accepted.") % {"name": name})


def attachment_content_check(*, name: str, content: bytes, content_type: str, max_pixels: int) -> None:
    """Check that the whole file is what its first bytes claim; ValidationError otherwise.

    Images are fully decoded with Pillow (`verify()` for the structure and checksums, then
    `load()` for every pixel), after refusing dimensions above `max_pixels` before any pixel
    is decoded (a decompression bomb is a few kB that unpack to gigabytes). PDFs must parse
    (pypdf: cross-reference table, trailer, at least one page).
    """
    if content_type in ("image/jpeg", "image/png"):
        _image_check(name=name, content=content, content_type=content_type, max_pixels=max_pixels)
    elif content_type == "application/pdf":
        _pdf_check(name=name, content=content)


def _image_check(*, name: str, content: bytes, content_type: str, max_pixels: int) -> None:
    import io
    import warnings

    from PIL import Image

    expected = {"image/jpeg": "JPEG", "image/png": "PNG"}[content_type]
    unreadable = _("'%(name)s' is not a readable %(format)s image (damaged or not an image).") % {
        "name": name,
        "format": expected,
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[expected]) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ValidationError(
                        _("'%(name)s' is %(width)s×%(height)s pixels; images may have at most %(max)s pixels.")
                        % {"name": name, "width": width, "height": height, "max": f"{max_pixels:,}"}
                    )
                image.verify()
            # verify() leaves the image unusable: open it again and decode every pixel.
            with Image.open(io.BytesIO(content), formats=[expected]) as image:
                image.load()
    except ValidationError:
        raise
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError, struct.error … for bad data
        raise ValidationError(unreadable) from None


def _pdf_check(*, name: str, content: bytes) -> None:
    import io
    import logging

    from pypdf import PdfReader

    unreadable = _("'%(name)s' is not a readable PDF document (damaged or not a PDF).") % {"name": name}
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)  # pypdf warns on every repairable flaw; we only want yes or no
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if len(reader.pages) < 1:
            raise ValidationError(_("'%(name)s' is a PDF without pages.") % {"name": name})
    except ValidationError:
        raise
    except Exception:  # pypdf raises PdfReadError, but also KeyError, ValueError … on broken files
        raise ValidationError(unreadable) from None
    finally:
        logger.setLevel(level)

"""A certificate as a one-page landscape A4 PDF in the issuer's brand (fpdf2; segno draws the QR code).

Unicode text (learner, program and course names) is set in DejaVu Sans, bundled in chalicelib/fonts
(Bitstream Vera licence, DejaVu changes public domain: free to redistribute unmodified with its notice;
1.4 MB, subset into each PDF). DejaVu covers Latin, Greek, Cyrillic, Armenian, Georgian, Hebrew and
Arabic, not CJK: a CJK glyph comes out blank (docs/certifications.md). The brand's core font (Helvetica,
Times, Courier) sets only the fixed English labels. fpdf2 and segno are imported on this path alone.
"""

from __future__ import annotations

import base64
import binascii
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

FONTS = Path(__file__).resolve().parent.parent / "fonts"
UNICODE = "DejaVu"
CORE_FONTS = {"Helvetica", "Times", "Courier"}
DEFAULTS = {"primaryColor": "#1f6feb", "accentColor": "#f5a623", "textColor": "#1b1f24"}
REVOKED_RED = (200, 30, 30)
LOGO_BOX = (70.0, 20.0)  # mm: the logo fits in this box, aspect kept
MAX_LOGO_BYTES = 512 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")


def rgb(value: str | None, fallback: str) -> tuple[int, int, int]:
    text = value if isinstance(value, str) and len(value) == 7 and value.startswith("#") else fallback
    try:
        return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)
    except ValueError:
        return rgb(fallback, "#000000")


def data_url_image(url: str) -> bytes | None:
    """The bytes of a `data:image/...;base64,` URL (a logo kept inline), else None."""
    head, sep, payload = url.partition(",")
    if not (url.startswith("data:") and sep and head.endswith(";base64")):
        return None
    if head[5:-7].lower() not in IMAGE_TYPES:
        return None
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if 0 < len(data) <= MAX_LOGO_BYTES else None


def long_date(value: str | None) -> str:
    """`2026-11-23` or an ISO timestamp as `23 November 2026`."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {day.strftime('%B %Y')}"


def completed_line(item: dict[str, Any]) -> str:
    title = str(item.get("title") or item.get("courseId") or item.get("pathId") or "")
    version = item.get("version")
    return f"{title} (version {int(version)})" if isinstance(version, int | float) else title


def render(cert: dict[str, Any], brand: dict[str, Any], verify_url: str, logo: bytes | None = None) -> bytes:
    """The PDF of `cert` (`id`, `learnerName`, `programName`, `issuedAt`, `expiresAt`, `completed`, `status`)
    in `brand` (`displayName`, `primaryColor`, `accentColor`, `textColor`, `font`); `logo`: image bytes
    (PNG, JPEG, GIF or SVG) already fetched by the caller, else the displayName is set as a wordmark."""
    from fpdf import FPDF
    from fpdf.enums import ResourceAccessPolicy

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.resource_access_policy = ResourceAccessPolicy.NONE  # an SVG logo may not pull files or URLs in
    pdf.set_auto_page_break(False)
    pdf.add_font(UNICODE, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(UNICODE, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"Certificate {cert['id']}")
    pdf.set_author(str(brand.get("displayName") or ""))
    pdf.set_creation_date(_moment(cert.get("issuedAt")))  # the same certificate renders to the same bytes
    pdf.add_page()
    colours = {k: rgb(brand.get(k), v) for k, v in DEFAULTS.items()}
    label_font = str(brand["font"]) if brand.get("font") in CORE_FONTS else UNICODE
    _frame(pdf, colours)
    _masthead(pdf, brand, colours, logo)
    _body(pdf, cert, colours, label_font)
    _footer(pdf, cert, colours, label_font, verify_url)
    _brand_note(pdf, brand, colours)
    if cert.get("status") == "revoked":
        _stamp(pdf, "REVOKED")
    return bytes(pdf.output())


def _moment(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromisoformat("2000-01-01T00:00:00+00:00")


def _frame(pdf: Any, colours: dict[str, tuple[int, int, int]]) -> None:
    pdf.set_fill_color(*colours["primaryColor"])
    pdf.rect(0, 0, pdf.w, pdf.h, style="F")  # a primary-colour band all round ...
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(9, 9, pdf.w - 18, pdf.h - 18, style="F")  # ... around the white sheet
    pdf.set_draw_color(*colours["accentColor"])
    pdf.set_line_width(1.2)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)
    pdf.set_line_width(0.3)
    pdf.rect(16, 16, pdf.w - 32, pdf.h - 32)


def _masthead(pdf: Any, brand: dict[str, Any], colours: dict[str, tuple[int, int, int]], logo: bytes | None) -> None:
    name = str(brand.get("displayName") or "")
    if logo:
        try:
            width, height = LOGO_BOX
            pdf.image(io.BytesIO(logo), x=(pdf.w - width) / 2, y=22, w=width, h=height, keep_aspect_ratio=True,
                      alt_text=name)
            return
        except Exception:  # noqa: BLE001 - an unreadable logo falls back to the wordmark, never a failed PDF
            pass
    pdf.set_xy(20, 26)
    pdf.set_font(UNICODE, "B", 22)
    pdf.set_text_color(*colours["primaryColor"])
    pdf.cell(pdf.w - 40, 12, name, align="C")


def _centred(pdf: Any, y: float, text: str, family: str, style: str, size: float,
             colour: tuple[int, int, int]) -> None:
    pdf.set_font(family, style, size)
    while size > 10 and pdf.get_string_width(text) > pdf.w - 50:  # long names shrink to fit one line
        size -= 1
        pdf.set_font(family, style, size)
    pdf.set_text_color(*colour)
    pdf.set_xy(25, y)
    pdf.cell(pdf.w - 50, size * 0.45, text, align="C")


def _body(pdf: Any, cert: dict[str, Any], colours: dict[str, tuple[int, int, int]], label_font: str) -> None:
    text, primary, accent = colours["textColor"], colours["primaryColor"], colours["accentColor"]
    _centred(pdf, 48, "CERTIFICATE", label_font, "B", 30, primary)
    pdf.set_draw_color(*accent)
    pdf.set_line_width(0.8)
    pdf.line(pdf.w / 2 - 40, 66, pdf.w / 2 + 40, 66)
    _centred(pdf, 72, "This certifies that", label_font, "", 13, text)
    _centred(pdf, 82, str(cert.get("learnerName") or ""), UNICODE, "B", 34, text)
    _centred(pdf, 103, "has met the requirements of", label_font, "", 13, text)
    _centred(pdf, 112, str(cert.get("programName") or ""), UNICODE, "B", 22, primary)
    lines = [completed_line(item) for item in cert.get("completed") or []]
    if lines:
        _centred(pdf, 127, "Completed: " + "; ".join(line for line in lines if line), UNICODE, "", 10, text)


def _footer(pdf: Any, cert: dict[str, Any], colours: dict[str, tuple[int, int, int]], label_font: str,
            verify_url: str) -> None:
    import segno

    text = colours["textColor"]
    expires = long_date(cert.get("expiresAt")) or "Does not expire"
    rows = [("Issued", long_date(cert.get("issuedAt"))), ("Expires", expires), ("Certificate ID", str(cert["id"]))]
    y = 150.0
    for label, value in rows:
        pdf.set_xy(28, y)
        pdf.set_font(label_font, "B", 10)
        pdf.set_text_color(*colours["primaryColor"])
        pdf.cell(34, 6, label)
        pdf.set_font(UNICODE, "", 10)
        pdf.set_text_color(*text)
        pdf.cell(120, 6, value)
        y += 7
    size = 34.0
    _qr(pdf, segno.make(verify_url, error="m"), pdf.w - 28 - size, 140, size)
    pdf.link(pdf.w - 28 - size, 140, size, size, verify_url)
    pdf.set_xy(pdf.w - 28 - size - 40, 140 + size + 2)
    pdf.set_font(UNICODE, "", 7)
    pdf.set_text_color(*text)
    pdf.cell(size + 40, 4, "Verify: " + verify_url, align="R", link=verify_url)


def _qr(pdf: Any, qr: Any, x: float, y: float, size: float) -> None:
    """The QR code as vector rectangles, one per run of dark modules in a row (no image to parse)."""
    rows = [list(row) for row in qr.matrix]
    module = size / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(x + start * module, y + r * module, (c - start) * module, module * 1.02, style="F")
            else:
                c += 1


def _stamp(pdf: Any, word: str) -> None:
    with pdf.local_context(fill_opacity=0.35, text_color=REVOKED_RED), pdf.rotation(20, pdf.w / 2, pdf.h / 2):
        pdf.set_font(UNICODE, "B", 96)
        pdf.set_xy(0, pdf.h / 2 - 20)
        pdf.cell(pdf.w, 40, word, align="C")


def _brand_note(pdf: Any, brand: dict[str, Any], colours: dict[str, tuple[int, int, int]]) -> None:
    """The partner's certificate footer and "delivered by" line (tenancy.branding.effective), when there are any."""
    delivered = (brand.get("deliveredBy") or {}).get("name")
    parts = [str(p) for p in (brand.get("certificateFooter"), f"Delivered by {delivered}" if delivered else None) if p]
    if parts:
        _centred(pdf, 184, " · ".join(parts), UNICODE, "", 8, colours["textColor"])

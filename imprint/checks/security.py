"""Book -> findings on what the manuscript reaches for: raw HTML the build refuses or removes
(S1xx, policy in imprint/manuscript/sanitize.py), and images and links that lie outside the book
folder, are missing, unreadable or remote (R00x). Each finding has its file and line."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from imprint.manuscript import images
from imprint.manuscript import sanitize
from imprint.errors import Finding, Location
from imprint.manuscript.load import Book


def raw_html(book: Book) -> list[Finding]:
    return sanitize.findings(book)


def resources(book: Book) -> list[Finding]:
    """Every image must be a readable image file inside the book folder (after `..` and
    symlinks); no image or link may be a file: URL or point outside the book."""
    out = []
    for kind, url, place, attrs in sanitize.urls(book):
        out += judge_url(book.root, kind, url, place)
        if kind == "image" and not (attrs.get("alt") or "").strip() and not _decorative(attrs):
            out.append(Finding("R006", "warning", f"image '{url}' has no description (alt text): a screen reader "
                               "says nothing for it, and the EPUB fails the accessibility checks (Ace: image-alt)",
                               place(), hint="describe it between the brackets, ![A map of the canal](map.png); an "
                               "image that is only ornament takes {.decorative} after it (alt=\"\", "
                               "role=\"presentation\")"))
    if book.metadata.cover_image:
        place = lambda: _key_line(book, "cover-image")
        found = judge_url(book.root, "image", book.metadata.cover_image, place)
        path = book.root / unquote(urlsplit(book.metadata.cover_image).path)
        if not found and not sanitize.is_remote(book.metadata.cover_image) and cover_kind(path) is None:
            found = [Finding("R005", "error", f"cover image '{book.metadata.cover_image}' is not a JPEG or PNG file",
                             place(), hint="save the cover as JPEG or PNG (the EPUB's cover and the printer want one)")]
        out += found
    out += own_templates(book)
    return out


def own_templates(book: Book) -> list[Finding]:
    """M005 for each file in the book's templates/ folder that no house template is named
    like (a misspelt name would otherwise leave the house template in use, silently)."""
    from imprint.house import TEMPLATES

    folder = book.root / "templates"
    if not folder.is_dir():
        return []
    house = {p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.j2")}
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name not in house:
            close = difflib.get_close_matches(name, sorted(house), n=1, cutoff=0.6)
            out.append(Finding("M005", "warning", f"template '{name}' replaces no house template and is not used",
                               Location(path), hint=f"did you mean '{close[0]}'?" if close else
                               f"name it after one of {', '.join(sorted(house))}"))
    return out


def _decorative(attrs: dict) -> bool:
    """An image marked as ornament: {.decorative} in Markdown, role="presentation"/"none" or an
    explicit alt="" in raw HTML."""
    return ("decorative" in (attrs.get("class") or "").split()
            or (attrs.get("role") or "").strip().lower() in ("presentation", "none")
            or attrs.get("alt") == "")      # written so in raw HTML (a Markdown image's empty alt is not kept)


def judge_url(root: Path, kind: str, url: str, place) -> list[Finding]:
    """Findings for one image or link target; place() says where it is written."""
    found = _judge_url(root, kind, url)
    return [Finding(code, severity, message, place(), hint=hint) for code, severity, message, hint in found]


def _judge_url(root: Path, kind: str, url: str) -> list[tuple]:
    """(code, severity, message, hint) for each problem with one target."""
    url = (url or "").strip()
    if not url or url.startswith("#"):
        return []
    scheme = sanitize.scheme(url)
    if scheme == "file":
        return [("R002", "error", f"{kind} '{url}': file: URLs are refused",
                 "give a path relative to the book folder")]
    if scheme in sanitize.SCRIPT_SCHEMES or scheme == "data":
        return []                   # judged by the raw-HTML policy (S103)
    if sanitize.is_remote(url):
        if kind == "image":
            return [("R003", "warning", f"remote image '{url}' is left out: a build does not use the network",
                     "put the image in the book folder (or build with --allow-remote-images "
                     "to fetch it for the PDF editions; an EPUB never holds remote images)")]
        return []                   # a link to the web is fine: nothing fetches it
    if scheme:                      # mailto:, tel:, and the like
        return []
    path_text = unquote(urlsplit(url).path)
    if not path_text:
        return []
    try:
        path = Path(path_text) if Path(path_text).is_absolute() else root / path_text
        resolved = path.resolve()
    except (OSError, ValueError, RuntimeError):
        return [("R001", "error", f"{kind} '{url}' is not a usable file name", None)]
    if not resolved.is_relative_to(root.resolve()):
        return [("R002", "error", f"{kind} '{url}' is outside the book folder: refused",
                 "copy the file into the book folder and give its relative path")]
    if kind != "image":
        return []
    if not resolved.exists():
        return [("R001", "error", f"image '{url}' not found", f"the path is read from the book folder {root}")]
    if not resolved.is_file() or not os.access(resolved, os.R_OK):
        return [("R004", "error", f"image '{url}' cannot be read", "check that it is a file and its permissions")]
    problem = image_problem(resolved)
    if problem:
        svg = resolved.suffix.lower() == ".svg" or problem.startswith(images.SVG_PROBLEMS)
        return [("R005", "error", f"image '{url}' {problem}",
                 "export it again as plain SVG (no script, links or entities), or as PNG" if svg else
                 "save it again as PNG, JPEG, GIF, WebP or SVG")]
    return []


def cover_kind(path: Path) -> str | None:
    """'jpeg' or 'png' for a cover image file, by its first bytes; None for anything else."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    return "jpeg" if head.startswith(b"\xff\xd8\xff") else "png" if head.startswith(b"\x89PNG\r\n\x1a\n") else None


def image_problem(path: Path) -> str | None:
    """None when the file is an image the typesetter can read; otherwise what is wrong."""
    return images.image_problem(path)


def _key_line(book: Book, key: str) -> Location:
    source = book.metadata.source
    try:
        lines = source.read_text(encoding="utf-8").split("\n") if source else []
    except OSError:
        lines = []
    for i, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            return Location(source, i + 1)
    return Location(source)



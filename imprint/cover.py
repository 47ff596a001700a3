"""Book metadata -> cover artwork: the EPUB's cover image (JPEG), made from a Jinja template and CSS."""

from __future__ import annotations

import io
from pathlib import Path

from .editions import IN
from .errors import ToolError
from .load import Book
from .render import STYLES, book_context, environment, render_template
from .editions import EPUB

EBOOK_COVER_PX = (1600, 2560)      # the size Apple, Kobo and KDP recommend


def ebook_cover_jpeg(book: Book) -> bytes:
    """A 1600 x 2560 JPEG of the front cover, typeset from the metadata."""
    import pypdfium2
    from . import typeset

    width, height = 5 * IN, 8 * IN            # 1:1.6, the ebook cover ratio
    html = render_template(environment(), "cover-front.html.j2", book=book_context(book, EPUB),
                           style=book.metadata.cover, width=width, height=height,
                           stylesheets=[(STYLES / n).as_uri() for n in ("fonts.css", "cover.css")])
    html = html.replace("<body class=\"cover-front\">", "<body class=\"cover-front\" style=\"font-size: 20pt\">")
    document, _, _ = typeset.render(html, book.root, book_root=book.root)
    pdf = document.write_pdf()
    try:
        page = pypdfium2.PdfDocument(pdf)[0]
        image = page.render(scale=EBOOK_COVER_PX[0] / width).to_pil().convert("RGB")
    except Exception as err:  # pdfium errors carry no useful type
        raise ToolError(f"could not rasterise the cover: {err}") from err
    image = image.resize(EBOOK_COVER_PX)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()

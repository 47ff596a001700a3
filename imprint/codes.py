"""Every finding code the toolchain can emit: its severity and its meaning, in one table.

The check modules take their codes from here (`meanings`), findings made with a code take its
severity from here or write the same one (tests/test_check_codes.py reads every Finding in
imprint/ and holds it to this table), and README.md's table of codes is this table
(`python -m imprint.codes` prints it; the same test compares the two).

A code emitted at more than one severity on purpose names them all, "error or warning";
no code does today. Pure data: this module imports nothing of imprint, so any stage may use it.
"""

from __future__ import annotations

ERROR, WARNING, INFO = "error", "warning", "info"

TABLE: dict[str, tuple[str, str]] = {
    # the metadata (imprint/manuscript/metadata.py, load.py)
    "M001": (WARNING, "Unknown metadata key (it is ignored): a likely misspelling, or a pandoc key with what to use instead."),
    "M002": (WARNING, "No `lang` in the metadata; English is assumed."),
    "M003": (WARNING, "No `identifier` in the metadata; a stable one is derived from title and author."),
    "M004": (WARNING, "Front matter inside a manuscript file of a book folder (ignored; metadata belongs in book.yaml)."),
    # the build cache (imprint/cache.py)
    "C001": (WARNING, "The build cache folder (or a folder above an entry) belongs to another user or others may write to it: it is not used."),
    "C002": (INFO, "A build cache entry did not match the digest stored with it (a damaged disk, an edited file): it was not used, and was made again."),
    "M006": (WARNING, "`lof: true` or `lot: true` in a book with no captioned figure or table: the list asked for is not printed."),
    "M007": (WARNING, "Markdown in a metadata text the book prints (`title: The Voyage of the *Beagle*`): metadata is plain text, so the marks would print as written."),
    "M005": (WARNING, "A file in the book's templates/ folder that replaces no house template (it is not used)."),
    # Markdown that pandoc reads without a word but prints wrong (imprint/checks/markup.py)
    "H101": (ERROR, "A heading with no text (`#` alone): it would print a chapter without a title, an empty contents entry and an EPUB that EPUBCheck refuses."),
    "H102": (WARNING, "An emphasis mark (`*`, `**`, `_`) that opens and never closes: pandoc prints it as written."),
    "H103": (WARNING, "A TeX command in the text (`\\newpage`, `\\textbf{...}`, `\\begin{center}`): raw TeX is not read, it is printed as written."),
    "H104": (WARNING, "A bulleted list with no blank line before it: pandoc reads its items as the paragraph's text and prints the markers (`* item + item`)."),
    "H107": (WARNING, "A backtick or link bracket that opens and never closes (`` `code ``, `[text](`): pandoc prints it as written."),
    "H106": (WARNING, "A chapter with a heading and no text: it prints a page (and a recto) with its title alone."),
    "H108": (WARNING, "A link with no words (`[](#id)`, `[](https://…)`): it prints nothing. A page number is `[](#id){.page}`, an address shown as written `<https://…>`."),
    "H109": (WARNING, "An essay whose sections start at `##`: an essay's sections are `#` headings (its title is the metadata's), so its contents lists none of them and they are set as sub-sections."),
    "H105": (WARNING, "A pipe table whose separator line has fewer columns than its header: pandoc drops the cells past them without a word."),
    "H110": (WARNING, "A year cut short after a space (`'60s`) that pandoc read as an opening quote: it prints ‘60s, and the next `'` closes it instead of opening its own quotation."),
    # the notes in the manuscript (imprint/checks/notes.py)
    "N101": (ERROR, "A note call whose label has no definition: pandoc prints it as literal text."),
    "N102": (ERROR, "A note definition that nothing calls: pandoc drops it without a word."),
    "N103": (ERROR, "One note label defined twice (also across manuscript files): only the last definition is printed."),
    "N104": (WARNING, "A note called more than once: its text is printed again under each call's number."),
    "N105": (ERROR, "An empty note."),
    "N106": (ERROR, "A note that looks cut off: it ends in a comma, colon, semicolon, dash, an opening quotation mark or bracket."),
    "N107": (WARNING, "A note that ends without closing punctuation (often fine in a bibliographic note)."),
    "N108": (WARNING, "Unbalanced quotation marks, brackets or parentheses inside a note."),
    "N109": (ERROR, "HTML entity debris in the text (`&rdqu`, `&amp;#8221;`, a stray `&name;`)."),
    "N110": (WARNING, "An old-style note call left in the prose — (1), [1], a superscript digit or * — that points at a note number."),
    "N111": (WARNING, "A note called from a heading (kept out of contents, navigation, bookmarks and running heads)."),
    "N112": (WARNING, "A space before a note call (house style: the call follows the word or punctuation directly)."),
    "N113": (WARNING, "A note call placed before the punctuation it belongs after (house style: the call follows it; dashes excepted; not in French, which sets the call before the mark)."),
    "N114": (ERROR, "A note called from inside another note: pandoc prints the call as literal text."),
    # citations (imprint/manuscript/citations.py)
    "C101": (ERROR, "A citation names a key that no bibliography file holds."),
    "C102": (ERROR, "A citation (`[@key]`) in a book whose metadata names no bibliography: it would print as written."),
    "C103": (INFO, "A bibliography entry that the text never cites (it is left out of the bibliography)."),
    "C104": (WARNING, "A citation option (`csl`, `suppress-bibliography`, `reference-section-title`, `link-citations`) in a book with no `bibliography`: it has no effect."),
    # cross-references (imprint/manuscript/crossrefs.py)
    "X101": (ERROR, "A cross-reference (`@fig-x`, `@tbl-x`, `@sec-x`, `@eq-x`) to a label nobody defines."),
    "X102": (ERROR, "A cross-reference label (`{#fig-x}` …) defined twice."),
    # page references and the index (imprint/manuscript/index.py, imprint/jobs/pagerefs.py)
    "X201": (ERROR, "A page reference `[](#id){.page}` names an id that nothing in the book defines."),
    "X202": (WARNING, "A page reference with words (`[words](#id){.page}`): only the page number is printed."),
    "X203": (WARNING, "An index entry that cannot be filed as written (an empty level in `entry=\"a!!b\"`, `|see` with nothing after it, a `|` command other than `see`/`seealso`/`(`/`)`, a page range opened and never closed or closed and never opened, `@` without words on both sides), or makeindex's `main!sub` written in a mark's words (filed as a sub-entry; the words print as written)."),
    "X204": (ERROR, "A printed page number (index or page reference) differs from the page its target stands on, or its target is on no laid-out page."),
    "X205": (ERROR, "The page numbers did not settle: after three layouts writing them in still moved the pages."),
    "X206": (WARNING, "An index mark with no words and no `entry`: there is nothing to file it under."),
    # formulas (imprint/checks/math.py, imprint/manuscript/math.py)
    "Q101": (ERROR, "A formula's TeX cannot be read (braces that do not pair, a command without its argument, `\\left` without `\\right`...): refused, it would print as raw TeX."),
    "Q102": (ERROR, "A formula uses a TeX command the math renderer does not know: refused, it would print as raw TeX."),
    "Q103": (WARNING, "A formula's link, class, id or style (`\\href`, `\\class`, `\\cssId`, `\\style`) is dropped; its content is kept."),
    # the book's language and the characters of its text (imprint/manuscript/languages.py, imprint/checks/glyphs.py)
    "G101": (ERROR, "A character of the text that no font (bundled, the book's own or installed) can draw: it would print as an empty box."),
    "G102": (WARNING, "The book's language has no row in the table of labels (imprint/specs/labels.py): its contents, notes and copyright lines are printed in English."),
    "G103": (INFO, "No hyphenation dictionary for the book's language: the text is set without hyphenation."),
    # raw HTML the build refuses or removes (imprint/manuscript/sanitize.py)
    "S101": (ERROR, "A <script> element (also inside SVG): refused, a book carries no code."),
    "S102": (ERROR, "An event-handler attribute (onclick, onerror, ...): refused."),
    "S103": (ERROR, "A javascript:, vbscript: or non-image data: URL: refused."),
    "S104": (ERROR, "Raw HTML or attributes that imitate the footnote markup (class footnote-ref, id fn1...): refused."),
    "S105": (ERROR, "An element removed with its content (video, iframe, style...) is never closed, so it would take the rest of the text with it: refused."),
    "S110": (WARNING, "Embedded content (iframe, object, embed, svg, audio, video, canvas...) removed with its content."),
    "S111": (WARNING, "A form element (form, input, button, select, textarea...) removed."),
    "S112": (WARNING, "A document-level element (meta, e.g. refresh; link; base; style; title) removed."),
    "S113": (WARNING, "A style attribute's declarations that load resources or are not text styling removed."),
    "S114": (WARNING, "An unsupported HTML element or attribute dropped (the element's text is kept)."),
    # files and URLs the book names (imprint/checks/security.py, imprint/typeset/engine.py)
    "R001": (ERROR, "A file the book names (image, stylesheet, font) does not exist."),
    "R002": (ERROR, "A file the book names lies outside the book folder; it was refused."),
    "R003": (WARNING, "A remote URL was not fetched: builds never use the network."),
    "R004": (ERROR, "An image the book names cannot be read (not a file, or no permission)."),
    "R005": (ERROR, "An image the book names is not an image file the typesetter can read."),
    "R006": (WARNING, "An image has no description (alt text): screen readers say nothing for it and the EPUB fails accessibility checks; mark ornament {.decorative}."),
    # WeasyPrint's own warnings while it lays out and writes (imprint/typeset/weasylog.py)
    "W101": (WARNING, "WeasyPrint ignored a CSS declaration (unknown property, value it cannot use, unsupported prefix)."),
    "W102": (WARNING, "WeasyPrint ignored a CSS rule (a parse error, an unknown or malformed at-rule or selector)."),
    "W103": (WARNING, "WeasyPrint could not load a font named by an @font-face rule."),
    "W104": (ERROR, "A character no font has: it is drawn as an empty box (.notdef)."),
    "W105": (WARNING, "WeasyPrint could not load or draw an image or stylesheet."),
    "W106": (WARNING, "The PDF's accessibility is incomplete (an image without alt text, no document language)."),
    "W109": (WARNING, "Another warning WeasyPrint logged, in its own words."),
    "W110": (WARNING, "An internal link (`[words](#id)`) to an id nothing in the book has: the words print, the link goes nowhere."),
    "W190": (INFO, "WeasyPrint's speed patches are off: the installed WeasyPrint or pydyf is not the release they were written for."),
    # where the notes fell on the laid-out pages (imprint/jobs/inspections.py)
    "L101": (ERROR, "A note is missing from the laid-out pages."),
    "L102": (ERROR, "A note does not start on the page of its call."),
    # the laid-out pages (imprint/checks/pages.py)
    "L201": (ERROR, "Text is drawn outside the page (beyond the trim edge)."),
    "L202": (ERROR, "Text is drawn over other text."),
    "L203": (ERROR, "The footnote area overlaps the text above it."),
    "L204": (ERROR, "A page number in the contents is not the page where its heading falls."),
    "L205": (WARNING, "Text or an image lies outside the page's text area (running heads, folios and art marked `.bleed` excepted)."),
    "L206": (WARNING, "Overfull line: the line is wider than its measure (a word too long for the line)."),
    "L207": (WARNING, "Widow: the last line of a paragraph stands alone at the top of a page."),
    "L208": (WARNING, "Orphan: the first line of a paragraph stands alone at the foot of a page."),
    "L209": (WARNING, "A heading is the last thing on its page, or fewer than two lines of its section follow it there."),
    "L210": (WARNING, "A blank page that is neither a verso before a recto start nor padding at the end."),
    "L211": (WARNING, "More than two blank pages in a row."),
    "L212": (WARNING, "More than two hyphenated line ends in a row."),
    "L213": (WARNING, "A hyphenation leaves fewer than two letters before the break or fewer than three after it."),
    "L214": (INFO, "The share of hyphenated lines in the edition (for the record)."),
    "L215": (WARNING, "Loose line: its word spaces are stretched past the limit (rivers)."),
    "L216": (WARNING, "A text page without its running head or folio."),
    "L217": (WARNING, "A running head or folio on a page that should have none (blank page, front matter, chapter opening, full-page art)."),
    "L218": (WARNING, "A folio that is not the page's number."),
    "L219": (WARNING, "The written PDF's page boxes (MediaBox, TrimBox, BleedBox) differ from the laid-out page."),
    "L220": (INFO, "The page geometry of the edition as written (for the record)."),
    "L221": (INFO, "Paragraphs set line by line (WeasyPrint's way): they did not break where total-fit line breaking planned."),
    "L222": (WARNING, "A word hyphenated across the foot of a recto: the reader turns the leaf mid-word."),
    "L223": (INFO, "A book stylesheet sets on running text what total-fit line breaking does not measure (letter or word spacing, another size, face, indent or measure): its paragraphs are set line by line."),
    "L224": (WARNING, "A note continues from the chapter before onto a chapter's opening page, under its first lines."),
    "L225": (WARNING, "A page mostly white in the middle of a chapter: its text and notes fill less than a third of the text block."),
    "L226": (WARNING, "Facing pages end on different baselines (the foot of a page: its last line, body or note), where no chapter ends."),
    "L227": (INFO, "A paragraph set line by line (WeasyPrint's way) because it holds what total-fit line breaking does not measure: highlighted code, a line break with no words before it, an element with a style of its own, a soft hyphen, or no breaks fit."),
    # the notes in the editions as written (imprint/checks/note_outputs.py)
    "N201": (ERROR, "PDF: a note is drawn more than once."),
    "N202": (ERROR, "PDF: a note's text on the pages differs from the note (cut, lost or garbled)."),
    "N203": (ERROR, "PDF: a note is drawn without its number."),
    "N204": (ERROR, "PDF: a long note's continuation is not on the page after the one before it."),
    "N205": (ERROR, "PDF: notes run past the foot of the page."),
    "N206": (ERROR, "PDF: notes are drawn over the text."),
    "N207": (ERROR, "PDF: note calls are not numbered in reading order."),
    "N208": (WARNING, "PDF: a note holds a block that cannot be cut and does not fit under its call: it is set on the next page, and its call's page points to it."),
    "N209": (WARNING, "PDF: a pointer says its note is on the next page, but the note is set on the pointer's own page (the page changed after the note was moved on)."),
    "N210": (WARNING, "PDF: a note holds a table row taller than a page: the row is set stacked, each cell a paragraph under its column's head, so it can run on across pages."),
    "N211": (ERROR, "EPUB: a noteref does not point at a footnote."),
    "N212": (ERROR, "EPUB: a footnote's backlink does not point at its noteref."),
    "N213": (ERROR, "EPUB: note numbers disagree (noteref, footnote, or reading order)."),
    "N214": (ERROR, "EPUB: the number of notes differs from the manuscript's."),
    "N215": (ERROR, "EPUB: a note's text differs from the manuscript's note."),
    # the EPUB (imprint/editions/epub.py, --validate)
    "E201": (WARNING, "A print page begins in text the EPUB does not have: it gets no page-break marker."),
    "E202": (INFO, "The page list names the print edition by title: the metadata has no print ISBN."),
    "E203": (ERROR, "EPUBCheck (`--validate`) reports an error (or a fatal error) in the EPUB."),
    "E204": (WARNING, "EPUBCheck (`--validate`) reports a warning about the EPUB."),
    "E205": (ERROR, "EPUBCheck was asked for (`--validate`) but could not be run."),
    "E206": (ERROR, "A link or reference inside the EPUB points at a file or fragment id the package does not have."),
    "E207": (INFO, "A numbered list written with `1)` or `(1)`: reading systems number it with a full stop in the EPUB (the PDF and print edition keep the parenthesis)."),
    # the print files against the printer's rules (imprint/editions/preflight.py, cover.py, pipeline.py)
    "P100": (ERROR, "A print file cannot be opened as a PDF."),
    "P101": (ERROR, "A page has no TrimBox, or its TrimBox is not the trim size."),
    "P102": (ERROR, "Page size or BleedBox does not match the printer's bleed geometry."),
    "P103": (ERROR, "Page count outside the printer's limits."),
    "P104": (ERROR, "Odd page count: the printer wants an even number of pages."),
    "P105": (ERROR, "The last page is not blank (IngramSpark prints its barcode there)."),
    "P106": (ERROR, "Text inside the printer's minimum top, bottom or outside margin."),
    "P107": (ERROR, "Text inside the gutter: closer to the binding than the printer's table allows for the page count."),
    "P108": (ERROR, "A font is not embedded."),
    "P109": (ERROR, "A font is embedded as a subset where the printer wants whole fonts."),
    "P110": (WARNING, "An image is below the printer's resolution (300 ppi): one finding per image, naming its file (matched by its pixels; two files of one size are both named) at the manuscript line that includes it, its pixels, printed size and pages."),
    "P111": (ERROR, "A colour space the printer does not accept (RGB in a CMYK file, Lab, spot colours...)."),
    "P112": (ERROR, "Annotations (links) in a print file."),
    "P113": (ERROR, "Bookmarks in a print file."),
    "P114": (ERROR, "The PDF/X identification or the output intent is missing or wrong."),
    "P115": (ERROR, "Text or drawing outside the trim that is not bleed art (printer's marks, stray content)."),
    "P116": (ERROR, "Transparency in a PDF/X-1a file."),
    "P120": (WARNING, "Fewer pages than the printer's minimum: blank pages were added at the end."),
    "P121": (WARNING, "No print ISBN: the cover's barcode zone is left clear."),
    "P122": (INFO, "Blank pages were added at the end for the printer's page parity."),
    "P123": (WARNING, "The cover image is below 300 ppi at the size of the front panel."),
    "P124": (WARNING, "The cover image's proportions differ from the trim's by more than 2 %: it is cropped to fit."),
    "P125": (INFO, "A right-to-left book: its print files are laid out for binding on the right (the interior in reverse page order where the printer asks for it)."),
    "P126": (WARNING, "A right-to-left book for a printer that documents no binding on the right: it would be bound on the left."),
    "P130": (ERROR, "The cover is not one page of the size the page count, paper and trim give."),
    "P131": (ERROR, "Spine text on a book too thin for it, or outside the spine's clearances."),
    "P132": (ERROR, "Cover text outside the safe area (too near a trim edge or a spine fold)."),
    "P133": (ERROR, "The cover's barcode zone does not hold the print ISBN's barcode, or is not clear without an ISBN."),
    # the output folder: files an earlier build of the book wrote under other names (imprint/outjournal.py)
    "O101": (INFO, "An output an earlier build of the book wrote under another name (the title changed) was removed once this build had written its replacement."),
    "O102": (INFO, "An output an earlier build of the book wrote under another name is kept although this build wrote its replacement: it has changed since imprint wrote it."),
    "O103": (INFO, "An output an earlier build of the book wrote under another name is kept: this build did not make that edition (a build that does removes it)."),
}


def severities(code: str) -> tuple[str, ...]:
    """The severities `code` is emitted at (one, except where the table names more)."""
    return tuple(TABLE[code][0].split(" or "))


def severity(code: str) -> str:
    """The severity of a code emitted at one severity only."""
    [one] = severities(code)
    return one


def meanings(*prefixes: str) -> dict[str, str]:
    """Code -> meaning for every code that starts with one of `prefixes` (all codes: none given)."""
    return {code: meaning for code, (_, meaning) in TABLE.items() if not prefixes or code.startswith(prefixes)}


def all_codes() -> dict[str, str]:
    """Every code -> its meaning, in code order."""
    return dict(sorted(meanings().items()))


def markdown() -> str:
    """The table of codes as README.md shows it."""
    rows = ["| code | severity | meaning |", "|---|---|---|"]
    rows += [f"| {code} | {sev} | {meaning} |" for code, (sev, meaning) in sorted(TABLE.items())]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")

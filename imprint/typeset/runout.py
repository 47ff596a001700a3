"""A laid-out Document and its HTML -> the HTML changed so that no note runs on from one
chapter onto the next chapter's opening page (None when none does); and the continued-note
mark shown where a note goes on overleaf.

Where a chapter ends. WeasyPrint carries the rest of a long note (imprint/typeset/longnotes.py)
to the top of the next pages' footnote areas, whatever those pages are. When a chapter ends
on a verso, the next page is the next chapter's opening recto, and the rest of the note lands
there, under a title it has nothing to do with (when the chapter ends on a recto, WeasyPrint
puts it on the blank verso it inserts before the next recto: the chapter's own last leaf). A
book set in parts (imprint/jobs/chapters.py) never shows it: a part ends with its chapter,
and WeasyPrint makes pages at a document's end for the notes still pending
(weasyprint.layout.page.make_all_pages).

The mend gives the book set in one piece what a part gets: a run-out page. An empty block
(`div.note-runout`, styles/book.css) closes the chapter before the opening page. It starts a
page of its own (`break-before: page`), a page of the chapter with its running head and
folio, whose footnote area takes the notes still pending, with room for the whole page
(`@page runout`). The chapter's pages before it are laid out exactly as before, so the same
notes are pending when the run-out page is made; the next chapter then opens on the next
recto, after a blank verso that takes what the run-out page could not. A note that needs
still more room is left for the check L224 (imprint/checks/pages.py) to report. Cutting the
note sooner or shortening the pages before would change the chapter's text pages and could
not be foreseen from one layout; one extra leaf can, and it is the leaf a reader expects
a chapter's loose ends on.

The continued-note mark: a note that breaks at the foot of a page says so, as a printer's
catchline does: "(continued)" (imprint/specs/labels.py "note-continued", in the book's
language) flush right in small italic under the note's last line on the page, in the foot
margin. It is the `::after` of every piece of a cut note (styles/book.css), of no height so it
takes no room, and hidden: which piece ends a page is known only once the book is laid out,
so `show_marks` makes it visible there in the finished layout (fence.show_generated), with no
second layout. Generated content, it is no part of the note's text for the note checks
(positions.box_text), nor a line of the notes for their depth (positions.note_pages).

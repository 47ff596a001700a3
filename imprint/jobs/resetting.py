"""The chapters' jobs + what each chapter looked like when last set -> each chapter's pages, set
again only where they can have changed.

A chapter is a run of blocks (the children of its sections). The last layout of a chapter
recorded the pages that begin cleanly with a block (imprint/typeset/positions.py `clean_starts`): set
from such a block, on a page of the same side, the following pages come out the same. So
after an edit, the blocks before the last clean start ahead of the change keep their old
pages; the chapter is set again from there, with the text after the change as look-ahead,
until a block that began a page cleanly before the change begins one again, on the same
side; from there on the old pages stand. Whenever that cannot be shown, the whole chapter
is set again. Pages are kept as (layout, first page, stop) segments; imprint/jobs/join.py joins
them like any other part.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lxml import etree, html as lhtml

from imprint import cache
from imprint import settings
from imprint.jobs.job import Job, Layout
from imprint.jobs import pool
from imprint.jobs.pool import run_jobs
from imprint.typeset.positions import BLOCK

LOOKAHEAD = 3           # blocks set after the last candidate page start, so its page break is the real one
MEETS = 1               # pages after a change where the new layout may meet the old one mid-paragraph
                        # (imprint/jobs/starts.py): the first verso that begins in an unchanged block
                        # (a word or two that keeps the paragraph's lines meets there; a line more
                        # seldom meets anywhere before the end)
CANDIDATES = 2          # clean page starts after a change where the old pages may be taken up again (a
                        # word or two settles at the first; 4 made chunks of 30 to 80 pages in Wealth of Nations)


@dataclass(frozen=True)
class Record:
    """What a chapter looked like when last set: its blocks, its pages (as segments of cached
    layouts, by job key) and the pages that began cleanly with a block."""

    signatures: tuple[str, ...]
    segments: tuple[tuple[str, int, int], ...]      # (job key, first page, stop)
    cuts: tuple[tuple[int, int, str], ...]           # (page index in the chapter, block, side)

    @property
    def pages(self) -> int:
        return sum(stop - first for _, first, stop in self.segments)


def enabled() -> bool:
    """The build's Settings.chunks (IMPRINT_CHUNKS its default, imprint/settings.py)."""
    return settings.current().chunks


def history_key(job: Job, k: int, part) -> str:
    """A chapter's identity across edits: its place, its opening tag, and everything of the job but the text."""
    frame = dataclasses.replace(job, html="", note_numbers=())
    return cache.digest("chapter history", cache.toolchain(), settings.current().layout_key(), frame, k, part.opening)


def typeset_chapters(jobs, chapters, extra, say, limits=None):
    """Segments of pages for every chapter, and the Layouts of the `extra` jobs (set beside them).

    Returns (list of [(Layout, first, stop, stand_ins)] per chapter, [Layout per extra job])."""
    store = cache.current()
    keys = [pool.job_key(job) for job in jobs]
    history = [store.load("history", history_key(job, k, chapter)) if chapters else None
               for k, (job, chapter) in enumerate(zip(jobs, chapters))]
    result: list = [None] * len(jobs)
    plans: dict[int, dict] = {}
    todo: list[tuple[str, int, Job]] = []          # (kind, index, job)

    for k, (job, chapter, key, record) in enumerate(zip(jobs, chapters, keys, history)):
        if record is not None and record.signatures == chapter.blocks:
            segments = _load_segments(store, record, chapter)
            if segments is not None:
                result[k] = segments
                continue
        full = _load_layout(store, key)
        if full is not None:
            result[k] = [(full, 0, full.pages, chapter.stand_ins)]
            _remember(store, job, k, chapter, [(key, 0, full.pages)], full.extracts.get("cuts", ()))
            continue
        plan = _plan(store, record, chapter, job, k) if record is not None and enabled() else None
        if plan is not None:
            plans[k] = plan
            todo.append(("chunk", k, plan["job"]))
        else:
            todo.append(("full", k, job))
    extra_keys = [pool.job_key(job) for job in extra]
    extra_results = [_load_layout(store, key) for key in extra_keys]
    todo += [("extra", i, job) for i, (job, got) in enumerate(zip(extra, extra_results)) if got is None]

    for round_ in range(3):
        if not todo:
            break
        if round_ == 0:
            names = ", ".join(job.part or "the book" for _, _, job in todo)
            cached = len(jobs) + len(extra) - len(todo)
            say(f"typesetting {names}" + (f" ({cached} from the cache)" if cached else ""))
        else:
            say("typesetting " + ", ".join(job.part for _, _, job in todo) + ": the changed pages did not settle")
        layouts = run_jobs([job for _, _, job in todo], say, limits)
        again = []
        for (kind, i, job), layout in zip(todo, layouts):
            job_key = pool.job_key(job)
            store.store("part", job_key, {"resources": cache.dependencies(layout.resources), "layout": layout})
            if kind == "extra":
                extra_results[i] = layout
            elif kind == "full":
                result[i] = [(layout, 0, layout.pages, chapters[i].stand_ins)]
                _remember(store, jobs[i], i, chapters[i], [(job_key, 0, layout.pages)], layout.extracts.get("cuts", ()))
            else:
                settled = _settle(plans[i], layout, job_key, chapters[i])
                if settled is None:
                    # The new pages did not fall on any old page start: set the rest of the
                    # chapter (the pages before the change still stand), or all of it.
                    rest = None if plans[i]["to_end"] or not _one_layout(layout) else \
                        _plan(store, plans[i]["record"], chapters[i], jobs[i], i, to_end=True)
                    if rest is not None:
                        plans[i] = rest
                        again.append(("chunk", i, rest["job"]))
                    else:
                        again.append(("full", i, jobs[i]))
                    continue
                segments, record_segments, cuts, used, how = settled
                page_a = plans[i]["page_a"]
                after = sum(stop - first for _, first, stop, _ in segments) - page_a - used
                say(f"{jobs[i].part}: pages {page_a + 1} to {page_a + used} set again ({layout.pages} laid out), "
                    f"{after} pages after them kept (met {how})")
                result[i] = segments
                _remember(store, jobs[i], i, chapters[i], record_segments, cuts)
        todo = again
    return result, extra_results


def _load_layout(store, key):
    entry = store.load("part", key)
    if entry is not None and cache.unchanged(entry["resources"]):
        return entry["layout"]
    return None


def _load_segments(store, record: Record, chapter, stand_ins=None):
    out = []
    for key, first, stop in record.segments:
        layout = _load_layout(store, key)
        if layout is None:
            return None
        out.append((layout, first, stop, stand_ins if stand_ins is not None else _stand_ins_of(layout, chapter)))
    return out


def _stand_ins_of(layout, chapter):
    return layout.extracts.get("stand_ins", chapter.stand_ins)


def _remember(store, job, k, chapter, segments, cuts) -> None:
    store.store("history", history_key(job, k, chapter),
                Record(chapter.blocks, tuple(segments), tuple(tuple(c) for c in cuts)))


def _one_layout(layout) -> bool:
    """Whether the notes came out right on the first layout (imprint/typeset/longnotes.py moved or cut
    none): the pages then follow from the text alone, wherever the layout began."""
    settled = layout.extracts.get("notes_settled")
    return settled is None or settled.get("layouts", 1) == 1


def _slice(segments, lo: int, hi: int) -> list:
    """The pages [lo, hi) of a chapter made of segments, as segments."""
    out, at = [], 0
    for layout, first, stop, stand_ins in segments:
        count = stop - first
        a, b = max(lo, at), min(hi, at + count)
        if a < b:
            out.append((layout, first + a - at, first + b - at, stand_ins))
        at += count
    return out


def _slice_record(segments, lo: int, hi: int) -> list:
    out, at = [], 0
    for key, first, stop in segments:
        count = stop - first
        a, b = max(lo, at), min(hi, at + count)
        if a < b:
            out.append((key, first + a - at, first + b - at))
        at += count
    return out


def _plan(store, record: Record, chapter, job: Job, k: int, to_end: bool = False) -> dict | None:
    """The chunk to set again after an edit, or None when the whole chapter must be set.

    The chunk starts at the last clean page start before the change. It runs on to a few
    clean page starts after the change (and some look-ahead), hoping the new pages fall on
    one of them, or, with `to_end` (or when the chapter's end is near anyway), to the end."""
    old, new = record.signatures, chapter.blocks
    old_segments = _load_segments(store, record, chapter)
    if old_segments is None or any(f.page is None for seg in old_segments for f in seg[0].findings):
        return None                 # a finding without a page cannot be placed in the old or the new pages
    if any(not _one_layout(seg[0]) for seg in old_segments):
        return None                 # notes were moved or cut over pages: only the whole chapter says how
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    shift = len(new) - len(old)
    # Start at the last clean page start before the first changed block (the block itself and
    # what comes before it unchanged, so the page break before it is the same).
    old_starts = _starts_of(old_segments)
    # A recto (but the chapter's first page) is run short with its verso (imprint/typeset/fence/
    # spreads.py), which the chunk does not hold: the last clean start on a verso, else one on a
    # recto, which stands only if the chunk's first page comes out as the old one did (_settle).
    starts = [c for c in record.cuts if c[1] < prefix and c[2] != "right" and c[0] > 0] or \
        [c for c in record.cuts if c[1] < prefix and (c[0] == 0 or (old_starts is not None and old_starts[c[0]] is not None))]
    if not starts:
        return None
    page_a, block_a, side_a = starts[-1]
    first_page = old_starts[page_a] if side_a == "right" and page_a > 0 else None
    # Candidates to resume the old pages: clean starts after the change whose block and the
    # block before it are unchanged.
    # (on a verso: an old recto taken up after a verso set again may have been run short with another verso)
    ends = [c for c in record.cuts if c[1] >= len(old) - suffix + 1 and c[0] > page_a and c[2] != "right"][:CANDIDATES]
    # ...and pages that begin inside an unchanged block, in the same state (imprint/jobs/starts.py).
    meets = [] if old_starts is None else [
        p for p in range(page_a + 1, len(old_starts))
        if old_starts[p] is not None and old_starts[p][0] == "left" and old_starts[p][2] >= len(old) - suffix][:MEETS]
    # The chunk runs into the second page after the candidate's recto: the candidate's spread is
    # then not the last (a verso is run short with its recto, imprint/typeset/fence/spreads.py,
    # but not where the text ends, and a verso laid out longer can leave the rest of the chunk
    # on its recto), its lines are compared, and the pages before it are broken as in the whole
    # chapter.
    meet_stop = None
    if meets:
        after = [s for s in old_starts[meets[-1] + 3:] if s is not None]
        meet_stop = after[0][2] + 1 + shift if after else None
        # (preferred to a nearer clean page start: on a recto, that one meets the old pages only
        # if its verso was not run short, and its chunk ends too soon after it for that)
        if meet_stop is None:
            meets = []
        else:
            ends = [c for c in ends if c[0] <= meets[-1] + 3]   # no further than the chunk goes anyway
    far = max(([ends[-1][0]] if ends else []) + ([meets[-1] + 3] if meets else []), default=None)
    if far is not None and (record.pages - page_a) <= 1.5 * (far - page_a):
        to_end = True               # the chapter's end is about as near as the candidates
    if to_end:
        ends, meets = [], []
    if page_a == 0 and not ends and not meets:
        return None                 # from the first page to the last: that is the whole chapter
    stops = ([ends[-1][1] + shift + LOOKAHEAD] if ends else []) + ([meet_stop] if meets else [])
    stop_block = max(stops) if stops else len(new)
    visible = (block_a, min(stop_block, len(new)))
    html, stand_ins, notes = chunk_html(chapter, visible)
    side_css = f"html {{ break-before: {side_a} !important; }}\n"
    chunk_job = dataclasses.replace(job, html=html, page_css=job.page_css + side_css, note_numbers=notes,
                                    part=f"{job.part}, from page {page_a + 1} on")
    return {"job": chunk_job, "page_a": page_a, "block_a": block_a, "side_a": side_a, "ends": ends,
            "meets": [(p, old_starts[p]) for p in meets], "shift": shift, "record": record,
            "old_segments": old_segments, "stand_ins": stand_ins, "to_end": not ends and not meets,
            "first_page": first_page}


def _starts_of(segments) -> list | None:
    """Each page's start (imprint/jobs/starts.py) of a chapter made of segments, or None when a
    layout has none recorded."""
    out = []
    for layout, first, stop, _ in segments:
        starts = layout.extracts.get("starts")
        if starts is None or len(starts) < stop:
            return None
        out += starts[first:stop]
    return out


def _settle(plan: dict, layout: Layout, job_key: str, chapter):
    """The chapter's segments if the chunk's pages meet the old ones, else None."""
    cuts = layout.extracts.get("cuts", [])
    if (0, plan["block_a"], plan["side_a"]) not in cuts or not _one_layout(layout):
        return None
    record: Record = plan["record"]
    page_a, shift = plan["page_a"], plan["shift"]
    old_segments = plan["old_segments"]
    how = "at the end"
    if plan.get("first_page") is not None and (layout.extracts.get("starts") or [None])[0] != plan["first_page"]:
        return None                 # begun on a recto that came out otherwise than beside its old verso
    if plan["to_end"]:
        stop, old_page = layout.pages, record.pages
    else:
        found = []
        for old_page, old_block, old_side in plan["ends"]:
            stop = next((p for p, b, s in cuts if b == old_block + shift and s == old_side), None)
            if stop is not None:
                found.append((old_page, stop, "at a block's start"))
                break
        starts = layout.extracts.get("starts") or []
        for old_page, (side, name, block, offset, pending, digest) in plan["meets"]:
            # the same page start, in the same state, on a verso of the chunk whose recto is not its last page
            want = (side, name, block + shift, offset, pending, digest)
            stop = next((q for q in range(1, len(starts) - 2) if starts[q] == want), None)
            if stop is not None:
                found.append((old_page, stop, "inside a block" if offset else "at a block's start"))
                break
        if not found:
            return None
        old_page, stop, how = min(found)
    # A finding on the chunk's own pages stays; one on its look-ahead pages belongs to the old pages.
    chunk = (layout, 0, stop, plan["stand_ins"])
    segments = _slice(old_segments, 0, page_a) + [chunk] + _slice(old_segments, old_page, record.pages)
    record_segments = (_slice_record(record.segments, 0, page_a) + [(job_key, 0, stop)]
                       + _slice_record(record.segments, old_page, record.pages))
    delta = page_a + stop - old_page
    new_cuts = ([c for c in record.cuts if c[0] < page_a]
                + [(page_a + p, b, s) for p, b, s in cuts if p < stop]
                + [(p + delta, b + shift, s) for p, b, s in record.cuts if p >= old_page])
    return segments, record_segments, new_cuts, stop, how


def add_stand_ins(elements, ids) -> None:
    """Empty spans with the ids of other parts' targets, at the start of the part's first text:
    WeasyPrint keeps a link only when its target exists; the join points it at the real one."""
    for el in elements:
        for node in el.iter():
            if isinstance(node.tag, str) and node.tag not in ("a", "span") and (node.text or "").strip():
                spans = [etree.Element("span", {"id": i, "class": "imprint-stand-in"}) for i in sorted(ids)]
                spans[-1].tail = node.text
                node.text = None
                for n, span in enumerate(spans):
                    node.insert(n, span)
                return
    raise ValueError("no text to hold the link targets")


def chunk_html(chapter, visible: tuple[int, int]) -> tuple[str, frozenset, tuple]:
    """The chapter's document with only the blocks in `visible` shown: every other block stays
    in place as an empty, hidden element of the same kind (so selectors such as `h2 + p` or
    `:first-child` match as in the whole chapter); links to what is hidden get stand-ins."""
    doc = lhtml.document_fromstring(chapter.html)
    lo, hi = visible
    owned, links, notes, shown = set(), set(), [], []
    heads = {section: next((int(n.get(BLOCK)) for n in section.iter() if isinstance(n.tag, str) and n.get(BLOCK) is not None), None)
             for section in doc.iter("section") if section.get("id")}
    for el in list(doc.iter()):
        if not isinstance(el.tag, str) or el.get(BLOCK) is None:
            continue
        index = int(el.get(BLOCK))
        if lo <= index < hi:
            shown.append(el)
            for node in el.iter():
                if not isinstance(node.tag, str):
                    continue
                if node.get("id"):
                    owned.add(node.get("id"))
                    if node.get("id").startswith("fnref") and node.get("id")[5:].isdigit():
                        notes.append(int(node.get("id")[5:]))
                if node.tag == "a" and node.get("href", "").startswith("#") and len(node.get("href")) > 1:
                    links.add(node.get("href")[1:])
            continue
        shell = etree.Element(el.tag, {key: value for key, value in el.attrib.items()
                                       if key in ("class", "lang", "dir")})
        shell.set("style", "display: none !important")
        shell.tail = el.tail
        el.getparent().replace(el, shell)
    # A section's id (pandoc's section-divs put a heading's id there) stands where its first
    # block does: the chunk's own when that block is shown, else the old pages' (dropped here, so
    # a link to it gets a stand-in and WeasyPrint sees one anchor of that name, not two).
    for section, first in heads.items():
        if first is not None and lo <= first < hi:
            owned.add(section.get("id"))
        else:
            del section.attrib["id"]
    if lo > 0:
        # Set from the middle of the chapter: the chapter's own break before it is behind us.
        for section in doc.iter("section"):
            if {"level1", "chapter"} & set(section.get("class", "").split()):     # a chapter, or a part's
                section.set("style", (section.get("style", "") + "; break-before: auto !important").lstrip("; "))
    stand_ins = frozenset(i for i in links - owned)
    if stand_ins:
        add_stand_ins(shown, stand_ins)
    html = lhtml.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")
    return html, stand_ins, tuple(sorted(notes))

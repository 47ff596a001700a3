"""PDFs of parts laid out one by one + where their pages go -> one PDF of the whole book.

The pages are taken in order, with a blank verso wherever a part must start on a recto;
the running heads and folios are stamped from one overlay document (laid out for the whole
book, so every number and head is WeasyPrint's own), marked as pagination artifacts; the
document-wide structures are merged: named destinations (internal links), the outline,
the PDF/UA structure tree and parent tree, and the catalog and metadata of the first part.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pikepdf
from pikepdf import Array, Dictionary, Name, String

SCALE = 0.75            # PDF points per CSS pixel, as WeasyPrint writes them


@dataclass(frozen=True)
class Piece:
    """Pages [first, stop) of one part's PDF, and the named destinations it only stands in for."""

    pdf: bytes
    first: int = 0
    stop: int | None = None
    stand_ins: frozenset = frozenset()
    blank_before: bool = False        # a blank verso goes before it (it starts on a recto)


@dataclass
class Plan:
    pieces: list[Piece]
    overlay: object = None            # PDF bytes with one page per page of the joined book, or
                                      # [(PDF bytes, its first page's 0-based index in the book)]
    stamped: set = field(default_factory=set)   # 0-based pages of the joined book that get the overlay
    outline: list | None = None       # WeasyPrint bookmark tree: (label, (page, x, y), children, state)
    heights: list = field(default_factory=list)  # page heights in CSS px, for outline coordinates
    padding: int = 0                  # blank pages at the end (the printer's page-count rules)
    whole_fonts: bool = True          # the parts embed whole fonts (print), so theirs are the same bytes


def join(plan: Plan) -> bytes:
    sources = [pikepdf.open(io.BytesIO(piece.pdf)) for piece in plan.pieces]
    first = sources[0]
    out = pikepdf.new()
    tagged = "/StructTreeRoot" in first.Root

    names: list[tuple[str, object]] = []
    seen_names: set[str] = set()
    parent_nums: list = []
    next_key = 0
    document_elem = None
    if tagged:
        document_elem = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, K=Array()))
        struct_root = out.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=Array([document_elem])))
        document_elem.P = struct_root

    for piece, src in zip(plan.pieces, sources):
        stop = len(src.pages) if piece.stop is None else piece.stop
        if piece.blank_before:
            _blank_page(out, src.pages[piece.first])
        taken = list(range(piece.first, stop))
        kept_pages = {src.pages[i].objgen for i in taken}
        tops, src_nums = [], {}
        if tagged:
            src_nums = _number_tree(src.Root.StructTreeRoot.ParentTree)
            # WeasyPrint hangs each page's elements from one Document element; take those of
            # the pages taken, detached first so that copying them does not drag in the rest.
            for elem in _kids(src.Root.StructTreeRoot.K[0] if isinstance(src.Root.StructTreeRoot.K, Array)
                              else src.Root.StructTreeRoot.K):
                if "/P" in elem:
                    del elem.P
                if "/Pg" in elem and elem.Pg.objgen in kept_pages:
                    tops.append(elem)
        for i in taken:
            out.pages.append(src.pages[i])
        if tagged:
            for elem in tops:
                copied = _copy(out, elem)
                copied.P = document_elem
                document_elem.K.append(copied)
            for new_page in out.pages[len(out.pages) - len(taken):]:
                key = int(new_page.obj.get("/StructParents", -1))
                if key in src_nums:
                    new_page.obj.StructParents = next_key
                    parent_nums += [next_key, _copy(out, src_nums[key])]
                    next_key += 1
                for annot in new_page.obj.get("/Annots", []):
                    key = int(annot.get("/StructParent", -1))
                    if key in src_nums:
                        annot.StructParent = next_key
                        parent_nums += [next_key, _copy(out, src_nums[key])]
                        next_key += 1
        for name, dest in _named_destinations(src):
            if name in piece.stand_ins or name in seen_names:
                continue
            if not (isinstance(dest, Array) and len(dest) and dest[0].objgen in kept_pages):
                continue
            seen_names.add(name)
            names.append((name, _copy(out, dest)))

    for _ in range(plan.padding):
        _blank_page(out, out.pages[-1])
    if tagged:
        struct_root.ParentTree = out.make_indirect(Dictionary(Nums=Array(parent_nums)))
        struct_root.ParentTreeNextKey = next_key
        out.Root.StructTreeRoot = struct_root
    if names:
        names.sort(key=lambda item: item[0])
        flat = Array()
        for name, dest in names:
            flat.append(String(name))
            flat.append(dest)
        out.Root.Names = Dictionary(Dests=out.make_indirect(Dictionary(Names=flat)))
    if plan.outline:
        _outline(out, plan.outline, plan.heights)
    for key in ("/MarkInfo", "/ViewerPreferences", "/Lang", "/Metadata", "/OutputIntents", "/PageMode"):
        if key in first.Root:
            out.Root[key] = _copy(out, first.Root[key])
    if "/Info" in first.trailer:
        out.trailer.Info = _copy(out, first.trailer.Info)
    if plan.overlay:
        _stamp(out, plan.overlay, plan.stamped, tagged)
    if plan.whole_fonts:              # subsets made for each part's glyphs have no twins to find
        _share_font_files(out)
    if "/ID" in first.trailer:
        out.trailer.ID = Array([first.trailer.ID[0], first.trailer.ID[1]])
    buffer = io.BytesIO()
    modern = float(first.pdf_version) >= 1.5
    out.save(buffer, min_version=first.pdf_version, compress_streams=True, deterministic_id=True,
             object_stream_mode=pikepdf.ObjectStreamMode.generate if modern else pikepdf.ObjectStreamMode.disable)
    return buffer.getvalue()


def _copy(out, obj):
    """Copy an object of another PDF into `out`; direct arrays and dictionaries member by member
    (pikepdf copies only indirect objects, and keeps one copy of each across calls)."""
    if isinstance(obj, (Array, Dictionary)) and not obj.is_indirect:
        if isinstance(obj, Array):
            return Array([_copy(out, item) for item in obj])
        return Dictionary({key: _copy(out, value) for key, value in obj.items()})
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        return out.copy_foreign(obj)
    return obj


def _blank_page(out, like) -> None:
    """An empty page with the same boxes as `like` (what WeasyPrint sets for a blank verso)."""
    page = Dictionary(Type=Name.Page, MediaBox=Array(list(like.MediaBox)))
    for box in ("/TrimBox", "/BleedBox"):
        if box in like.obj:
            page[box] = Array(list(like.obj[box]))
    page.Resources = Dictionary()
    page.Contents = out.make_stream(b"")
    out.pages.append(pikepdf.Page(out.make_indirect(page)))


def _number_tree(node) -> dict:
    found = {}
    if "/Nums" in node:
        nums = node.Nums
        for i in range(0, len(nums), 2):
            found[int(nums[i])] = nums[i + 1]
    for kid in node.get("/Kids", []):
        found.update(_number_tree(kid))
    return found


def _kids(elem) -> list:
    kids = elem.get("/K", [])
    return [k for k in (kids if isinstance(kids, Array) else [kids]) if isinstance(k, Dictionary)]


def _named_destinations(src):
    names = src.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return []
    found = []

    def walk(node):
        if "/Names" in node:
            flat = node.Names
            for i in range(0, len(flat), 2):
                found.append((str(flat[i]), flat[i + 1]))
        for kid in node.get("/Kids", []):
            walk(kid)

    walk(names.Dests)
    return found


def _outline(out, tree, heights) -> None:
    """The outline as WeasyPrint writes it (anchors.add_outlines), for the joined pages."""

    def items(subtrees, parent):
        made = []
        total = len(subtrees)
        for label, (page, x, y), children, state in subtrees:
            dest = Array([out.pages[page].obj, Name.XYZ, x * SCALE, (heights[page] - y) * SCALE, 0])
            item = out.make_indirect(Dictionary(Title=String(label), Dest=dest, Parent=parent))
            kids, count = items(children, item)
            item.Count = -count if state == "closed" else count
            if state != "closed":
                total += count
            if kids:
                item.First, item.Last = kids[0], kids[-1]
            if made:
                item.Prev = made[-1]
                made[-1].Next = item
            made.append(item)
        return made, total

    root = out.make_indirect(Dictionary(Type=Name.Outlines))
    made, count = items(tree, root)
    if made:
        root.First, root.Last, root.Count = made[0], made[-1], count
        out.Root.Outlines = root


def _share_font_files(out) -> None:
    """Each part (and the overlay) embeds its own fonts; where two embedded font programs are the
    same bytes (whole fonts, as print files embed them), keep one."""
    import hashlib

    seen: dict[bytes, object] = {}
    for obj in out.objects:
        if not isinstance(obj, Dictionary) or obj.get("/Type") != Name.FontDescriptor:
            continue
        for key in ("/FontFile", "/FontFile2", "/FontFile3"):
            if key not in obj:
                continue
            stream = obj[key]
            digest = hashlib.blake2b(repr(dict(stream.stream_dict)).encode() + stream.read_raw_bytes()).digest()
            if digest in seen:
                obj[key] = seen[digest]
            else:
                seen[digest] = stream


def _stamp(out, overlay_pdf, stamped: set, tagged: bool) -> None:
    """Draw overlay page i over page i of the book, as a pagination artifact."""
    pieces = [(overlay_pdf, 0)] if isinstance(overlay_pdf, bytes) else list(overlay_pdf)
    opened = [(pikepdf.open(io.BytesIO(data)), start) for data, start in pieces]
    for i in sorted(stamped):
        overlay, start = next((doc, at) for doc, at in reversed(opened) if at <= i)
        form = _copy(out, overlay.pages[i - start].as_form_xobject())
        page = out.pages[i]
        # A name of our own per page (add_resource would pick a random one: builds must repeat).
        name = Name(f"/ImprintMargin{i}")
        if "/Resources" not in page.obj:
            page.obj.Resources = Dictionary()
        resources = page.obj.Resources
        if "/XObject" not in resources:
            resources.XObject = Dictionary()
        resources.XObject[name] = form
        page.contents_add(out.make_stream(b"q\n"), prepend=True)
        mark = b"/Artifact <</Type /Pagination>> BDC\n" if tagged else b""
        end = b"EMC\n" if tagged else b""
        page.contents_add(out.make_stream(b"Q\nq\n" + mark + str(name).encode() + b" Do\n" + end + b"Q\n"))

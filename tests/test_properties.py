"""Generated manuscripts (footnote syntax right and wrong, nesting, unicode, raw HTML, odd
URLs) thrown at the loader, the checks and the sanitizer: they never crash and never hang;
they return findings, a clean result, or one user-facing error."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from conftest import CORPUS, METADATA, write_book

from imprint import checks
from imprint.manuscript import pandoc
from imprint.html import render
from imprint.codes import all_codes
from imprint.errors import SEVERITIES, Finding, ImprintError
from imprint.manuscript.load import load

# Text in every script, with marks, emoji, right-to-left and control characters, never
# surrogates (they cannot be written as UTF-8).
# (control characters are refused at load with their line: see test_bad_input).
words = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
                min_size=1, max_size=30)
labels = st.one_of(st.integers(0, 30).map(str), st.sampled_from(["a", "note", "x y", "ü", "日本", "^", "]", "1.2"]))
urls = st.sampled_from(["img.png", "../secret.png", "/etc/passwd", "file:///etc/passwd", "http://127.0.0.1:9/x.png",
                        "data:image/png;base64,AAAA", "data:text/html,x", "javascript:alert(1)", "#fn1", "#top",
                        "java\tscript:x", "sub/../../x", "", "mailto:a@b", "//example.org/x.png", "%2e%2e/x"])
tags = st.sampled_from(["p", "div", "span", "a", "img", "script", "svg", "iframe", "style", "video", "form",
                        "input", "meta", "base", "link", "table", "td", "b", "font", "math", "title", "xmp",
                        "plaintext", "template", "object", "embed", "textarea", "section", "sup"])
attributes = st.sampled_from(['', ' onclick="x()"', ' style="color:red"', ' style="background:url(http://x/)"',
                              ' href="javascript:x()"', ' src="http://127.0.0.1:9/y.png"', ' class="footnote-ref"',
                              ' id="fn1"', ' http-equiv="refresh" content="0"', ' data-x="1"', " hidden",
                              ' src="img.png"', ' srcset="a.png 2x"'])


@st.composite
def raw_html(draw):
    tag, attr = draw(tags), draw(attributes)
    inner = draw(words)
    closing = draw(st.sampled_from([f"</{tag}>", "", "</p>"]))
    return f"<{tag}{attr}>{inner}{closing}"


@st.composite
def inline(draw):
    kind = draw(st.sampled_from(["text", "call", "inline_note", "link", "image", "html", "emph", "brackets", "code"]))
    if kind == "call":
        return f"[^{draw(labels)}]"
    if kind == "inline_note":
        return f"^[{draw(words)}]"
    if kind == "link":
        return f"[{draw(words)}]({draw(urls)})"
    if kind == "image":
        return f"![{draw(words)}]({draw(urls)})"
    if kind == "html":
        return draw(raw_html())
    if kind == "emph":
        return f"*{draw(words)}*"
    if kind == "brackets":
        depth = draw(st.sampled_from([1, 1, 2, 2, 3, 4, 9]))
        return "[" * depth + draw(words) + "]" * draw(st.integers(max(0, depth - 1), depth))
    if kind == "code":
        return f"`{draw(words)}`"
    return draw(words)


@st.composite
def block(draw):
    text = " ".join(draw(st.lists(inline(), min_size=1, max_size=6)))
    kind = draw(st.sampled_from(["para", "heading", "definition", "quote", "list", "fence", "html", "indented"]))
    if kind == "heading":
        return "#" * draw(st.integers(1, 7)) + " " + text
    if kind == "definition":
        rest = draw(st.sampled_from(["", "\n\n    A second paragraph.", "\n    lazy continuation"]))
        return f"[^{draw(labels)}]: {text}{rest}"
    if kind == "quote":
        return "> " * draw(st.integers(1, 80)) + text
    if kind == "list":
        depth = draw(st.integers(1, 80))
        return "\n".join("  " * i + draw(st.sampled_from(["- ", "1. ", "* "])) + text for i in range(depth))
    if kind == "fence":
        return "```\n" + text + draw(st.sampled_from(["\n```", ""]))
    if kind == "html":
        return "\n".join(draw(st.lists(raw_html(), min_size=1, max_size=4)))
    if kind == "indented":
        return "    " + text
    return text


manuscripts = st.lists(block(), min_size=1, max_size=12).map("\n\n".join)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(manuscripts)
def test_loader_checks_and_sanitizer_never_crash(monkeypatch_timeout, text):
    codes = all_codes()
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_book(Path(tmp) / "book", "x", METADATA)
        (folder / "text.md").write_text(text, encoding="utf-8")
        (folder / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        try:
            book = load(folder)
            findings = checks.check(book)
            body = render.body_html(book)
        except ImprintError as err:
            event(f"refused: {err.message[:40]}")
            assert "took longer than" not in err.message, "pandoc hung on a generated manuscript"
            assert err.exit_code in (1, 3)
            assert "\n" not in str(err)
            return
        event("loaded: " + ("findings" if findings else "clean"))
        assert isinstance(findings, list)
        for f in findings:
            assert isinstance(f, Finding) and f.code in codes and f.severity in SEVERITIES
            assert f.where.file is None or Path(f.where.file).parent == folder
        # whatever was in the text, nothing active survives into the shared body
        trees = [body.root] + [b for note in body.notes.values() for b in note.blocks]
        for tree in trees:
            assert tree.xpath("//script|//iframe|//object|//embed|//form|//input|//style|//meta|//base") == []
            assert not [a for el in tree.iter() for a in el.attrib if a.lower().startswith("on")]


@pytest.fixture(scope="module")
def monkeypatch_timeout():
    """pandoc gets 20 s per call here: a generated manuscript that needs more is a finding."""
    saved = pandoc.TIMEOUT
    pandoc.TIMEOUT = 20
    yield
    pandoc.TIMEOUT = saved


FIXTURES = sorted((CORPUS / "fixtures").rglob("*.md")) if (CORPUS / "fixtures").is_dir() else []


@pytest.mark.corpus
@pytest.mark.skipif(not FIXTURES, reason="../shared/corpus/fixtures is absent")
def test_footnote_fixtures_from_other_test_suites_never_crash(tmp_path):
    """pandoc's and markdown-it's footnote test inputs: findings or a clean result, or one error."""
    outcomes = []
    for i, fixture in enumerate(FIXTURES):
        folder = write_book(tmp_path / f"book{i}", "x", METADATA)
        (folder / "text.md").write_bytes(fixture.read_bytes())
        try:
            book = load(folder)
            checks.check(book)
            render.body_html(book)
            outcomes.append("ok")
        except ImprintError as err:
            assert "\n" not in str(err), fixture
            outcomes.append(err.message)
    assert outcomes.count("ok") >= len(FIXTURES) * 0.8, outcomes

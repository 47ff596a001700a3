"""The Jinja environment the house's templates (and a book's own `templates/`) are rendered
in: name + plain data -> text, with StrictUndefined and autoescaping; a book's templates
sandboxed; an error is a TemplateError at the template's file and line."""

from __future__ import annotations

import traceback
from pathlib import Path

import jinja2
import jinja2.sandbox

from imprint.errors import Location, TemplateError
from imprint.house import TEMPLATES

HEAD_CHARS = 48       # the longest running head that fits the head line of the smallest trim
BOOK_TEMPLATES = "templates"      # a book's own folder of templates, beside its metadata
BLOCK_KEY = "data-b"      # attribute holding a block's index in the shared Body


def running_head(title: str) -> str:
    """A title short enough for the running head: whole when it fits, else up to its first
    ", or", ";", ":" or dash when that fits, else cut at a word with an ellipsis. A heading's
    own `{running-head="..."}` attribute is used as given (cut the same way if too long)."""
    title = " ".join(title.split())
    if len(title) <= HEAD_CHARS:
        return title
    for mark in (", or ", "; ", ": ", " — ", "—", ", "):
        at = title.find(mark)
        if 12 <= at <= HEAD_CHARS:
            return title[:at].rstrip(" ,;:—")
    cut = title[:HEAD_CHARS - 1]
    cut = cut[:cut.rfind(" ")] if " " in cut else cut
    return cut.rstrip(" ,;:—") + "…"


def book_templates(root: Path | None) -> Path | None:
    """The book's templates/ folder, when it has one inside the book (a link out of it is refused)."""
    if root is None:
        return None
    folder = Path(root) / BOOK_TEMPLATES
    if not folder.is_dir():
        return None
    inside = Path(root).resolve()
    for path in [folder, *folder.rglob("*")]:
        if not path.resolve().is_relative_to(inside):
            raise TemplateError("a template links to a file outside the book", where=Location(path),
                                hint="copy the template into the book's templates/ folder")
    return folder


def environment(book_root: Path | None = None, templates: Path = TEMPLATES) -> jinja2.Environment:
    """The Jinja environment: the house templates, and first the book's own templates/ (a
    template there replaces the house one of the same name). With a book's templates it is
    sandboxed (jinja2.sandbox: no attribute of Python's internals is reachable from them);
    StrictUndefined and autoescaping either way."""
    own = book_templates(book_root)
    loaders = [jinja2.FileSystemLoader(str(own), followlinks=False)] if own else []
    kind = jinja2.sandbox.SandboxedEnvironment if own else jinja2.Environment
    env = kind(
        loader=jinja2.ChoiceLoader(loaders + [jinja2.FileSystemLoader(str(templates))]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["running_head"] = running_head
    env.globals["book_templates"] = str(own) if own else ""   # where render_template's errors point
    return env


def render_template(env: jinja2.Environment, name: str, **context) -> str:
    own = env.globals.get("book_templates")

    def where(template: str, err=None):
        for frame, line in reversed(list(traceback.walk_tb(err.__traceback__)) if err is not None else []):
            if frame.f_code.co_filename.endswith(".j2"):      # the template (an included one too) at fault
                return Location(Path(frame.f_code.co_filename), line)
        mine = Path(own) / template if own else None
        return Location(mine if mine is not None and mine.is_file() else TEMPLATES / template)

    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as err:
        raise TemplateError(f"template error: {err.message}", where=Location(err.filename, err.lineno) if err.filename else where(name),
                            hint="fix the Jinja syntax") from None
    except jinja2.UndefinedError as err:
        raise TemplateError(f"template uses an undefined value: {err.message}", where=where(name, err),
                            hint="templates may only use the values listed in the README") from None
    except jinja2.sandbox.SecurityError as err:
        raise TemplateError(f"template is not allowed to do this: {err}", where=where(name, err),
                            hint="a book's templates may only use the values listed in the README") from None
    except jinja2.TemplateNotFound as err:
        raise TemplateError(f"template not found: {err.name}", where=where(name)) from None
    except jinja2.TemplateError as err:
        raise TemplateError(f"template error: {err}", where=where(name, err)) from None

"""The outputs of a build change as one set: a journal written before the first rename.

The outputs are flat files in the user's folder (`dist/slug.pdf`, `slug.epub`, ...), and
users rely on those paths, so they cannot be switched by one rename (a fresh folder and one
link would make `dist/` or each file a link). A build writes them in four steps:

1. stage: every new file is written and fsynced as `.imprint.TOKEN.NAME.new` beside its
   destination; nothing the user sees has changed;
2. keep: every output being replaced gets a hard link `.imprint.TOKEN.NAME.old`;
3. journal: `.imprint-journal.json` names each file (staged name, backup, SHA-256 of the new
   bytes). It is written to a temporary name, fsynced and renamed into place, the folder
   fsynced: from here on the new set is committed;
4. move: each staged file is renamed over its destination; then the backups go, the journal
   last.

A build that fails in its own process (a rename refused) puts back what it moved and says
nothing was written. A build killed (kill -9, power cut) leaves the folder for the next
one: every build, and every command that reads the outputs, first takes the folder's lock
(imprint/outlock.py) and calls `recover`, which

- with a journal, rolls FORWARD when every file is either still staged or already in place
  with the new bytes (the renames are completed), else rolls BACK (the backups are put back,
  files that are new in this set removed); then removes the journal;
- removes every staged file, backup and temporary journal that is left (`.imprint.*.new`,
  `.imprint.*.old`, `.imprint-journal.json.*`), whatever outputs they belonged to.

So after any interruption and the next build (or `recover`), the folder holds the whole old
set or the whole new set and no hidden file of ours. Between the kill and that next command,
the visible files may be a mix: the journal says which. imprint's own readers of the set
take the lock and recover first: a build (and so the whole-build cache's replay, which
writes its set through here), `preflight` (reads the print files, rewrites the report) and
`proof`; the preview server of --watch serves single files, each whole.

Outputs renamed (`Superseded`): the names come from the title, so a new title writes a new
set beside the old one. Each folder's RECORD (in the user's cache, not in the folder: that
holds only the outputs) names, for each book built into it, the outputs imprint wrote there
and the SHA-256 of their bytes, and the part each is (its edition, the cover, the report).
Before its first rename a build adds its new files to the record (so a kill from there on
leaves every file of both sets named in it); once the whole new set is in place it removes
each file the book's earlier builds wrote for a part this build made under another name,
when its bytes are still the ones written; then the record names this set, and the earlier
names of the parts this build did not make (an `--edition pdf` build keeps the EPUB the last
full build wrote). A failed build reaches none of this. A file of another name, another
book's, one the user changed or put there, is never removed: the record is the only list,
and a file must match it by name and bytes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path

from imprint.errors import Finding, Location
from imprint.trust import untrusted

JOURNAL = ".imprint-journal.json"
_OURS = re.compile(r"^\.imprint\.[0-9a-f]{8}\..+\.(?:new|old)$|^" + re.escape(JOURNAL) + r"\.[0-9a-f]{8}$")

# tests only: called with (step, name) at each step of writing, where a test injects a fault:
# ("staged", NAME) after each staged file, ("kept", NAME) after each backup, ("journal", None)
# once the journal is in place, ("moved", NAME) after each rename, ("cleanup", None) before the
# backups go, ("dropped", NAME) after each backup is removed, ("done", None) after the journal is;
# and ("recovering", NAME) after each file `recover` (or a failed build) puts forward or back.
_at_step = None


def _step(step: str, name: str | None = None) -> None:
    if _at_step is not None:
        _at_step(step, name)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()       # in pieces: a print PDF may be large
    except OSError:
        return None


def _write_durably(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, mode)            # whatever the umask: outputs are readable by all, as before




def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class Entry:
    name: str                     # the output's file name in the folder
    staged: str                   # .imprint.TOKEN.NAME.new
    sha256: str                   # of the new bytes
    backup: str | None = None     # .imprint.TOKEN.NAME.old, when an output of that name was replaced

    def as_json(self) -> dict:
        return {"name": self.name, "staged": self.staged, "sha256": self.sha256, "backup": self.backup}


class Writing:
    """One build's writing of its set of outputs into `out`: `stage`, then `commit` (under the
    caller's signal guard), and `discard` in a `finally`, which removes what an unfinished
    writing made and leaves a committed one alone."""

    def __init__(self, out: Path, files: dict[str, bytes], superseded: "Superseded | None" = None):
        self.out = Path(out)
        self.files = files
        self.superseded = superseded    # the earlier names to remove once this set is in place
        self.token = secrets.token_hex(4)
        self.entries = [Entry(name, f".imprint.{self.token}.{name}.new", _sha256(data)) for name, data in files.items()]
        self.journaled = False       # the journal is in place: the next build finishes this set
        self.committed = False       # every file is in place

    @classmethod
    def stage(cls, out: Path, files: dict[str, bytes], superseded: "Superseded | None" = None) -> "Writing":
        writing = cls(out, files, superseded)
        writing.out.mkdir(parents=True, exist_ok=True)
        recover(writing.out)
        _clear_legacy(writing.out, files)
        try:
            for entry in writing.entries:
                _write_durably(writing.out / entry.staged, files[entry.name])
                _step("staged", entry.name)
        except BaseException:
            writing.discard()
            raise
        return writing

    def commit(self) -> list[Path]:
        out = self.out
        for entry in self.entries:
            final = out / entry.name
            if final.is_file() and not final.is_symlink():
                backup = f".imprint.{self.token}.{entry.name}.old"
                try:
                    os.link(final, out / backup)
                except OSError:
                    shutil.copy2(final, out / backup)
                entry.backup = backup
                _step("kept", entry.name)
        _sync_folder(out)
        if self.superseded is not None:
            with contextlib.suppress(OSError):      # the record names both sets until this one is in place
                self.superseded.note(self.entries)
        _write_journal(out, self.token, self.entries)
        self.journaled = True
        moved: list[Entry] = []
        try:
            _step("journal")
            for entry in self.entries:
                os.replace(out / entry.staged, out / entry.name)
                moved.append(entry)
                _step("moved", entry.name)
        except BaseException:
            _roll_back(out, moved)
            (out / JOURNAL).unlink(missing_ok=True)
            self.journaled = False
            raise
        _sync_folder(out)
        self.committed = True
        try:
            _step("cleanup")
            for entry in self.entries:
                if entry.backup:
                    (out / entry.backup).unlink(missing_ok=True)
                    _step("dropped", entry.name)
            (out / JOURNAL).unlink(missing_ok=True)
            _sync_folder(out)
            _step("done")
        except OSError:
            pass        # the new set is in place; what is left, the next build clears (recover)
        if self.superseded is not None:
            with contextlib.suppress(OSError):      # the set is in place: a record it cannot finish removes less
                self.superseded.finish(self.entries)
        return [out / e.name for e in self.entries]

    def discard(self) -> None:
        """After a writing that did not reach its journal: remove its staged files and backups."""
        if self.journaled:
            return        # committed, or its journal still names the backups: `recover`'s to finish
        for entry in self.entries:
            (self.out / entry.staged).unlink(missing_ok=True)
            if entry.backup:
                (self.out / entry.backup).unlink(missing_ok=True)


def _write_journal(out: Path, token: str, entries: list[Entry]) -> None:
    text = json.dumps({"imprint-journal": 1, "token": token, "files": [e.as_json() for e in entries]}, indent=1)
    tmp = out / f"{JOURNAL}.{token}"
    try:
        _write_durably(tmp, text.encode())
        os.replace(tmp, out / JOURNAL)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(out)


_JOURNAL_MAX = 1 << 20          # a journal names a handful of outputs: a few KB
_OUTPUT = re.compile(r"^[^/\\\x00.][^/\\\x00]*\.(?:pdf|epub|json)$")   # what a build writes: slug.pdf, .epub, .report.json


def _read_journal(path: Path) -> list[Entry] | None:
    """The journal's entries, or None when it is not one a build of ours wrote: every staged
    file and backup named with the journal's token after its output, every output a plain
    name of the kinds a build writes (so a planted journal cannot move or remove a file
    that is not ours: the manuscript in `--out .`, a folder, a file of another name)."""
    try:
        # a regular file, read no further than a journal can be (a link to /dev/zero or a FIFO is not one)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            raw = fh.read(_JOURNAL_MAX + 1)
        if len(raw) > _JOURNAL_MAX:
            return None
        data = json.loads(raw.decode("utf-8"))
        token = data["token"]
        entries = [Entry(f["name"], f["staged"], f["sha256"], f.get("backup")) for f in data["files"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(token, str) or not re.fullmatch(r"[0-9a-f]{8}", token):
        return None
    out = path.parent
    for e in entries:
        if not isinstance(e.name, str) or not _OUTPUT.match(e.name) or (out / e.name).is_dir():
            return None
        if e.staged != f".imprint.{token}.{e.name}.new" or not isinstance(e.sha256, str):
            return None
        if e.backup is not None and e.backup != f".imprint.{token}.{e.name}.old":
            return None
    return entries


def _roll_back(out: Path, entries: list[Entry]) -> None:
    """Put back the outputs the entries replaced; remove those new in this set."""
    for entry in entries:
        final = out / entry.name
        if entry.backup and (out / entry.backup).exists():
            os.replace(out / entry.backup, final)
        elif not entry.backup and _file_sha256(final) == entry.sha256:
            final.unlink(missing_ok=True)
        (out / entry.staged).unlink(missing_ok=True)
        _step("recovering", entry.name)
    _sync_folder(out)


def recover(out: Path) -> str | None:
    """Finish what a killed build left in `out` (see the module's docstring). Call it holding the
    folder's lock. Returns what was done, in a sentence, or None when there was nothing to do."""
    out = Path(out)
    if not out.is_dir():
        return None
    said = None
    journal = out / JOURNAL
    if journal.is_symlink() or journal.is_file():       # a folder of that name: the build's writing says so
        entries = _read_journal(journal)
        if entries is None:
            # not ours, or damaged: put back every backup there is (the old set, as far as it goes)
            backups = [p for p in out.iterdir() if _OURS.match(p.name) and p.name.endswith(".old")
                       and p.is_file() and not p.is_symlink()
                       and _OUTPUT.match(p.name.split(".", 3)[3][: -len(".old")])
                       and not (out / p.name.split(".", 3)[3][: -len(".old")]).is_dir()]
            for backup in backups:
                os.replace(backup, out / backup.name.split(".", 3)[3][: -len(".old")])
            said = (f"{out}: a build was stopped while writing and its journal {JOURNAL} cannot be read: "
                    f"{len(backups)} replaced outputs put back; build again to have a whole set")
        elif all(((out / e.staged).exists() and _file_sha256(out / e.staged) == e.sha256)
                 or _file_sha256(out / e.name) == e.sha256 for e in entries):
            for e in entries:
                if _file_sha256(out / e.staged) == e.sha256:      # never a link or other bytes put in its place
                    os.replace(out / e.staged, out / e.name)
                    _step("recovering", e.name)
            said = f"{out}: a build was stopped while writing its {len(entries)} outputs; its writing was completed"
        else:
            _roll_back(out, entries)
            said = (f"{out}: a build was stopped while writing its {len(entries)} outputs; "
                    "the outputs it had replaced were put back")
        _sync_folder(out)
        for e in entries or ():
            if e.backup:
                (out / e.backup).unlink(missing_ok=True)
        journal.unlink(missing_ok=True)
    for left in out.iterdir():
        if _OURS.match(left.name) and (left.is_file() or left.is_symlink()):
            left.unlink(missing_ok=True)
    _sync_folder(out)
    return said


def _clear_legacy(out: Path, names) -> None:
    """What a build of imprint before the journal left when killed: `.NAME.xxxxxxxx` (staged)
    and `.NAME.old.PID.HEX` (backups), for the names this build writes."""
    for name in names:
        for debris in out.glob(f".{glob_escape(name)}.*"):
            if debris.is_file() and not debris.is_symlink():
                debris.unlink(missing_ok=True)


def write_one(path: Path, data: bytes, record: Path | None = None) -> None:
    """One file replaced atomically (os.replace of a staged `.imprint.TOKEN.NAME.new`), for the
    commands that rewrite a single output under the folder's lock (preflight's report). With
    the folder's `record`, a file it names is named there with its new bytes too (so a later
    build that renames it still knows it as imprint's)."""
    tmp = path.parent / f".imprint.{secrets.token_hex(4)}.{path.name}.new"
    try:
        _write_durably(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if record is not None:
        books = _read_record(record, path.parent)
        named = [files[path.name] for files in books.values() if path.name in files]
        for entry in named:
            entry["sha256"] = (entry["sha256"] + [_sha256(data)])[-_SHAS_KEPT:]
        if named:
            _write_record(record, path.parent, books)


# --- outputs an earlier build wrote under names this one does not write (see the module's docstring) ----

_RECORD_MAX = 1 << 20           # a record names a handful of outputs per book: a few KB
_SHAS_KEPT = 8                  # the bytes written under one name that are still known as imprint's
# an output's name as a build makes it: a slug (a-z, 0-9, hyphens) and an output's suffix
_RECORDED = re.compile(r"[a-z0-9][a-z0-9-]*(?:\.[a-z]+)?\.(?:pdf|epub|json)")


def _read_record(record: Path | None, out: Path) -> dict:
    """The folder's record: book -> output name -> {"part", "sha256": [digests]}; {} when there
    is none, or it is not one imprint wrote for this folder (damaged, too large, a link, another
    folder's): then nothing is known, and nothing will be removed."""
    if record is None:
        return {}
    try:
        # a record another user could have written (a shared cache folder) names files to remove:
        # never trusted, nor one in a folder others may write to
        if any(untrusted(os.lstat(folder)) for folder in (record.parent, record.parent.parent)):
            return {}
        fd = os.open(record, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or untrusted(st):
                return {}
            raw = fh.read(_RECORD_MAX + 1)
        if len(raw) > _RECORD_MAX:
            return {}
        data = json.loads(raw.decode("utf-8"))
        if data.get("imprint-outputs") != 1 or data.get("folder") != str(Path(out).resolve()):
            return {}
        books = {}
        for owner, files in data["books"].items():
            books[str(owner)] = {
                name: {"part": str(e["part"]), "sha256": [str(d) for d in e["sha256"]][-_SHAS_KEPT:]}
                for name, e in files.items() if isinstance(name, str) and _RECORDED.fullmatch(name)}
        return books
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _write_record(record: Path, out: Path, books: dict) -> None:
    """The record replaced whole (written aside, then renamed); a record that cannot be written
    is no failure of the build: the next one knows less, and removes less."""
    books = {owner: files for owner, files in books.items() if files}
    text = json.dumps({"imprint-outputs": 1, "folder": str(Path(out).resolve()), "books": books}, indent=1)
    tmp = record.with_name(f"{record.name}.{secrets.token_hex(4)}")
    try:
        record.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_durably(tmp, text.encode(), 0o600)      # it names the user's books and folders: theirs alone
        os.replace(tmp, record)
    except OSError:
        tmp.unlink(missing_ok=True)


@dataclass
class Superseded:
    """What one build does about the outputs its book's earlier builds wrote into `out` under
    other names (the module's docstring): planned before the build's report is written (the
    report says what will go), carried out by `Writing.commit` once the new set is in place.

    remove:  (earlier name, part, new name): the part was made again under the new name, and
             the earlier file still holds what imprint wrote: it goes;
    changed: (earlier name, part, new name): likewise, but its bytes are not what imprint
             wrote (the user changed it, or put a file there): it stays, and leaves the record;
    kept:    (earlier name, part, its name now): a part this build did not make, written under
             an earlier name: it stays (the last build of that edition), recorded still, and
             goes when a build makes that part."""
    out: Path
    owner: str                       # the book: its folder, or its one Markdown file
    parts: dict[str, str]            # this build's outputs: name -> part
    record: Path | None
    books: dict = dataclasses.field(default_factory=dict)
    remove: list = dataclasses.field(default_factory=list)
    changed: list = dataclasses.field(default_factory=list)
    kept: list = dataclasses.field(default_factory=list)
    carried: list = dataclasses.field(default_factory=list)     # other parts' files under their names now
    removed: list = dataclasses.field(default_factory=list)     # what finish() removed

    def note(self, entries: list[Entry]) -> None:
        """Before the first rename: the record names this set beside every earlier file."""
        books = _read_record(self.record, self.out)
        mine = books.setdefault(self.owner, {})
        for entry in entries:
            for other, files in books.items():
                if other != self.owner:
                    files.pop(entry.name, None)        # the last book to write a name is its owner
            part, before = self.parts[entry.name], mine.get(entry.name, {})
            known = before["sha256"] if before.get("part") == part else []     # the bytes it may still hold
            mine[entry.name] = {"part": part, "sha256": (known + [entry.sha256])[-_SHAS_KEPT:]}
        if self.record is not None:
            _write_record(self.record, self.out, books)

    def finish(self, entries: list[Entry]) -> None:
        """Once the new set is in place: the superseded files removed, the record made this set's."""
        books = _read_record(self.record, self.out)
        earlier = books.get(self.owner, {})
        left = {}
        for name, part, _ in self.remove:
            recorded = earlier.get(name) or self.books.get(self.owner, {}).get(name)
            path = self.out / name
            try:
                if recorded and not path.is_symlink() and _file_sha256(path) in recorded["sha256"]:
                    path.unlink()
                    self.removed.append(name)
                    _step("superseded", name)
            except OSError:
                left[name] = recorded           # named still: the next build tries again
        _sync_folder(self.out)
        for name in [k[0] for k in self.kept] + self.carried:
            if name in earlier:
                left[name] = earlier[name]
        left.update({e.name: {"part": self.parts[e.name], "sha256": [e.sha256]} for e in entries})
        books[self.owner] = left
        for other, files in books.items():      # the other books' entries for files no longer there go
            if other != self.owner:
                for name in [n for n in files if n in left or not (self.out / n).is_file()]:
                    del files[name]
        if self.record is not None:
            _write_record(self.record, self.out, books)

    def findings(self) -> list:
        """The build's word on each (info findings O101-O103, each naming the file)."""
        def edition(part):
            return None if part == "report" else part

        def what(part):
            return {"cover": "the cover", "report": "the report"}.get(part, f"the {part} edition")
        said = [Finding("O101", "info", f"{name} removed: an earlier build of this book wrote it, and this build "
                                        f"wrote {new} in its place", Location(self.out / name), edition=edition(part))
                for name, part, new in self.remove]
        said += [Finding("O102", "info", f"{name} kept: an earlier build of this book wrote it, and this build wrote "
                                         f"{new} in its place, but it has changed since", Location(self.out / name),
                         hint="remove it yourself if it is out of date", edition=edition(part))
                 for name, part, new in self.changed]
        said += [Finding("O103", "info", f"{name} kept: an earlier build of this book wrote {what(part)} under that "
                                         f"name, and this build did not make it", Location(self.out / name),
                         hint=f"a build that makes it writes {now} and removes {name}", edition=edition(part))
                 for name, part, now in self.kept]
        return said


def superseded(out: Path, owner: str, parts: dict[str, str], names: dict[str, str],
               record: Path | None) -> Superseded:
    """Plan what a build writing `parts` (name -> part) for the book `owner` does about the
    files its earlier builds wrote into `out` (the record's), call it under the folder's lock.
    `names` gives each part's name as the book would write it now (every part, made or not)."""
    out = Path(out)
    plan = Superseded(out, owner, dict(parts), record, _read_record(record, out))
    made = {part: name for name, part in parts.items()}
    for name, entry in sorted(plan.books.get(owner, {}).items()):
        path, part = out / name, entry["part"]
        if name in parts or path.is_symlink() or not path.is_file():
            continue                    # made again; or gone, or no longer a file: the record forgets it
        if part not in made and names.get(part) == name:
            plan.carried.append(name)   # a part not made, under its name now: kept, nothing to say (nor read)
            continue
        digest = _file_sha256(path)
        if part in made:
            (plan.remove if digest in entry["sha256"] else plan.changed).append((name, part, made[part]))
        elif digest in entry["sha256"]:
            plan.kept.append((name, part, names.get(part) or "its file"))
    return plan

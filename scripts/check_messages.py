"""Fail when the translation catalogues are not current, complete and valid.

Run from anywhere (`make check` runs `.venv/bin/python scripts/check_messages.py`). It never writes to
the committed catalogues: `makemessages` runs in a temporary copy of the package whose settings point
LOCALE_PATHS at the copy, and the message ids it finds are compared with the committed .po files.

Problems reported, per language:
  * a message in the code or templates that the catalogue lacks (run makemessages, then translate);
  * a message in the catalogue that the code no longer uses, or an obsolete (#~) entry;
  * an untranslated entry (an empty msgstr, or a plural form left empty or missing);
  * a fuzzy entry, including a fuzzy header (msgfmt would drop it, and with it the charset);
  * a header whose Language, charset or Plural-Forms is wrong or missing;
  * a catalogue that `msgfmt --check` rejects (placeholders that differ from the msgid, bad header ...).

To bring the catalogues up to date:
  cd src/ventanilla && DJANGO_SETTINGS_MODULE=ventanilla.settings_test ../../.venv/bin/django-admin \\
      makemessages -l es -l fr -l ar --no-obsolete --ignore 'testing/*' --ignore '*/tests/*'
then translate what is new and run `make messages`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "src" / "ventanilla"
LOCALE_DIR = PACKAGE_DIR / "locale"
DOMAIN = "django"
# The same options as the documented command above; keep the two in step.
MAKEMESSAGES_OPTIONS = ["--no-obsolete", "--ignore", "testing/*", "--ignore", "*/tests/*"]
# Never copied into the scratch tree: caches and compiled catalogues say nothing about the messages.
COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", ".*")
MULTIPLY = "\u00d7"


# --- A small .po reader (no third-party dependency) -----------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")
_STRING = re.compile(r'^(".*")\s*$')


def _unquote(quoted: str) -> str:
    body = quoted[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid or "", self.msgid_plural)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    def label(self, *, by_source: bool = False) -> str:
        """The msgid, shortened, and where it is: its line in the .po file or its source files."""
        text = (self.msgid or "").replace("\n", "\\n")
        shown = text if len(text) <= 70 else text[:67] + "..."
        context = f" [context {self.msgctxt!r}]" if self.msgctxt is not None else ""
        where = ", ".join(self.references[:3]) if by_source and self.references else f"line {self.line}"
        return f"{where}: {shown!r}{context}"


class PoSyntaxError(ValueError):
    pass


def read_po(path: Path) -> list[Entry]:
    """Entries in file order; the header is the entry whose msgid is empty."""
    entries: list[Entry] = []
    current = Entry(line=0)
    target: tuple[str, int] | None = None  # the field that continuation strings extend

    def finish() -> None:
        nonlocal current, target
        if current.msgid is not None:
            entries.append(current)
        elif current.msgctxt is not None or current.msgstr:
            raise PoSyntaxError(f"{path}:{current.line}: entry without msgid")
        current, target = Entry(line=0), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            if not line or line.startswith("|"):  # "#~|": previous msgid of an obsolete entry
                continue
        elif not line:
            finish()
            continue
        elif line.startswith("#"):
            if current.msgstr:  # a comment after a msgstr starts the next entry
                finish()
            if line.startswith("#,"):
                current.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            elif line.startswith("#:"):
                current.references += line[2:].split()
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, quoted = match.groups()
            if keyword in ("msgctxt", "msgid") and (current.msgstr or current.msgid is not None):
                finish()
            if keyword == "msgctxt" or (keyword == "msgid" and current.msgctxt is None):
                current.line = number
            current.obsolete = current.obsolete or obsolete
            value = _unquote(quoted)
            if keyword == "msgctxt":
                current.msgctxt, target = value, ("msgctxt", 0)
            elif keyword == "msgid":
                current.msgid, target = value, ("msgid", 0)
            elif keyword == "msgid_plural":
                current.msgid_plural, target = value, ("msgid_plural", 0)
            else:
                slot = int(index) if index is not None else 0
                current.msgstr[slot], target = value, ("msgstr", slot)
            continue
        match = _STRING.match(line)
        if match and target is not None:
            name, slot = target
            value = _unquote(match.group(1))
            if name == "msgstr":
                current.msgstr[slot] += value
            else:
                setattr(current, name, (getattr(current, name) or "") + value)
            continue
        raise PoSyntaxError(f"{path}:{number}: cannot read {raw!r}")
    finish()
    return entries


def header_fields(header: Entry | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in (header.msgstr.get(0, "") if header else "").splitlines():
        name, _, value = line.partition(":")
        if value:
            fields[name.strip().lower()] = value.strip()
    return fields


# --- The checks ------------------------------------------------------------------------------------


def languages() -> list[str]:
    """Every language in settings.LANGUAGES except the source language (test settings, as makemessages)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "ventanilla.settings_test"
    from django.conf import settings

    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def fresh_catalogues(codes: list[str], scratch: Path) -> tuple[Path, list[str]]:
    """Run makemessages in a copy of the package; return the copy's locale directory and any warnings."""
    package = scratch / "ventanilla"
    try:
        shutil.copytree(PACKAGE_DIR, package, ignore=COPY_IGNORE, symlinks=True)
    except shutil.Error:
        # A file vanished while it was copied (someone is editing): copy again, once.
        shutil.rmtree(package, ignore_errors=True)
        shutil.copytree(PACKAGE_DIR, package, ignore=COPY_IGNORE, symlinks=True)
    locale = package / "locale"
    locale.mkdir(exist_ok=True)
    # Settings for this run only: LOCALE_PATHS names the copy, so nothing is written to the real tree.
    settings_module = "check_messages_settings"
    (scratch / f"{settings_module}.py").write_text(
        f"from ventanilla.settings_test import *  # noqa: F403\nLOCALE_PATHS = [{str(locale)!r}]\n",
        encoding="utf-8",
    )
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = settings_module
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(scratch), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "django", "makemessages", "-v", "0", *MAKEMESSAGES_OPTIONS]
    for code in codes:
        command += ["-l", code]
    # Only our own interpreter and fixed arguments are run.
    result = subprocess.run(command, cwd=package, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"makemessages failed (exit {result.returncode}):\n{result.stderr.strip()}")
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    return locale, warnings


def msgfmt_problems(msgfmt: str, po: Path) -> list[str]:
    result = subprocess.run(  # noqa: S603 - msgfmt resolved by shutil.which, fixed arguments
        [msgfmt, "--check", "-o", os.devnull, str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return []
    return ["msgfmt --check: " + line for line in result.stderr.splitlines() if line.strip()]


def catalogue_problems(code: str, po: Path, expected: list[Entry], msgfmt: str | None) -> list[str]:
    if not po.is_file():
        return [f"{po.relative_to(ROOT)} is missing"]
    try:
        entries = read_po(po)
    except (PoSyntaxError, UnicodeDecodeError) as error:
        return [f"cannot read the catalogue: {error}"]
    problems: list[str] = []
    header = next((e for e in entries if e.is_header and not e.obsolete), None)
    fields = header_fields(header)
    if header is None:
        problems.append("no header entry")
    elif "fuzzy" in header.flags:
        problems.append("the header is marked fuzzy: msgfmt would drop it (and its charset); remove the flag")
    if fields.get("language") != code:
        problems.append(f"header Language is {fields.get('language', '')!r}, expected {code!r}")
    if "charset=utf-8" not in fields.get("content-type", "").lower().replace(" ", ""):
        problems.append("header Content-Type must say charset=UTF-8")
    plural_forms = re.search(r"nplurals\s*=\s*(\d+)", fields.get("plural-forms", ""))
    nplurals = int(plural_forms.group(1)) if plural_forms else None
    if nplurals is None:
        problems.append("header Plural-Forms is missing")

    messages = [e for e in entries if not e.is_header]
    wanted = {e.key for e in expected}
    have = {e.key for e in messages if not e.obsolete}
    for entry in expected:
        if entry.key not in have:
            problems.append(f"not in the catalogue (run makemessages): {entry.label(by_source=True)}")
    for entry in messages:
        if entry.obsolete:
            problems.append(f"obsolete entry (run makemessages --no-obsolete): {entry.label()}")
        elif entry.key not in wanted:
            problems.append(f"no longer used by the code (run makemessages --no-obsolete): {entry.label()}")
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.label()}")
        if entry.msgid_plural is None:
            if not entry.msgstr.get(0):
                problems.append(f"untranslated: {entry.label()}")
        else:
            forms = range(nplurals) if nplurals is not None else sorted(entry.msgstr)
            empty = [str(i) for i in forms if not entry.msgstr.get(i)]
            extra = [str(i) for i in entry.msgstr if nplurals is not None and i >= nplurals]
            if empty:
                problems.append(f"untranslated plural form(s) msgstr[{', '.join(empty)}]: {entry.label()}")
            if extra:
                problems.append(f"more plural forms than nplurals={nplurals}: {entry.label()}")
    if msgfmt is not None:
        problems += msgfmt_problems(msgfmt, po)
    return problems


def main() -> int:
    codes = languages()
    msgfmt = shutil.which("msgfmt")
    report: dict[str, list[str]] = {}
    if msgfmt is None:
        report["gettext"] = ["msgfmt not found: install gettext (apt-get install gettext)"]
    with tempfile.TemporaryDirectory(prefix="ventanilla-messages-") as scratch:
        try:
            fresh_locale, warnings = fresh_catalogues(codes, Path(scratch))
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        counts = set()
        for code in codes:
            relative = Path(code) / "LC_MESSAGES" / f"{DOMAIN}.po"
            expected = [e for e in read_po(fresh_locale / relative) if not e.is_header and not e.obsolete]
            counts.add(len(expected))
            problems = catalogue_problems(code, LOCALE_DIR / relative, expected, msgfmt)
            if problems:
                report[str((LOCALE_DIR / relative).relative_to(ROOT))] = problems
    for line in warnings:
        print(f"makemessages: {line}", file=sys.stderr)
    if report:
        total = sum(len(problems) for problems in report.values())
        print(f"translation catalogues are not current ({total} problems):", file=sys.stderr)
        for where, problems in report.items():
            print(f"  {where}", file=sys.stderr)
            for problem in problems:
                print(f"    - {problem}", file=sys.stderr)
        options = [*(f"-l {c}" for c in codes), *map(shlex.quote, MAKEMESSAGES_OPTIONS)]
        update = " ".join(["makemessages", *options])
        print(
            "Update with: cd src/ventanilla && DJANGO_SETTINGS_MODULE=ventanilla.settings_test "
            f"../../.venv/bin/django-admin {update}\nthen translate what is new and run `make messages`.",
            file=sys.stderr,
        )
        return 1
    count = max(counts, default=0)
    print(f"translation catalogues are current ({count} messages {MULTIPLY} {len(codes)} languages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

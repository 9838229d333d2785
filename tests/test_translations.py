"""French is complete: every string the code and templates mark for translation has a French
text in locale/fr, none of them fuzzy. (Strings whose English changed had lost their French
without anyone seeing it: the AI and Discogs error messages were shown in English.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

PO = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def test_the_french_catalogue_has_no_empty_or_fuzzy_entry():
    po = polib.pofile(str(PO))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


SKIP = {"locale", "tests", "bench", "data", "deploy", "node_modules", "docs"}


@pytest.mark.skipif(
    not (shutil.which("xgettext") and shutil.which("msgmerge")),
    reason="GNU gettext (scripts/test installs it)",
)
def test_every_string_of_the_code_is_in_the_french_catalogue(tmp_path, monkeypatch):
    """makemessages, run over the code into a copy of the catalogue, finds nothing to add.

    It writes to the locale folder that sits beside the files it reads, so it reads them through
    links from a temporary tree whose own locale folder holds the copy."""
    base = Path(settings.BASE_DIR)
    tree = tmp_path / "tree"
    tree.mkdir()
    for entry in base.iterdir():
        if entry.name not in SKIP and not entry.name.startswith("."):
            (tree / entry.name).symlink_to(entry)
    copy = tree / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    copy.parent.mkdir(parents=True)
    shutil.copy(PO, copy)
    monkeypatch.chdir(tree)
    monkeypatch.setattr(settings, "LOCALE_PATHS", [tree / "locale"])
    call_command("makemessages", locale=["fr"], no_obsolete=True, symlinks=True, verbosity=0)
    po = polib.pofile(str(copy))
    missing = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [f"{e.msgid!r} (was {e.msgstr!r})" for e in po.fuzzy_entries()]
    assert missing == [] and fuzzy == [], "\n".join(missing + fuzzy)

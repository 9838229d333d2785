"""Compile locale/*/LC_MESSAGES/django.po into .mo files without GNU gettext.

Django's `compilemessages` needs msgfmt, which a fresh machine lacks; the .mo files are build
output (git-ignored), so the setup scripts run this instead. Handles msgctxt, plurals and
multi-line strings, like CPython's Tools/i18n/msgfmt.py on which it is modelled.
"""

from __future__ import annotations

import ast
import struct
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def parse_po(text: str) -> dict[bytes, bytes]:
    messages: dict[bytes, bytes] = {}
    entry: dict[str, list[str] | dict[int, str]] = {}
    section = None
    fuzzy = False

    def flush():
        nonlocal entry, fuzzy
        msgid = "".join(entry.get("msgid", ["-"]))
        if "msgid" in entry and (not fuzzy or msgid == ""):  # the header counts even when fuzzy
            ctxt = "".join(entry.get("msgctxt", []))
            if "msgid_plural" in entry:
                plural = "".join(entry["msgid_plural"])
                forms = entry.get("msgstr_plural", {})
                strs = [forms[k] for k in sorted(forms)]
                if any(strs):
                    key = msgid + "\0" + plural
                    value = "\0".join(strs)
                    if ctxt:
                        key = ctxt + "\x04" + key
                    messages[key.encode()] = value.encode()
            else:
                value = "".join(entry.get("msgstr", []))
                if value or not msgid:
                    key = ctxt + "\x04" + msgid if ctxt else msgid
                    messages[key.encode()] = value.encode()
        entry, fuzzy = {}, False

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            if "msgid" in entry:
                flush()
            fuzzy = True
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgctxt"):
            if "msgid" in entry:
                flush()
            section = "msgctxt"
            entry[section] = [ast.literal_eval(line[7:].strip())]
        elif line.startswith("msgid_plural"):
            section = "msgid_plural"
            entry[section] = [ast.literal_eval(line[12:].strip())]
        elif line.startswith("msgid"):
            if "msgid" in entry:
                flush()
            section = "msgid"
            entry[section] = [ast.literal_eval(line[5:].strip())]
        elif line.startswith("msgstr["):
            index = int(line[7 : line.index("]")])
            entry.setdefault("msgstr_plural", {})[index] = ast.literal_eval(
                line[line.index("]") + 1 :].strip()
            )
            section = ("msgstr_plural", index)
        elif line.startswith("msgstr"):
            section = "msgstr"
            entry[section] = [ast.literal_eval(line[6:].strip())]
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(section, tuple):
                entry["msgstr_plural"][section[1]] += value
            elif section:
                entry[section].append(value)
    flush()
    return messages


def build_mo(messages: dict[bytes, bytes]) -> bytes:
    keys = sorted(messages)
    ids = strs = b""
    offsets = []
    for k in keys:
        offsets.append((len(ids), len(k), len(strs), len(messages[k])))
        ids += k + b"\0"
        strs += messages[k] + b"\0"
    n = len(keys)
    keystart = 7 * 4 + 16 * n
    valuestart = keystart + len(ids)
    koffsets, voffsets = [], []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + keystart]
        voffsets += [l2, o2 + valuestart]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    return (
        header
        + struct.pack(f"{len(koffsets)}i", *koffsets)
        + struct.pack(f"{len(voffsets)}i", *voffsets)
        + ids
        + strs
    )


class Command(BaseCommand):
    help = "Compile the .po translation files into .mo (no GNU gettext needed)."

    def handle(self, *args, **options):
        count = 0
        for base in settings.LOCALE_PATHS:
            for po in Path(base).glob("*/LC_MESSAGES/*.po"):
                mo = po.with_suffix(".mo")
                if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                    continue
                mo.write_bytes(build_mo(parse_po(po.read_text(encoding="utf-8"))))
                count += 1
        self.stdout.write(f"{count} translation file(s) compiled.")

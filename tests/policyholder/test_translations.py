"""Every string a policyholder can see has a Bahasa Indonesia translation, compiled."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "portal" / "translations" / "id" / "LC_MESSAGES"
KEYWORDS = {
    "_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None,
}  # fmt: skip


def _source_messages() -> set[str]:
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_in_the_code_has_an_indonesian_translation() -> None:
    with open(CATALOG / "messages.po", "rb") as po:
        catalog = read_po(po)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    messages = _source_messages()
    assert len(messages) > 100
    assert sorted(messages - translated) == []


def _key(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def test_the_compiled_catalog_matches_the_translations() -> None:
    with open(CATALOG / "messages.po", "rb") as po:
        source = {_key(m.id): _key(m.string) for m in read_po(po) if m.id}
    with open(CATALOG / "messages.mo", "rb") as mo:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(mo) if m.id}
    assert compiled == source, "run: pybabel compile -d portal/translations"

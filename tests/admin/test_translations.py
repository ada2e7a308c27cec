"""The back office speaks Bahasa Indonesia: every text staff can see has a translation in its own
catalog (domain "admin", babel-admin.cfg), compiled, and no text escapes the catalog unwrapped."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "portal" / "translations" / "id" / "LC_MESSAGES"
ADMIN = ROOT / "portal" / "admin"
SERVICES = ROOT / "portal" / "services"
# N_ marks the services' messages (portal/services/messages.py): staff read them too.
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
}


def _msgid(value: object) -> str:
    return str(value[0] if isinstance(value, list | tuple) else value)


def _source_messages() -> set[str]:
    with open(ROOT / "babel-admin.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {
        _msgid(message)
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }


def _translated(path: Path) -> set[str]:
    with open(path, "rb") as po:
        catalog = read_po(po)
    return {
        _msgid(m.id)
        for m in catalog
        if m.id
        and not m.fuzzy
        and all(m.string if isinstance(m.string, list | tuple) else [m.string])
    }


def test_every_back_office_message_has_an_indonesian_translation() -> None:
    messages = _source_messages()
    assert len(messages) > 300
    assert sorted(messages - _translated(CATALOG / "admin.po")) == []


def test_the_services_messages_are_in_the_back_office_catalog() -> None:
    """Import errors, refusals, exception details and decline reasons are built in the
    services and shown to staff: babel-admin.cfg reads them, so an untranslated one fails
    the test above."""
    messages = _source_messages()
    for msgid in (
        "Bill %(invoice)s is paid; it cannot be edited.",
        "Repeats an earlier line.",
        "paid %(paid)s but bill %(invoice)s is %(amount)s",
        "policy status is %(status)s",
        "Footer message is %(length)s characters; the receipt holds at most %(max)s.",
    ):
        assert msgid in messages


def _key(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def test_the_compiled_catalog_matches_the_translations() -> None:
    with open(CATALOG / "admin.po", "rb") as po:
        source = {_key(m.id): _key(m.string) for m in read_po(po) if m.id}
    with open(CATALOG / "admin.mo", "rb") as mo:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(mo) if m.id}
    assert compiled == source, "run: pybabel compile -D admin -d portal/translations"


def test_placeholders_survive_translation() -> None:
    """A translation that drops or renames %(name)s would raise (or lie) at render time."""
    placeholder = re.compile(r"%\(\w+\)[sd]")
    with open(CATALOG / "admin.po", "rb") as po:
        catalog = read_po(po)
    wrong = []
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, list | tuple) else (m.id,)
        strings = m.string if isinstance(m.string, list | tuple) else (m.string,)
        wanted = set(placeholder.findall(ids[-1])) | set(placeholder.findall(ids[0]))
        for text in strings:
            if set(placeholder.findall(text)) != wanted:
                wrong.append((ids[0], text))
    assert wrong == []


# --- nothing staff see is left outside the catalog ----------------------------------------

_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
_WORD = re.compile(r"[A-Za-z]{2,}")
# Words that are the same in both languages: the time zone, protocol and file names, and the
# languages' own names on the switch.
_AS_IS = {"WIB", "CSV", "XLSX", "DOKU", "HTTP", "JSON", "Bahasa", "Indonesia", "English"}
_TEXT_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}


class _BareText(HTMLParser):
    """Text and labelling attributes of a template once every Jinja expression is taken out."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._verbatim = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "pre", "code"):
            self._verbatim += 1
        for name, value in attrs:
            if name in _TEXT_ATTRIBUTES and value and self._words(value):
                self.found.append(f"{name}={value!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "pre", "code"):
            self._verbatim = max(0, self._verbatim - 1)

    def handle_data(self, data: str) -> None:
        if not self._verbatim and self._words(data):
            self.found.append(data.strip())

    @staticmethod
    def _words(text: str) -> bool:
        return any(w not in _AS_IS for w in _WORD.findall(re.sub(r"\S*-\S*|\S+\.\S+", "", text)))


def test_back_office_templates_have_no_text_outside_the_catalog() -> None:
    bare = {}
    for template in sorted((ADMIN / "templates").rglob("*.html")):
        parser = _BareText()
        parser.feed(_JINJA.sub(" ", template.read_text()))
        if parser.found:
            bare[template.name] = parser.found
    assert bare == {}


_FIELDS = re.compile(r"\w+Field$")


def _unwrapped_texts(tree: ast.AST) -> list[str]:
    """Literal texts handed to flash(), error_page() or as a form field's label."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
        if name == "flash":
            shown = node.args[:1]
        elif name == "error_page":
            shown = node.args[1:2]
        elif _FIELDS.search(name):
            shown = node.args[:1] + [k.value for k in node.keywords if k.arg == "label"]
        else:
            continue
        found.extend(
            f"{name}({ast.unparse(t)}) line {t.lineno}"
            for t in shown
            if isinstance(t, ast.JoinedStr)
            or (isinstance(t, ast.Constant) and isinstance(t.value, str))
        )
    return found


def test_back_office_python_hands_staff_only_translated_texts() -> None:
    unwrapped = {
        path.name: texts
        for path in sorted(ADMIN.glob("*.py"))
        if (texts := _unwrapped_texts(ast.parse(path.read_text())))
    }
    assert unwrapped == {}


def test_the_checks_would_see_an_unwrapped_text() -> None:
    parser = _BareText()
    parser.feed(_JINJA.sub(" ", '<p>{{ _("Fine") }} Not fine</p><a title="Open it">x</a>'))
    assert parser.found == ["Not fine", "title='Open it'"]
    code = """flash("Saved.", "success")\nflash(_("Saved."), "success")\nStringField("Name")
error_page(400, f"{x}")\nerror_page(404)\nSelectField(label="Kind")"""
    assert len(_unwrapped_texts(ast.parse(code))) == 4


# --- the services hand staff only marked messages ------------------------------------------

# Errors whose text staff read (each a MessageError): built from N_-marked msgids only.
_MESSAGE_ERRORS = {
    "BillingError", "BillLocked", "ReceiptTextError", "UnreadableFile", "PolicyStatusError",
    "PaymentCodeError", "ExceptionError", "AlreadyResolved", "MessageError",
}  # fmt: skip


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _unmarked_messages(tree: ast.AST) -> list[str]:
    """Texts a service hands to a Message, a Template, a message error or InvalidFields
    without N_: they would never reach the catalog."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = getattr(func, "id", None) or getattr(func, "attr", "")
        owner = getattr(getattr(func, "value", None), "id", None)
        made = name in ("Message", "Template") or (name == "of" and owner == "Message")
        if made or name in _MESSAGE_ERRORS:
            shown = node.args[:1]
        elif name == "InvalidFields" and node.args and isinstance(node.args[0], ast.Dict):
            shown = [
                item
                for value in node.args[0].values
                if isinstance(value, ast.List)
                for item in value.elts
            ]
        else:
            continue
        found.extend(f"{name}({ast.unparse(t)}) line {t.lineno}" for t in shown if _is_text(t))
    return found


def test_the_services_build_staff_messages_from_marked_msgids_only() -> None:
    unmarked = {
        str(path.relative_to(SERVICES)): texts
        for path in sorted(SERVICES.rglob("*.py"))
        if (texts := _unmarked_messages(ast.parse(path.read_text())))
    }
    assert unmarked == {}


def test_the_service_check_would_see_an_unmarked_message() -> None:
    code = """Message("Plain.")\nMessage.of(f"Bill {x}", a=1)\nTemplate("t %(a)s")
raise BillLocked("Bill is paid.")\nInvalidFields({"note": ["Say why."]})
Message(N_("Fine."))\nBillLocked(Message.of(N_("Bill %(i)s"), i=1))
InvalidFields({"note": [N_("Fine.")]})"""
    assert len(_unmarked_messages(ast.parse(code))) == 5

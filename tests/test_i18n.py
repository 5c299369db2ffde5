"""Italian and English: complete catalogues, the right language per person, Italian formats.

The catalogue checks keep translations complete as code changes: a new or changed
user-visible string fails here, naming the string, until it is translated in
distretto/translations/it/LC_MESSAGES/messages.po and compiled
(``scripts/translations.sh update``, translate, ``scripts/translations.sh compile``).
English is the source language: the en catalogue is kept in step with the sources
but may leave every msgstr empty (gettext then shows the English source text).
"""

from __future__ import annotations

import gettext
import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import render_template_string

from distretto.platform.db import db
from distretto.testing.plugin import csrf_token

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "distretto" / "translations"
LOCALES = ("it", "en")
# The same keywords as scripts/translations.sh passes to `pybabel extract`.
EXTRA_KEYWORDS = ["_l", "lazy_gettext"]
UPDATE_HINT = (
    "Run scripts/translations.sh update, translate the strings in "
    "distretto/translations/it/LC_MESSAGES/messages.po (and drop any '#, fuzzy' line "
    "once checked), then scripts/translations.sh compile, and commit the .po and .mo files."
)


def _po_path(locale: str) -> Path:
    return CATALOGUES / locale / "LC_MESSAGES" / "messages.po"


def _read_catalogue(locale: str) -> Any:
    with _po_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def _messages(catalogue: Any) -> list[Any]:
    return [message for message in catalogue if message.id]


def _key(msgid: str | tuple[str, ...], context: str | None) -> tuple[str | None, str]:
    return context, msgid if isinstance(msgid, str) else msgid[0]


def _describe(key: tuple[str | None, str]) -> str:
    context, msgid = key
    return repr(msgid) + (f" (context {context!r})" if context else "")


@pytest.fixture(scope="module")
def extracted() -> dict[tuple[str | None, str], list[str]]:
    """Every message in the sources now, as ``pybabel extract -F babel.cfg`` finds it."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(ROOT / "babel.cfg"))
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords(EXTRA_KEYWORDS))
    package = ROOT / "distretto"

    def only_the_package(path: str) -> bool:
        resolved = Path(path).resolve()
        name = resolved.name
        inside = resolved == package or package in resolved.parents
        return inside and not name.startswith((".", "_")) and name != "node_modules"

    found: dict[tuple[str | None, str], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=keywords,
        directory_filter=only_the_package,
    ):
        found.setdefault(_key(message, context), []).append(f"{filename}:{lineno}")
    return found


def test_extraction_finds_the_kernel_strings(extracted):
    # Guards the two tests below against a babel.cfg that silently matches nothing.
    keys = {msgid for _context, msgid in extracted}
    assert {"Sign in", "VAT number", "Owner", "Use at least %(num)d characters."} <= keys
    templates = {
        place for places in extracted.values() for place in places if "/templates/" in place
    }
    assert templates, "babel.cfg found no strings in the Jinja templates"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_holds_exactly_the_strings_of_the_sources(extracted, locale):
    catalogue = {_key(m.id, m.context) for m in _messages(_read_catalogue(locale))}
    missing = sorted(set(extracted) - catalogue, key=str)
    stale = sorted(catalogue - set(extracted), key=str)
    problems = [
        f"not in the {locale} catalogue: {_describe(key)} from {', '.join(extracted[key])}"
        for key in missing
    ] + [f"in the {locale} catalogue but no longer in the sources: {_describe(k)}" for k in stale]
    assert not problems, "\n".join([*problems, UPDATE_HINT])


def test_every_italian_string_is_translated_and_reviewed():
    catalogue = _read_catalogue("it")
    untranslated = [
        m for m in _messages(catalogue) if not all(m.string if m.pluralizable else [m.string])
    ]
    fuzzy = [m for m in _messages(catalogue) if m.fuzzy]
    problems = [f"untranslated: {m.id!r}" for m in untranslated] + [
        f"fuzzy (a guess by pybabel update, to be checked): {m.id!r} -> {m.string!r}" for m in fuzzy
    ]
    assert not problems, "\n".join([*problems, UPDATE_HINT])


_PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _placeholders(text: str | tuple[str, ...]) -> set[str]:
    texts = [text] if isinstance(text, str) else list(text)
    return {name for item in texts for name in _PLACEHOLDER.findall(item)}


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_of_the_source(locale):
    # A renamed %(firm)s raises KeyError when the page renders; a dropped %(link)s
    # sends an invitation without its link.
    catalogue = _read_catalogue(locale)
    problems = [
        f"{message.id!r} -> {message.string!r}: {error}"
        for message, errors in catalogue.check()
        for error in errors
    ] + [
        f"{m.id!r} -> {m.string!r}: placeholders differ"
        for m in _messages(catalogue)
        if (all(m.string) if m.pluralizable else m.string)
        and _placeholders(m.string) != _placeholders(m.id)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_its_po_file(locale):
    compiled = io.BytesIO()
    write_mo(compiled, _read_catalogue(locale))
    expected = gettext.GNUTranslations(io.BytesIO(compiled.getvalue()))
    mo_path = _po_path(locale).with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run scripts/translations.sh compile"
    with mo_path.open("rb") as handle:
        committed = gettext.GNUTranslations(handle)
    assert committed._catalog == expected._catalog, (
        f"{mo_path.relative_to(ROOT)} is older than its .po: run scripts/translations.sh compile"
    )


def test_english_is_the_source_language_so_its_catalogue_changes_nothing_by_accident():
    # A filled en msgstr would silently reword the English UI; it must be deliberate,
    # and a wording identical to the source is pointless.
    same = [m.id for m in _messages(_read_catalogue("en")) if m.string and m.string == m.id]
    assert not same, f"en msgstr identical to the msgid (leave them empty): {same}"


# --- the language a person sees ---------------------------------------------------


def _page(client: Any, path: str, language: str | None = None) -> str:
    headers = {"Accept-Language": language} if language else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_login_page_follows_the_browser_language(app):
    client = app.test_client()
    italian = _page(client, "/login", "it-IT,it;q=0.9,en;q=0.5")
    assert '<html lang="it">' in italian
    assert "Accedi" in italian
    assert "Password dimenticata?" in italian
    assert "Mantieni l'accesso su questo dispositivo" in italian
    assert "Sign in" not in italian

    english = _page(client, "/login", "en-GB,en;q=0.9")
    assert '<html lang="en">' in english
    assert "Sign in" in english
    assert "Forgot your password?" in english
    assert "Accedi" not in english


def test_login_page_without_a_preference_is_in_italian(app):
    assert "Accedi" in _page(app.test_client(), "/login")


def test_form_errors_and_messages_are_in_the_browser_language(app, make_user):
    user = make_user()
    client = app.test_client()
    token = csrf_token(client)
    italian = {"Accept-Language": "it"}

    empty = client.post("/login", data={"csrf_token": token}, headers=italian)
    assert empty.status_code == 400
    assert "Questo campo è obbligatorio." in empty.get_data(as_text=True)  # WTForms' own

    wrong = client.post(
        "/login",
        data={"csrf_token": token, "email": user.email, "password": "not-the-password"},
        headers=italian,
    )
    assert wrong.status_code == 401
    assert "E-mail o password non corretti." in wrong.get_data(as_text=True)

    english = client.post("/login", data={"csrf_token": token}, headers={"Accept-Language": "en"})
    assert "This field is required." in english.get_data(as_text=True)


def test_italian_firm_shows_italian_pages_to_a_member_without_a_preference(
    tenant_client,
):
    client, tenant, user = tenant_client("owner", default_locale="it")
    assert user.locale is None
    home = _page(client, f"/{tenant.slug}/", "en-US,en;q=0.9")
    assert '<html lang="it">' in home
    assert "Esci" in home
    assert "Impostazioni" in home
    members = _page(client, f"/{tenant.slug}/settings/members", "en")
    assert "<td>Titolare</td>" in members  # the role's name, not the code "owner"
    assert "Invita una persona" in members


def test_english_firm_shows_english_pages_to_a_member_without_a_preference(tenant_client):
    client, tenant, _user = tenant_client("owner", default_locale="en")
    home = _page(client, f"/{tenant.slug}/", "it")
    assert '<html lang="en">' in home
    assert "Sign out" in home


def _member(make_tenant: Any, make_user: Any, firm_locale: str, own_locale: str | None) -> Any:
    tenant = make_tenant(default_locale=firm_locale)
    user = make_user(tenant, "owner")
    user.locale = own_locale
    db.session.commit()
    return tenant, user


@pytest.mark.parametrize(
    ("firm_locale", "own_locale", "expected", "unexpected"),
    [("it", "en", "Sign out", "Esci"), ("en", "it", "Esci", "Sign out")],
)
def test_a_persons_own_language_beats_the_firms(
    make_tenant, make_user, login, firm_locale, own_locale, expected, unexpected
):
    tenant, user = _member(make_tenant, make_user, firm_locale, own_locale)
    client = login(user)
    home = _page(client, f"/{tenant.slug}/", firm_locale)
    assert f'<html lang="{own_locale}">' in home
    assert expected in home
    assert unexpected not in home


def test_invitation_mail_is_in_the_firms_language_whatever_the_sender_reads(
    app, make_tenant, make_user, login
):
    tenant, user = _member(make_tenant, make_user, "it", "en")
    client = login(user)
    path = f"/{tenant.slug}/settings/members"
    response = client.post(
        f"{path}/invite",
        data={
            "csrf_token": csrf_token(client, path),
            "email": "new.clerk@example.com",
            "role": "staff",
        },
    )
    assert response.status_code == 302
    assert "Invitation sent to new.clerk@example.com." in _page(client, path)
    mail = app.extensions["distretto.sent_mail"][-1]
    assert mail["to"] == "new.clerk@example.com"
    assert mail["subject"] == f"Invito a {tenant.legal_name} su Distretto"
    assert "con il ruolo Collaboratore" in mail["body"]


# --- Italian formats -------------------------------------------------------------


def _render(app: Any, template: str, language: str, **context: Any) -> str:
    # A fresh app context: ``g``, where Flask-Babel keeps the chosen language, is per request.
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": language}):
        return render_template_string(template, **context)


def test_money_is_written_the_italian_way_in_italian_and_the_english_way_in_english(app):
    amount = Decimal("1234.56")
    assert _render(app, "{{ amount|money }}", "it", amount=amount) == "1.234,56 EUR"
    assert _render(app, "{{ amount|money }}", "en", amount=amount) == "1,234.56 EUR"
    assert _render(app, "{{ amount|money }}", "it", amount=Decimal("-0.5")) == "-0,50 EUR"


def test_numbers_and_dates_follow_the_language(app):
    assert _render(app, "{{ n|number }}", "it", n=Decimal("1234567.891")) == "1.234.567,891"
    assert _render(app, "{{ n|number }}", "en", n=Decimal("1234567.891")) == "1,234,567.891"
    day = date(2025, 3, 7)
    assert _render(app, "{{ d|date }}", "it", d=day) == "07/03/25"
    assert _render(app, "{{ d|date }}", "en", d=day) == "3/7/25"
    # Stored in UTC, shown in Italian time (CET in winter, CEST in summer).
    moment = datetime(2025, 7, 1, 16, 30)
    assert _render(app, "{{ m|datetime }}", "it", m=moment) == "01/07/25, 18:30"

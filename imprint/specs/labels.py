"""The words a book prints that its author did not write, by language: one table a translator
can extend (add a language's row; a key missing from it falls back to English).

`label(lang, key)` takes a BCP 47 tag (`de`, `pt-BR`) and answers in that language, else in
English; `known(lang)` says whether the language has a row.
"""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "en": {"chapter": "Chapter", "section": "Section", "figure": "Figure", "table": "Table",
           "bibliography": "Bibliography", "references": "References", "works-cited": "Works Cited"},
    "de": {"chapter": "Kapitel", "section": "Abschnitt", "figure": "Abbildung", "table": "Tabelle",
           "bibliography": "Literaturverzeichnis", "references": "Literatur"},
    "fr": {"chapter": "Chapitre", "section": "Section", "figure": "Figure", "table": "Tableau",
           "bibliography": "Bibliographie", "references": "Références"},
    "es": {"chapter": "Capítulo", "section": "Sección", "figure": "Figura", "table": "Tabla",
           "bibliography": "Bibliografía", "references": "Referencias"},
    "it": {"chapter": "Capitolo", "section": "Sezione", "figure": "Figura", "table": "Tabella",
           "bibliography": "Bibliografia", "references": "Riferimenti bibliografici"},
    "pt": {"chapter": "Capítulo", "section": "Seção", "figure": "Figura", "table": "Tabela",
           "bibliography": "Bibliografia", "references": "Referências"},
    "nl": {"chapter": "Hoofdstuk", "section": "Paragraaf", "figure": "Figuur", "table": "Tabel",
           "bibliography": "Bibliografie", "references": "Literatuur"},
    "ru": {"chapter": "Глава", "section": "Раздел", "figure": "Рисунок", "table": "Таблица",
           "bibliography": "Библиография", "references": "Список литературы"},
    "pl": {"chapter": "Rozdział", "section": "Podrozdział", "figure": "Rysunek", "table": "Tabela",
           "bibliography": "Bibliografia", "references": "Bibliografia"},
    "sv": {"chapter": "Kapitel", "section": "Avsnitt", "figure": "Figur", "table": "Tabell",
           "bibliography": "Litteraturförteckning", "references": "Referenser"},
}


def _row(lang: str) -> dict[str, str]:
    return LABELS.get((lang or "en").split("-")[0].lower(), {})


def known(lang: str) -> bool:
    return bool(_row(lang))


def label(lang: str, key: str) -> str:
    return _row(lang).get(key) or LABELS["en"][key]

"""The words a book prints that its author did not write, by language: one table a translator
can extend (add a language's row; a key missing from it falls back to English).

`label(lang, key)` takes a BCP 47 tag (`de`, `pt-BR`) and answers in that language, else in
English; `known(lang)` says whether the language has a row; `labels(lang)` is the whole row
(English filled in), as the templates receive it. Labels with `{…}` are formats
(`label("de", "translated-by").format(names=…)`).

`QUOTES` holds how each language writes quotation marks (primary and inner pair, from CLDR's
delimiters: quotationStart/End, alternateQuotationStart/End), with what goes between a mark
and the words (French: a narrow no-break space). English keeps “…” with ‘…’ inside for en-GB
too: CLDR's en-GB delimiters are the same, and single outer quotes are a house's choice a
book can make by typing them.
"""

from __future__ import annotations

# Every key a template or edition prints. To add a language: copy the "en" row, translate it,
# and give it the language's code (two letters, ISO 639-1) as key.
LABELS: dict[str, dict[str, str]] = {
    "en": {"and": "and", "list-of-figures": "Figures", "list-of-tables": "Tables",
           "part": "Part", "chapter": "Chapter", "section": "Section", "figure": "Figure", "table": "Table",
           "bibliography": "Bibliography", "references": "References", "works-cited": "Works Cited",
           "contents": "Contents", "notes": "Notes", "copyright": "Copyright", "title-page": "Title page",
           "start-of-text": "Start of text", "landmarks": "Landmarks", "pages": "Pages",
           "editorial-note": "Editorial note", "translated-by": "Translated by {names}",
           "first-published": "First published in {when}.", "published-by": "Published by {publisher}",
           "set-in": "Set in {face}.", "page-numbers": "Page numbers follow the print edition",
           "back-to-note": "Back to note {n} call", "paperback": "paperback", "note-continued": "(continued)",
           "note-pointer": "See note {n} on the next page."},
    "de": {"and": "und", "list-of-figures": "Abbildungen", "list-of-tables": "Tabellen",
           "part": "Teil", "chapter": "Kapitel", "section": "Abschnitt", "figure": "Abbildung", "table": "Tabelle",
           "bibliography": "Literaturverzeichnis", "references": "Literatur",
           "contents": "Inhalt", "notes": "Anmerkungen", "copyright": "Impressum", "title-page": "Titelseite",
           "start-of-text": "Textbeginn", "landmarks": "Orientierungspunkte", "pages": "Seiten",
           "editorial-note": "Editorische Notiz", "translated-by": "Übersetzt von {names}",
           "first-published": "Erstveröffentlichung: {when}.", "published-by": "Veröffentlicht von {publisher}",
           "set-in": "Gesetzt aus der {face}.", "page-numbers": "Die Seitenzahlen folgen der Druckausgabe",
           "back-to-note": "Zurück zum Verweis auf Anmerkung {n}", "paperback": "Taschenbuch", "note-continued": "(Fortsetzung)",
           "note-pointer": "Siehe Anmerkung {n} auf der nächsten Seite."},
    "fr": {"and": "et", "list-of-figures": "Figures", "list-of-tables": "Tableaux",
           "part": "Partie", "chapter": "Chapitre", "section": "Section", "figure": "Figure", "table": "Tableau",
           "bibliography": "Bibliographie", "references": "Références",
           "contents": "Table des matières", "notes": "Notes", "copyright": "Mentions légales",
           "title-page": "Page de titre", "start-of-text": "Début du texte", "landmarks": "Repères",
           "pages": "Pages", "editorial-note": "Note de l’éditeur", "translated-by": "Traduit par {names}",
           "first-published": "Première publication\u202f: {when}.", "published-by": "Publié par {publisher}",
           "set-in": "Composé en {face}.", "page-numbers": "La pagination suit celle de l’édition imprimée",
           "back-to-note": "Retour à l’appel de la note {n}", "paperback": "broché", "note-continued": "(à suivre)",
           "note-pointer": "Voir la note {n} à la page suivante."},
    "es": {"and": "y", "list-of-figures": "Figuras", "list-of-tables": "Tablas",
           "part": "Parte", "chapter": "Capítulo", "section": "Sección", "figure": "Figura", "table": "Tabla",
           "bibliography": "Bibliografía", "references": "Referencias",
           "contents": "Índice", "notes": "Notas", "copyright": "Créditos", "title-page": "Portada",
           "start-of-text": "Inicio del texto", "landmarks": "Puntos de referencia", "pages": "Páginas",
           "editorial-note": "Nota editorial", "translated-by": "Traducción de {names}",
           "first-published": "Primera edición: {when}.", "published-by": "Publicado por {publisher}",
           "set-in": "Compuesto en {face}.", "page-numbers": "La numeración de páginas sigue la edición impresa",
           "back-to-note": "Volver a la llamada de la nota {n}", "paperback": "rústica", "note-continued": "(continúa)",
           "note-pointer": "Véase la nota {n} en la página siguiente."},
    "it": {"and": "e", "list-of-figures": "Figure", "list-of-tables": "Tabelle",
           "part": "Parte", "chapter": "Capitolo", "section": "Sezione", "figure": "Figura", "table": "Tabella",
           "bibliography": "Bibliografia", "references": "Riferimenti bibliografici",
           "contents": "Indice", "notes": "Note", "copyright": "Copyright", "title-page": "Frontespizio",
           "start-of-text": "Inizio del testo", "landmarks": "Punti di riferimento", "pages": "Pagine",
           "editorial-note": "Nota editoriale", "translated-by": "Traduzione di {names}",
           "first-published": "Prima edizione: {when}.", "published-by": "Pubblicato da {publisher}",
           "set-in": "Composto in {face}.", "page-numbers": "La numerazione delle pagine segue l’edizione a stampa",
           "back-to-note": "Torna al richiamo della nota {n}", "paperback": "brossura", "note-continued": "(segue)",
           "note-pointer": "Vedi la nota {n} alla pagina seguente."},
    "pt": {"and": "e", "list-of-figures": "Figuras", "list-of-tables": "Tabelas",
           "part": "Parte", "chapter": "Capítulo", "section": "Seção", "figure": "Figura", "table": "Tabela",
           "bibliography": "Bibliografia", "references": "Referências",
           "contents": "Sumário", "notes": "Notas", "copyright": "Direitos autorais", "title-page": "Folha de rosto",
           "start-of-text": "Início do texto", "landmarks": "Pontos de referência", "pages": "Páginas",
           "editorial-note": "Nota editorial", "translated-by": "Tradução de {names}",
           "first-published": "Primeira publicação: {when}.", "published-by": "Publicado por {publisher}",
           "set-in": "Composto em {face}.", "page-numbers": "A numeração das páginas segue a edição impressa",
           "back-to-note": "Voltar à chamada da nota {n}", "paperback": "brochura", "note-continued": "(continua)",
           "note-pointer": "Ver a nota {n} na página seguinte."},
    "nl": {"and": "en", "list-of-figures": "Figuren", "list-of-tables": "Tabellen",
           "part": "Deel", "chapter": "Hoofdstuk", "section": "Paragraaf", "figure": "Figuur", "table": "Tabel",
           "bibliography": "Bibliografie", "references": "Literatuur",
           "contents": "Inhoud", "notes": "Noten", "copyright": "Colofon", "title-page": "Titelpagina",
           "start-of-text": "Begin van de tekst", "landmarks": "Oriëntatiepunten", "pages": "Pagina’s",
           "editorial-note": "Verantwoording", "translated-by": "Vertaald door {names}",
           "first-published": "Oorspronkelijk verschenen: {when}.", "published-by": "Uitgegeven door {publisher}",
           "set-in": "Gezet uit de {face}.", "page-numbers": "De paginanummers volgen de gedrukte uitgave",
           "back-to-note": "Terug naar de verwijzing naar noot {n}", "paperback": "paperback", "note-continued": "(vervolg)",
           "note-pointer": "Zie noot {n} op de volgende pagina."},
    "ru": {"and": "и", "list-of-figures": "Рисунки", "list-of-tables": "Таблицы",
           "part": "Часть", "chapter": "Глава", "section": "Раздел", "figure": "Рисунок", "table": "Таблица",
           "bibliography": "Библиография", "references": "Список литературы",
           "contents": "Содержание", "notes": "Примечания", "copyright": "Выходные данные",
           "title-page": "Титульный лист", "start-of-text": "Начало текста", "landmarks": "Ориентиры",
           "pages": "Страницы", "editorial-note": "От редакции", "translated-by": "Перевод: {names}",
           "first-published": "Впервые опубликовано: {when}.", "published-by": "Издатель: {publisher}",
           "set-in": "Набрано шрифтом {face}.", "page-numbers": "Нумерация страниц соответствует печатному изданию",
           "back-to-note": "Вернуться к ссылке на примечание {n}", "paperback": "мягкая обложка", "note-continued": "(продолжение)",
           "note-pointer": "См. примечание {n} на следующей странице."},
    "pl": {"and": "i", "list-of-figures": "Rysunki", "list-of-tables": "Tabele",
           "part": "Część", "chapter": "Rozdział", "section": "Podrozdział", "figure": "Rysunek", "table": "Tabela",
           "bibliography": "Bibliografia", "references": "Bibliografia",
           "contents": "Spis treści", "notes": "Przypisy", "copyright": "Prawa autorskie",
           "title-page": "Strona tytułowa", "start-of-text": "Początek tekstu", "landmarks": "Punkty orientacyjne",
           "pages": "Strony", "editorial-note": "Nota redakcyjna", "translated-by": "Tłumaczenie: {names}",
           "first-published": "Pierwsze wydanie: {when}.", "published-by": "Wydawca: {publisher}",
           "set-in": "Złożono krojem {face}.", "page-numbers": "Numeracja stron odpowiada wydaniu drukowanemu",
           "back-to-note": "Powrót do odsyłacza przypisu {n}", "paperback": "oprawa miękka", "note-continued": "(cd.)",
           "note-pointer": "Zob. przypis {n} na następnej stronie."},
    "sv": {"and": "och", "list-of-figures": "Figurer", "list-of-tables": "Tabeller",
           "part": "Del", "chapter": "Kapitel", "section": "Avsnitt", "figure": "Figur", "table": "Tabell",
           "bibliography": "Litteraturförteckning", "references": "Referenser",
           "contents": "Innehåll", "notes": "Noter", "copyright": "Upphovsrätt", "title-page": "Titelsida",
           "start-of-text": "Textens början", "landmarks": "Landmärken", "pages": "Sidor",
           "editorial-note": "Redaktionell anmärkning", "translated-by": "Översättning: {names}",
           "first-published": "Först utgiven: {when}.", "published-by": "Utgiven av {publisher}",
           "set-in": "Satt med {face}.", "page-numbers": "Sidnumren följer den tryckta utgåvan",
           "back-to-note": "Tillbaka till hänvisningen till not {n}", "paperback": "häftad", "note-continued": "(forts.)",
           "note-pointer": "Se not {n} på nästa sida."},
    "he": {"and": "ו", "list-of-figures": "רשימת איורים", "list-of-tables": "רשימת טבלאות",
           "part": "חלק", "chapter": "פרק", "section": "סעיף", "figure": "איור", "table": "טבלה",
           "bibliography": "ביבליוגרפיה", "references": "מקורות",
           "contents": "תוכן העניינים", "notes": "הערות", "copyright": "זכויות יוצרים", "title-page": "שער",
           "start-of-text": "תחילת הטקסט", "landmarks": "ציוני דרך", "pages": "עמודים",
           "editorial-note": "הערת המערכת", "translated-by": "תרגום: {names}",
           "first-published": "פורסם לראשונה: {when}.", "published-by": "הוצאה לאור: {publisher}",
           "set-in": "סודר באות {face}.", "page-numbers": "מספרי העמודים לפי המהדורה המודפסת",
           "back-to-note": "חזרה להפניה להערה {n}", "paperback": "כריכה רכה", "note-continued": "(המשך)",
           "note-pointer": "ראו הערה {n} בעמוד הבא."},
    "el": {"and": "και", "list-of-figures": "Εικόνες", "list-of-tables": "Πίνακες",
           "part": "Μέρος", "chapter": "Κεφάλαιο", "section": "Ενότητα", "figure": "Εικόνα", "table": "Πίνακας",
           "bibliography": "Βιβλιογραφία", "references": "Αναφορές", "works-cited": "Έργα που παρατίθενται",
           "contents": "Περιεχόμενα", "notes": "Σημειώσεις", "copyright": "Πνευματικά δικαιώματα",
           "title-page": "Σελίδα τίτλου", "start-of-text": "Αρχή του κειμένου", "landmarks": "Ορόσημα",
           "pages": "Σελίδες", "editorial-note": "Σημείωμα της έκδοσης", "translated-by": "Μετάφραση: {names}",
           "first-published": "Πρώτη δημοσίευση: {when}.", "published-by": "Έκδοση: {publisher}",
           "set-in": "Στοιχειοθεσία σε {face}.", "page-numbers": "Η αρίθμηση των σελίδων ακολουθεί την έντυπη έκδοση",
           "back-to-note": "Επιστροφή στην παραπομπή της σημείωσης {n}", "paperback": "χαρτόδετη έκδοση",
           "note-continued": "(συνέχεια)", "note-pointer": "Βλ. σημείωση {n} στην επόμενη σελίδα."},
    "ar": {"and": "و", "list-of-figures": "قائمة الأشكال", "list-of-tables": "قائمة الجداول",
           "part": "الجزء", "chapter": "الفصل", "section": "القسم", "figure": "شكل", "table": "جدول",
           "bibliography": "قائمة المراجع", "references": "المراجع",
           "contents": "المحتويات", "notes": "الحواشي", "copyright": "حقوق النشر", "title-page": "صفحة العنوان",
           "start-of-text": "بداية النص", "landmarks": "معالم", "pages": "الصفحات",
           "editorial-note": "ملاحظة المحرر", "translated-by": "ترجمة: {names}",
           "first-published": "نُشر لأول مرة: {when}.", "published-by": "الناشر: {publisher}",
           "set-in": "جُمع بخط {face}.", "page-numbers": "أرقام الصفحات وفق الطبعة المطبوعة",
           "back-to-note": "العودة إلى موضع الحاشية {n}", "paperback": "غلاف ورقي", "note-continued": "(يتبع)",
           "note-pointer": "انظر الحاشية {n} في الصفحة التالية."},
}

NNBSP = "\u202f"      # narrow no-break space

# lang -> (open, close, inner open, inner close, space inside the marks). CLDR delimiters
# (common/main/<lang>.xml); French sets a narrow no-break space inside « ».
QUOTES: dict[str, tuple[str, str, str, str, str]] = {
    "en": ("“", "”", "‘", "’", ""),
    "de": ("„", "“", "‚", "‘", ""),
    "fr": ("«", "»", "“", "”", NNBSP),
    "es": ("«", "»", "“", "”", ""),
    "it": ("«", "»", "“", "”", ""),
    "pt": ("“", "”", "‘", "’", ""),
    "nl": ("“", "”", "‘", "’", ""),
    "ru": ("«", "»", "„", "“", ""),
    "pl": ("„", "”", "«", "»", ""),
    "sv": ("”", "”", "’", "’", ""),
    "el": ("«", "»", "“", "”", ""),
}


def _base(lang: str) -> str:
    return (lang or "en").split("-")[0].split("_")[0].lower()


def _row(lang: str) -> dict[str, str]:
    return LABELS.get(_base(lang), {})


def known(lang: str) -> bool:
    return bool(_row(lang))


def label(lang: str, key: str) -> str:
    return _row(lang).get(key) or LABELS["en"][key]


# Languages that write the word of a cross-reference with its capital in running text: English
# (house style: "see Section 2", as Quarto prints it) and German (a noun: "siehe Abschnitt 2").
# Every other language with a row lower-cases it where it does not open a sentence ("voir la
# section 2", "véase la figura 1", "vedi la sezione 2", "см. раздел 2"); a caption keeps it.
CAPITALISED_IN_TEXT = {"en", "de"}


def in_text(lang: str, words: str, opens_sentence: bool) -> str:
    """How a label (`words`: "Section 2") prints in running text at its place."""
    if opens_sentence or not known(lang) or _base(lang) in CAPITALISED_IN_TEXT:
        return words
    return words[:1].lower() + words[1:]


def join_names(names, lang: str = "en") -> str:
    """Names joined as the language joins them on a title page: "A, B and C", "A, B und C",
    "A et B"; Spanish writes "e" before a name that opens with the sound i ("Juan e Isabel"),
    Hebrew and Arabic join their "and" to the last name ("א וב")."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    last, word = names[-1], label(lang, "and")
    start = last[:3].lower()
    if word == "y" and (start[:1] in ("i", "í") or start[:2] in ("hi", "hí") and start[2:3] not in ("a", "e", "o")):
        word = "e"
    joiner = f" {word}" if _base(lang) in ("he", "ar") else f" {word} "
    return ", ".join(names[:-1]) + joiner + last


def labels(lang: str) -> dict[str, str]:
    """Every label in `lang` (English where its row has none), keys with `-` also under `_`
    so templates can write `labels.title_page`."""
    row = {**LABELS["en"], **_row(lang)}
    return {**row, **{k.replace("-", "_"): v for k, v in row.items()}}


def quotes(lang: str) -> tuple[str, str, str, str, str]:
    """The quotation marks of `lang` (English's for a language the table does not have)."""
    return QUOTES.get(_base(lang), QUOTES["en"])

"""The commonest words of a request written in Spanish, in the English that engine.instructions reads,
and whether leftover words are in a language the bot does not read.

The bot reads English and Chinese. A creator writing Spanish mostly asks for a count, a length, a
shape and captions ("córtalo en dos clips verticales de 15 segundos con subtítulos"); those words are
few and unambiguous, so they are read here word for word, and only in a text that reads as Spanish
(its small words or its letters), so an English request never changes. Anything else in another
language is left for the bot to say it could not read (not that a language model is missing).
"""
from __future__ import annotations

import re

# Small words of Spanish, French, German, Portuguese and Italian that English requests do not use.
_OTHER_SMALL_WORDS = frozenset("""
    de del el la los las en con sin por para que y al una unos unas mi mis es está esta este
    le les des du et avec pour dans une est der das und ein eine ist nicht
    em um uma da os não il di che gli
""".split())
_OTHER_LETTERS = re.compile(r"[¿¡ñáéíóúàèìòùâêîôûçäöüßãõ]")
# Small words of Spanish that English does not use and French does not share ("de la vidéo" is not Spanish).
_SPANISH_SMALL_WORDS = frozenset("el los las del con sin y por para una unos unas al lo".split())
# Words of a Spanish request that English does not have.
_SPANISH_ONLY = frozenset("""segundos minutos subtítulos subtitulos verticales horizontales cuadrado cuadrados cuadrada
    cuadradas cortos córtalo cortalo córtala vídeo vídeos hazme dame momentos mejores completo entero""".split())
_WORD = re.compile(r"[^\W\d_]+")

# Phrases first (longest first), then single words; "" drops a small word that carries nothing here.
_PHRASES = (
    ("sin subtítulos", "no captions"), ("sin subtitulos", "no captions"),
    ("con subtítulos", "with captions"), ("con subtitulos", "with captions"),
    ("mejores momentos", "best moments"), ("un minuto", "1 minute"), ("medio minuto", "30 seconds"),
)
_WORDS = {
    "un": "1", "uno": "1", "una": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6",
    "siete": "7", "ocho": "8", "nueve": "9", "diez": "10", "quince": "15", "veinte": "20", "treinta": "30",
    "cuarenta": "40", "cincuenta": "50", "sesenta": "60", "noventa": "90",
    "segundo": "second", "segundos": "seconds", "minuto": "minute", "minutos": "minutes",
    "vertical": "vertical", "verticales": "vertical", "horizontal": "horizontal", "horizontales": "horizontal",
    "cuadrado": "square", "cuadrados": "square", "cuadrada": "square", "cuadradas": "square",
    "subtítulos": "captions", "subtitulos": "captions",
    "vídeos": "videos", "vídeo": "video", "cortos": "shorts", "corto": "short",
    "córtalo": "cut", "cortalo": "cut", "córtala": "cut", "corta": "cut", "corte": "cut", "recorta": "cut",
    "haz": "make", "hazme": "make", "dame": "give", "crea": "create", "sobre": "about",
    "pon": "make", "ponlo": "make", "convierte": "convert", "conviértelo": "convert",
    "de": "of", "en": "into", "con": "with", "sin": "without", "y": "and",
    "el": "", "la": "", "los": "", "las": "", "del": "", "al": "", "lo": "", "por": "", "para": "", "que": "",
}
# A stretch named by both ends, and the whole video: "del 0:10 al 0:40", "de 1:00 a 1:30", "todo el vídeo".
_RANGE = re.compile(r"\bdel?\s+(?:minuto\s+)?(\d{1,2}:\d{2}(?::\d{2})?)\s+(?:al|a|hasta(?:\s+el)?)\s+(\d{1,2}:\d{2}(?::\d{2})?)")
_WHOLE = re.compile(r"\btodo\s+el\s+v[ií]deo\b|\bel\s+v[ií]deo\s+(?:completo|entero)\b")
_PHRASE = re.compile("|".join(re.escape(p) for p, _ in sorted(_PHRASES, key=lambda p: -len(p[0]))))
_SPANISH_WORD = re.compile(r"(?<![^\W\d_])(" + "|".join(sorted(map(re.escape, _WORDS), key=len, reverse=True))
                           + r")(?![^\W\d_])")


def reads_as_spanish(text: str) -> bool:
    words = set(_WORD.findall(text.lower()))
    return (len(words & _SPANISH_SMALL_WORDS) >= 2 or bool(words & _SPANISH_ONLY)
            or bool(re.search(r"[¿¡ñ]", text.lower())))


def in_english(text: str) -> str:
    """A Spanish request's common words in English ("dos clips verticales de 15 segundos" -> "2 clips
    vertical of 15 seconds"); any other text as it was."""
    if not reads_as_spanish(text):
        return text
    lowered = _WHOLE.sub("the whole video", _RANGE.sub(r"from \1 to \2", text.lower()))
    lowered = _PHRASE.sub(lambda m: dict(_PHRASES)[m.group(0)], lowered).replace("¿", " ").replace("¡", " ")
    return " ".join(_SPANISH_WORD.sub(lambda m: _WORDS[m.group(1)], lowered).split())


def other_language(text: str) -> bool:
    """Words in Latin letters that are not English: letters English does not use, or two of the small
    words of Spanish, French, German, Portuguese or Italian."""
    lowered = (text or "").lower()
    return (len(_OTHER_LETTERS.findall(lowered)) >= 2 or bool(re.search(r"[¿¡ñß]", lowered))   # not "café" alone
            or len(set(_WORD.findall(lowered)) & _OTHER_SMALL_WORDS) >= 2 or reads_as_spanish(lowered))

"""String normalisation for FHIR string search (FHIR R4 §3.1.1.5.12): matching ignores case and
accents, and full-width forms match their ASCII twins, so a search for "jose" finds "José" and
"ＡＢＣ" finds "abc"."""

from __future__ import annotations

import unicodedata

# Index keys are bounded so every database can index them; search values are cut the same way, so
# matching stays consistent (values longer than this compare on their first MAX_KEY characters).
MAX_KEY = 255


def normalize_text(value: str) -> str:
    """Fold compatibility forms (NFKC: full-width, ligatures), case (casefold), drop combining
    marks (accents), and collapse runs of whitespace."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", stripped).split())[:MAX_KEY]


def index_key(value: str) -> str:
    """An exact value bounded to the index key length."""
    return value[:MAX_KEY]

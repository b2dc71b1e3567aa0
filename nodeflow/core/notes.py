"""Notes about a loaded workflow (migrations, placeholders, the import report), as a person reads them.

A file with a million nodes of an unknown type would otherwise give a million note lines: notes
that differ only in node ids, names and numbers are summarised after the first few, with a count.
Every note is escaped for a terminal (`errors.shown`), since its words come from the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nodeflow.core.errors import shown

#: Notes of one kind printed in full before the rest are counted.
KEEP_PER_KIND = 3
#: The longest note printed, in characters.
NOTE_LENGTH = 500
_VARIABLE = re.compile(r"'[^']*'|\d+|node \S+?:")


def summarised(notes: Iterable[str], keep: int = KEEP_PER_KIND) -> list[str]:
    """The first `keep` notes of each kind, then one line per kind counting the others."""
    shown_notes: list[str] = []
    counts: dict[str, int] = {}
    for note in notes:
        kind = _VARIABLE.sub("#", note)
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] <= keep:
            shown_notes.append(shown(note, NOTE_LENGTH))
    for kind, count in counts.items():
        if count > keep:
            shown_notes.append(f"... and {count - keep:,} more notes like: {shown(kind, 120)}")
    return shown_notes

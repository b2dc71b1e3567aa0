"""Prompt weighting syntax, read the way ComfyUI reads it (imported workflows carry ComfyUI prompts).

The rule:
- `(text)` multiplies the weight of `text` by 1.1; nesting multiplies again: `((text))` is 1.21.
- `(text:1.3)` sets the weight of `text` to 1.3 (the number after the group's last colon; if that
  is not a number the colon is text and the group counts as a plain `(...)`). Groups inside it
  start from 1.3.
- `\\(` and `\\)` are literal parentheses; an unmatched `(` or `)` is literal text too.
- `[text]` has no special meaning (ComfyUI's rule; other tools down-weight it): the brackets are
  part of the prompt.
- `embedding:name` (a word) is a textual-inversion embedding from the model library.

No torch here: the parser is pure text, so it is cheap to test and to use for display.
"""

from __future__ import annotations

import re

#: A textual-inversion reference inside a prompt: ComfyUI's `embedding:name` word.
EMBEDDING = re.compile(r"embedding:([^\s,():]+)")

_OPEN, _CLOSE = "\x00\x01", "\x00\x02"  # placeholders for escaped parentheses while parsing


def _groups(text: str) -> list[str]:
    """Top-level pieces: plain runs and balanced `( ... )` groups (unbalanced ones stay text)."""
    pieces: list[str] = []
    current = ""
    depth = 0
    for char in text:
        if char == "(":
            if depth == 0 and current:
                pieces.append(current)
                current = ""
            current += char
            depth += 1
        elif char == ")" and depth > 0:
            current += char
            depth -= 1
            if depth == 0:
                pieces.append(current)
                current = ""
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def _weights(text: str, weight: float) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    for piece in _groups(text):
        if len(piece) >= 2 and piece[0] == "(" and piece[-1] == ")":
            inner = piece[1:-1]
            inner_weight = weight * 1.1
            colon = inner.rfind(":")
            if colon > 0:
                try:
                    inner_weight = float(inner[colon + 1:])
                    inner = inner[:colon]
                except ValueError:
                    pass
            out += _weights(inner, inner_weight)
        else:
            out.append((piece, weight))
    return out


def parse_weights(prompt: str) -> list[tuple[str, float]]:
    """The prompt as (text, weight) pieces in order, escapes turned into plain parentheses.

    >>> parse_weights("a (red:1.5) ball, ((sky)), \\\\(x\\\\)")
    [('a ', 1.0), ('red', 1.5), (' ball, ', 1.0), ('sky', 1.2100000000000002), (', (x)', 1.0)]
    """
    escaped = prompt.replace("\\(", _OPEN).replace("\\)", _CLOSE)
    pieces = []
    for text, weight in _weights(escaped, 1.0):
        text = text.replace(_OPEN, "(").replace(_CLOSE, ")")
        if pieces and pieces[-1][1] == weight:
            pieces[-1] = (pieces[-1][0] + text, weight)
        elif text:
            pieces.append((text, weight))
    return pieces


def plain_text(pieces: list[tuple[str, float]]) -> str:
    """The prompt without its weighting syntax."""
    return "".join(text for text, _ in pieces)


def is_weighted(pieces: list[tuple[str, float]]) -> bool:
    return any(weight != 1.0 for _, weight in pieces)


def embedding_names(prompt: str) -> list[str]:
    """The `embedding:name` references in a prompt, in order of first use."""
    names: list[str] = []
    for match in EMBEDDING.finditer(prompt):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names

"""Text from the web shown in a terminal as data, never obeyed as commands.

Anchors, URLs and domains come from pages anyone can write, and a server's
answer from anyone who runs one. A terminal obeys two kinds of text in them:
control characters (ESC starts sequences that retitle the window, clear the
screen or make a hidden hyperlink; C1 controls do the same on some
terminals; bidirectional overrides reorder what is shown) and, through Rich,
markup (`[link=...]`, `[/oops]`, which raises `MarkupError`). `printable`
shows each control character as an escape (`\\x1b`); `literal` and
`DataConsole` show a string as written, markup, emoji codes and all.
Files and pipes get the data as stored: only what reaches a terminal is
changed.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

BEYOND_C0 = (*range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
"""DEL, the C1 controls and the bidirectional marks and overrides: obeyed by terminals, left as they are by `json`."""

_ESCAPES = str.maketrans({
    **{code: f"\\x{code:02x}" for code in range(0x20)},
    **{0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"},
    **{code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in BEYOND_C0},
})  # fmt: skip
"""Every control character, each as the escape Python would write for it."""


def printable(text: str) -> str:
    """`text` with every character a terminal would obey rather than show written as an escape."""
    return text if text.isprintable() else text.translate(_ESCAPES)


def literal(text: str, **options: Any) -> Text:
    """`text` as a Rich `Text` that shows it as written: `printable`, never read as markup (options: `Text`'s)."""
    return Text(printable(text), **options)


class DataConsole(Console):
    """A console for crawled data: every string it renders (cells, titles, lines) is shown `literal`."""

    def render_str(self, text: str, **options: Any) -> Text:
        return literal(text, style=options.get("style", ""), justify=options.get("justify"),
                       overflow=options.get("overflow"))  # fmt: skip

"""Exceptions raised by invmgmt-marl. Both subclass ValueError so generic handlers still catch them."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file or scenario override is invalid. The message names the field and the value."""


class InvalidActionError(ValueError):
    """An action given to the environment is malformed (NaN, inf, wrong shape, unknown or missing agent)."""


#: the longest ``repr`` of a user value quoted in an error message (longer ones are cut in the middle)
QUOTE_LIMIT = 80


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to at most ``limit`` characters.

    Long values keep their start and end around ``...[N chars]...`` so a message that quotes a
    4-million-character input stays one readable line. Every message built from user input (scenario
    values, file names, CSV cells, CLI options) should quote through this.
    """
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__} object>"
    if len(text) <= limit:
        return text
    keep = max(limit - 20, 10)
    head, tail = keep - keep // 3, keep // 3
    return f"{text[:head]}...[{len(text) - head - tail} chars]...{text[-tail:]}"


class CheckpointError(ValueError):
    """A saved policy cannot be used here: it was trained on another network or spaces, or its file holds
    pickled objects that cannot be rebuilt safely. The message names the mismatch."""

"""How the command line reports a failure: one line on stderr and an exit code, never a traceback
(unless ``--debug``).

=====================================================  ====  ==========================================
exception                                              code  line
=====================================================  ====  ==========================================
bad input (ScenarioError, InvalidActionError,           2    ``error: <message>``
CheckpointError, DemandSetError, AblationError, other
ValueError)
a missing extra (ImportError)                           1    ``error: <message naming the extra>``
OSError (read-only folder, a file where a folder        1    ``error: <reason>: '<path>'``
belongs, disk full)
OracleError, RuntimeError and anything unexpected       1    ``error: <type>: <message> (rerun with
                                                             --debug for the traceback)``
KeyboardInterrupt                                       130  ``interrupted`` (+ ``; rerun the same
                                                             command to resume`` where resumable)
=====================================================  ====  ==========================================
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

__all__ = ["INTERRUPTED", "MESSAGE_LIMIT", "describe", "one_line", "print_error", "print_note"]

#: the exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)
INTERRUPTED = 130
#: the longest error line printed (longer messages are cut in the middle)
MESSAGE_LIMIT = 1000


def one_line(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """``message`` on one line (newlines and runs of spaces become one space), cut to ``limit`` chars."""
    text = " ".join(str(message).split())
    if len(text) > limit:
        keep = limit - 30
        text = f"{text[: keep - keep // 3]} ...[{len(text) - keep} chars]... {text[-(keep // 3) :]}"
    return text


def _os_message(err: OSError) -> str:
    reason = err.strerror or type(err).__name__
    names = [repr(str(f)) for f in (err.filename, err.filename2) if f is not None]
    return f"{reason}: {' -> '.join(names)}" if names else f"{reason}: {err}"


def describe(err: BaseException) -> tuple[str, int]:
    """The line to print for ``err`` (without the ``error:`` prefix) and the exit code."""
    from invmgmt_marl.oracle import OracleError

    if isinstance(err, OSError):
        return _os_message(err), 1
    if isinstance(err, ImportError):
        return str(err) or f"cannot import {err.name}", 1
    if isinstance(err, OracleError):
        return str(err), 1
    if isinstance(err, ValueError):  # ScenarioError, InvalidActionError, CheckpointError, DemandSetError, ...
        return str(err), 2
    return f"{type(err).__name__}: {err} (rerun with --debug for the traceback)", 1


def print_error(console: Console, message: str) -> None:
    """``error: message`` on one line; ``message`` is shown as is (no rich markup is interpreted)."""
    console.print(Text.assemble(("error: ", "bold red"), one_line(message)), soft_wrap=True, highlight=False)


def print_note(console: Console, message: str, label: str = "note") -> None:
    """``note: message`` (or another label) on one line, without markup interpretation."""
    console.print(Text.assemble((f"{label}: ", "yellow"), one_line(message)), soft_wrap=True, highlight=False)

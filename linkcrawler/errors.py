"""The one exception every entry point turns into a single clear line.

Components raise `UserError` for anything a user can fix (a bad argument, an
unreachable server, a malformed seed); the CLI prints its message and exits
non-zero, Scrapy runs log it and stop. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import importlib
import re
import tempfile
from pathlib import Path

_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]*)@", re.I)


class UserError(Exception):
    """A problem the user can fix; the message says what is wrong and what to do."""


def mask_uri(text: str) -> str:
    """Hide passwords in any URI inside `text` (`redis://u:secret@h` -> `redis://u:***@h`)."""
    return _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)


def check_writable_directory(directory: Path, setting: str, consequence: str) -> None:
    """Create `directory` if needed and write a file there, before the work that will need it starts.

    A directory found unwritable only when something must be kept there (an
    alert not delivered, a batch MongoDB refused) is found too late. The probe
    file has a unique name: workers sharing the directory check it at once.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".writable-"):
            pass
    except OSError as exc:
        raise UserError(
            f"{setting} {directory} is not a writable directory ({exc.strerror or exc}); {consequence}"
        ) from None


def require_extra(extra: str, *modules: str) -> None:
    """Stop in one line when a command's optional dependencies are missing, naming the extra that brings them.

    A worker's image carries only what a crawl runs (pyproject.toml's core dependencies); the profile job, the
    Site Explorer and the local harness each come with an extra, and a command of theirs run without it should
    say so rather than end in an ImportError's traceback.
    """
    missing = [name for name in modules if not _importable(name)]
    if missing:
        raise UserError(
            f"{', '.join(missing)} not installed: this needs linkcrawler's {extra!r} extra "
            f"(pip install 'linkcrawler[{extra}]')"
        )


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True

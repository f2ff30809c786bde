"""The errors leftovers raises at its edges, each with a message fit to show a user.

    LeftoversError            anything the command line reports as `leftovers: error: ...`, exit 2
    ├── SettingsError         a config file, environment variable or flag is invalid
    ├── CatalogError          the resource catalog file is invalid
    └── InputError            a file of records, or another input, cannot be used

Expected failures during a scan (throttling, a region that is down, access denied) are not
exceptions: they travel as data (`scan.StreamFailure`) and end up in the report's `errors`.
Messages may quote AWS or file text: `printable` makes any of it safe to show on a terminal.
"""

#: C0 and C1 control characters (escape sequences start with one), spelled out as `\x1b`.
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def printable(text: str) -> str:
    """`text` with its control characters spelled out: a terminal shows it and obeys none."""
    return text.translate(_CONTROLS)


class LeftoversError(Exception):
    """Base of the errors shown to a user as one line, with exit status 2."""


class SettingsError(LeftoversError):
    """A setting is invalid; the message names the key and the reason."""


class CatalogError(LeftoversError):
    """The resource catalog is invalid; the message names the entry and the reason."""


class InputError(LeftoversError):
    """An input (file of records, history, request) cannot be used; the message says why."""

"""The errors leftovers raises at its edges, each with a message fit to show a user.

    LeftoversError            anything the command line reports as `leftovers: error: ...`, exit 2
    ├── SettingsError         a config file, environment variable or flag is invalid
    ├── CatalogError          the resource catalog file is invalid
    ├── InputError            a file of records, or another input, cannot be used
    ├── StateError            (store.schema) the state file is not ours, damaged, or too new
    └── DiscoveryError        (runner) the accounts to scan cannot be listed (and what failed)

Inside a scan, two more never reach the user as exceptions:

    SourceError               (sources) one call failed: its kind (retry, restart, give up) and
                              category (throttled, access_denied, unavailable, timeout, other)
    RecordFileError           (records) one trail-log file cannot be read

And three never leave their module:

    BadParameter              (query) a query parameter is invalid: a 400 response naming it
    BadPage                   (ui.listpage) a page's own parameter (sort, page, per_page) is
                              invalid: a 400 page naming it
    _NotCompiled              (catalog.expressions) a JMESPath node left to jmespath itself

Expected failures during a scan (throttling, a region that is down, access denied) travel as data
(`pages.StreamFailure`, with the category of the error that ended the stream) and end up in the
report's `errors`. Every exception class of the scanner is in this tree (tests/test_errors.py
checks it); the emulator's are its own.
Messages may quote AWS or file text: `printable` makes any of it safe to show on a terminal.
"""

#: C0 and C1 control characters (escape sequences start with one), spelled out as `\x1b`.
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def one_line(error: BaseException) -> str:
    """An exception as `Type: its first line`, for a log field or a stored reason."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


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

"""The errors leftovers raises at its edges, each with a message fit to show a user.

    LeftoversError            anything the command line reports as `leftovers: error: ...`, exit 2
    ├── SettingsError         a config file, environment variable or flag is invalid
    ├── CatalogError          the resource catalog file is invalid
    ├── InputError            a file of records, or another input, cannot be used
    └── StateError            (store.schema) the state file is not ours, damaged, or too new

Inside a scan, two more never reach the user as exceptions:

    SourceError               (sources) one call failed: its kind (retry, restart, give up) and
                              category (throttled, access_denied, unavailable, timeout, other)
    RecordFileError           (records) one trail-log file cannot be read

And two never leave their module:

    BadParameter              (web) a query parameter is invalid: a 400 response naming it
    _NotCompiled              (catalog.expressions) a JMESPath node left to jmespath itself

Expected failures during a scan (throttling, a region that is down, access denied) travel as data
(`pages.StreamFailure`, with the category of the error that ended the stream) and end up in the
report's `errors`. Every exception class of the scanner is in this tree (tests/test_errors.py
checks it); the emulator's are its own.
"""


class LeftoversError(Exception):
    """Base of the errors shown to a user as one line, with exit status 2."""


class SettingsError(LeftoversError):
    """A setting is invalid; the message names the key and the reason."""


class CatalogError(LeftoversError):
    """The resource catalog is invalid; the message names the entry and the reason."""


class InputError(LeftoversError):
    """An input (file of records, history, request) cannot be used; the message says why."""

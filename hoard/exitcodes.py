"""Exit statuses of every `hoard` command (documented in --help and the README)."""

OK = 0
"""Everything worked."""
PARTIAL = 1
"""The run finished, but some pages, requests or items failed."""
USAGE = 2
"""Bad command line or configuration file."""
ADDRESS_UNUSABLE = USAGE
"""`hoard serve` cannot listen on --host/--port (the port is taken, or the address is not this
machine's): a usage error, fixed on the command line (another --port). Never 3: that is a
crawl's alarm."""
ALARM = 3
"""A data-quality alarm fired (e.g. a feed stopped yielding reviews: a layout change)."""
UNREACHABLE = 69
"""The site (or the mirror or replay standing in for it) could not be reached at all: no such
host, or connections refused (EX_UNAVAILABLE)."""
WRITE_FAILED = 74
"""The archive could not be written (disk full, locked past the busy timeout, I/O error): what
was not stored is named, and the next run fetches it again (EX_IOERR)."""
LOCKED = 75
"""Another run holds the archive (EX_TEMPFAIL: try again later)."""
INTERRUPTED_SIGINT = 130
INTERRUPTED_SIGTERM = 143

EPILOG = (
    "Exit status: 0 all good; 1 finished but some requests or items failed; 2 usage or config "
    "error; 3 data-quality alarm; 69 the site could not be reached; 74 the archive could not be "
    "written; 75 another run holds the archive; 130/143 interrupted."
)

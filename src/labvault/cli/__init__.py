"""The command line: parses arguments, calls one :mod:`labvault.api` function, renders the result."""

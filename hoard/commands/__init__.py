"""One module per `hoard` subcommand, each defining `command` (a click.Command)."""

"""The `hoard` command group. Each subcommand lives in hoard/commands/<name>.py as `command`.

Subcommands are found by module name (`replay_site.py` is `hoard replay-site`) and imported only
when used, so `hoard extract` does not pay for importing Scrapy or Datasette.
"""

from __future__ import annotations

import importlib
import keyword
import pkgutil
import sys

import click

import reviewhoard.hoard.commands
from reviewhoard.archive.errors import ArchiveUnreadable
from reviewhoard.hoard import __version__, exitcodes
from reviewhoard.hoard.errors import HoardError


def _command_name(module: str) -> str:
    """`replay_site` -> `replay-site`; a trailing `_` avoids a keyword: `import_` -> `import`."""
    return module.rstrip("_").replace("_", "-")


def _module_name(command: str) -> str:
    name = command.replace("-", "_")
    return name + "_" if keyword.iskeyword(name) else name


class LazyGroup(click.Group):
    """A group whose subcommands are the modules of hoard.commands, imported on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = [m.name for m in pkgutil.iter_modules(reviewhoard.hoard.commands.__path__)]
        return sorted(_command_name(n) for n in names if not n.startswith("_"))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from `hoard.commands.SUMMARIES`: `hoard --help` imports no command."""
        rows = [
            (name, reviewhoard.hoard.commands.SUMMARIES.get(name, ""))
            for name in self.list_commands(ctx)
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.list_commands(ctx):
            return None
        module = importlib.import_module(f"reviewhoard.hoard.commands.{_module_name(cmd_name)}")
        command: click.Command = module.command
        return command


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=exitcodes.EPILOG,
)
@click.version_option(__version__, "-V", "--version", prog_name="hoard")
def cli() -> None:
    """Scrape and archive community reviews into one SQLite file.

    \b
    Start here:
      hoard extract PAGE --url URL     saved page -> review JSON lines (no network)
      hoard crawl SITE --help          the feeds a site offers; then crawl them
      hoard serve                      browse and query the archive in Datasette

    Run `hoard COMMAND --help` for each command's options and examples.
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the group; a HoardError becomes one line on stderr and its exit status.

    A command returns its exit status (int) or None for success.
    """
    try:
        # Commands return their exit status (an int) or None for 0.
        status = cli.main(args=argv, prog_name="hoard", standalone_mode=False)
    except HoardError as exc:
        click.echo(f"hoard: {exc}", err=True)
        sys.exit(exc.exit_code)
    except ArchiveUnreadable as exc:
        click.echo(f"hoard: {exc}", err=True)
        sys.exit(exitcodes.USAGE)
    except click.exceptions.Abort:
        click.echo("hoard: interrupted", err=True)
        sys.exit(exitcodes.INTERRUPTED_SIGINT)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exitcodes.USAGE if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(status if isinstance(status, int) else exitcodes.OK)


if __name__ == "__main__":
    main()

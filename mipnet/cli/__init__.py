"""The ``mipnet`` command line (click). Every command shares one error policy:

exit 0 on success; exit 2 with one readable line on stderr (no traceback) for usage and input
errors; output files are written atomically, so a failure never leaves a half-written file.
Verification commands add exit 1 (some property violated) and 3 (some verdict unknown).
"""

from __future__ import annotations

import sys

import click

from ..errors import MipnetError
from .common import EXIT_INPUT_ERROR
from .models import convert, info, predict

#: modules whose ``COMMANDS`` list of click commands is added to the group
#: and whose ``SUBCOMMANDS`` dict {group name: [commands]} extends the groups (verify, explain)
SUBCOMMAND_MODULES: list[str] = ["datasets", "explain", "train", "verify", "monotonic", "audit", "resilience"]


class _Group(click.Group):
    def invoke(self, ctx: click.Context):  # noqa: D102 - error policy for every subcommand
        try:
            return super().invoke(ctx)
        except MipnetError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_INPUT_ERROR)
        except (OSError, ValueError) as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_INPUT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mipnet")
def cli() -> None:
    """Train small neural networks as MILPs and prove things about them."""


cli.add_command(info)
cli.add_command(predict)
cli.add_command(convert)


def _register() -> None:
    import importlib

    for name in SUBCOMMAND_MODULES:
        mod = importlib.import_module(f"{__name__}.{name}")
        for cmd in getattr(mod, "COMMANDS", []):
            cli.add_command(cmd)
    for name in SUBCOMMAND_MODULES:
        mod = importlib.import_module(f"{__name__}.{name}")
        for group, cmds in getattr(mod, "SUBCOMMANDS", {}).items():
            for cmd in cmds:
                cli.commands[group].add_command(cmd)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``mipnet`` script."""
    try:
        cli.main(args=argv, prog_name="mipnet", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        click.echo("interrupted", err=True)
        sys.exit(130)

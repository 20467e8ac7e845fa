"""The ``mipnet`` command line (click). Every command shares one error policy:

exit 0 on success; exit 2 with one readable line on stderr (no traceback) for usage and input
errors, found before any work; output files are written atomically, so a failure never leaves a
half-written file. Verification commands add exit 1 (some property violated) and 3 (some verdict
unknown). Ctrl-C stops any command at the next safe point (solvers are asked to stop), prints
"interrupted" and exits 130 (:mod:`mipnet.interrupt`); a closed output pipe (``| head``) ends the
command quietly with exit 141.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import cast

import click

from .. import interrupt
from ..errors import LimitError, MipnetError
from .common import EXIT_INPUT_ERROR, EXIT_UNKNOWN
from .models import convert, info, predict

#: modules whose ``COMMANDS`` list of click commands is added to the group
#: and whose ``SUBCOMMANDS`` dict {group name: [commands]} extends the groups (verify, explain)
SUBCOMMAND_MODULES: list[str] = [
    "datasets",
    "explain",
    "train",
    "demo",
    "verify",
    "monotonic",
    "audit",
    "resilience",
    "vnncomp",
]


#: exit status when stdout is a pipe closed early (128 + SIGPIPE, as a shell reports `yes | head`)
EXIT_BROKEN_PIPE = 141


def _one_line(exc: BaseException | str) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text


def _silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so that the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. under CliRunner)
        pass


def _usage_error(ctx: click.Context, exc: click.ClickException) -> None:
    """One line for a click usage error (click prints usage, a hint and the error on three)."""
    sub = getattr(exc, "ctx", None)
    path = sub.command_path if sub is not None else ctx.command_path
    click.echo(f"error: {_one_line(exc.format_message()).rstrip('.')} (see '{path} -h')", err=True)
    ctx.exit(exc.exit_code)


class _Group(click.Group):
    def make_context(self, info_name, args, parent=None, **extra):  # noqa: D102 - the root's own options
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.ClickException as exc:
            if parent is not None:
                raise
            click.echo(f"error: {_one_line(exc.format_message()).rstrip('.')} (see '{info_name} -h')", err=True)
            raise click.exceptions.Exit(exc.exit_code) from None

    def invoke(self, ctx: click.Context):  # noqa: D102 - error policy for every subcommand
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # Ctrl-C (mipnet.interrupt.Interrupted): stopped at a safe point
            interrupt.announce(lambda line: click.echo(line, err=True))
            ctx.exit(interrupt.EXIT_INTERRUPTED)
        except BrokenPipeError:
            _silence_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except click.exceptions.NoArgsIsHelpError:
            raise  # the help text, as click prints it
        except click.ClickException as exc:  # bad options and arguments: one line, exit 2 (click's code)
            _usage_error(ctx, exc)
        except LimitError as exc:  # a limit ended the work before a required result: unknown, not bad input
            click.echo(f"error: {_one_line(exc)}", err=True)
            ctx.exit(EXIT_UNKNOWN)
        except MipnetError as exc:
            click.echo(f"error: {_one_line(exc)}", err=True)
            ctx.exit(EXIT_INPUT_ERROR)
        except (OSError, ValueError) as exc:
            click.echo(f"error: {_one_line(exc)}", err=True)
            ctx.exit(EXIT_INPUT_ERROR)
        except RuntimeError as exc:  # Ctrl-C inside a class definition of a module being imported arrives wrapped
            if not _from_interrupt(exc):  # ("Error calling __set_name__ ..."): still an interrupt
                raise
            interrupt.announce(lambda line: click.echo(line, err=True))
            ctx.exit(interrupt.EXIT_INTERRUPTED)


def _from_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by Ctrl-C (a KeyboardInterrupt in its chain)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


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
                cast(click.Group, cli.commands[group]).add_command(cmd)  # SUBCOMMANDS name groups


_register()


def _guard_outputs(cmd: click.Command) -> None:
    """Every command checks, once its options are parsed, that no file it writes is one it reads
    (:func:`~mipnet.cli.options.refuse_overwrite`); groups pass it on to their subcommands."""
    from .options import refuse_overwrite

    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            _guard_outputs(sub)
        return
    parse = cmd.parse_args

    def parse_args(ctx: click.Context, args: list[str]) -> list[str]:
        rest = parse(ctx, args)
        refuse_overwrite(ctx)
        return rest

    cmd.parse_args = parse_args  # type: ignore[method-assign]


for _cmd in cli.commands.values():
    _guard_outputs(_cmd)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``mipnet`` script."""
    interrupt.install()  # Ctrl-C: a flag the solvers poll, Interrupted at the next safe point
    try:
        cli.main(args=argv, prog_name="mipnet", standalone_mode=True)
    except SystemExit as exc:
        if exc.code == interrupt.EXIT_INTERRUPTED and interrupt.requested():
            interrupt.exit_now(interrupt.EXIT_INTERRUPTED)  # no slow interpreter teardown after Ctrl-C
        # the command is done and its verdict printed: a Ctrl-C during the interpreter's teardown (0.5-1.7 s) killed
        # the process by the signal (returncode -2), losing the verdict's exit code; ignored from here (an ignored
        # signal stays ignored through the teardown, a handler is reset to the default there)
        if argv is None and threading.current_thread() is threading.main_thread():  # the script, not a host's call
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise
    except KeyboardInterrupt:  # outside a command (argument parsing)
        interrupt.announce(lambda line: click.echo(line, err=True))
        interrupt.exit_now(interrupt.EXIT_INTERRUPTED)
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(EXIT_BROKEN_PIPE)
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # the last output sat in the buffer when the reader went away
            _silence_stdout()
            sys.exit(EXIT_BROKEN_PIPE)
        except (OSError, ValueError):
            pass

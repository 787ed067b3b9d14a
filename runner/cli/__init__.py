"""The `taskform` command. The one place that maps errors to messages and exit codes."""

from __future__ import annotations

import importlib
import os
import sys

import click

from runner import __version__
from runner.cli.common import App


class UserError(click.ClickException):
    """A TaskformError on its way out: `Error: <message>` on stderr and its exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        _set_exit_code(self, exit_code)


def _set_exit_code(exc: click.ClickException, code: int) -> None:
    """Click reads `exit_code` from the instance; click 8.5 declares it a class variable, so
    typed code may not assign it: the instance's own attribute is set directly."""
    exc.__dict__["exit_code"] = code


# one command per line, in the workflow order `--help` lists them: each part of taskform adds
# its own line. A command's module is imported only when that command runs (or help lists
# them all), so `taskform plan` does not pay for `import`, `report` or `watch`.
COMMANDS: dict[str, str] = {
    "validate": "runner.cli.validate:validate",
    "plan": "runner.cli.plan:plan",
    "show": "runner.cli.show:show",
    "apply": "runner.cli.apply:apply",
    "destroy": "runner.cli.destroy:destroy",
    "graph": "runner.cli.graph:graph",
    "state": "runner.cli.state:state",
    "report": "runner.cli.report:report",
    "tasks": "runner.cli.tasks:tasks",
    "deployments": "runner.cli.deployments:deployments",
    "scenarios": "runner.cli.scenarios:scenarios",
    "watch": "runner.cli.watch:watch",
    "gc": "runner.cli.gc:gc",
    "force-unlock": "runner.cli.unlock:force_unlock",
    "import": "runner.cli.imports:import_",
    "schema": "runner.cli.schema:schema",
}


class Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, _, name = where.partition(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> object:
        from runner.errors import TaskformError

        try:
            return super().invoke(ctx)
        except TaskformError as exc:
            raise UserError(str(exc), exc.exit_code) from None
        except click.UsageError as exc:
            _set_exit_code(exc, 1)  # exit 2 means "changes" to -detailed-exitcode
            raise


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"],
                                          "max_content_width": 100})
@click.option("-C", "--chdir", "workspace", default=".", metavar="DIR",
              help="Run in the workspace DIR (default: the current directory).")
@click.option("--no-color", is_flag=True, help="Plain output (also: NO_COLOR, or no terminal).")
@click.version_option(__version__, "--version", prog_name="taskform")
@click.pass_context
def cli(ctx: click.Context, workspace: str, no_color: bool) -> None:
    """taskform turns versioned YAML specs into running assessment-task infrastructure.

    \b
    Typical use:
      taskform validate         check the specs
      taskform plan             show what would change, and why
      taskform apply            make it so
      taskform destroy          remove everything taskform made here
    """
    ctx.obj = App(workspace_dir=workspace, no_color=no_color)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command, turn every error into a message and an exit code."""
    import gc

    from runner.errors import TaskformError

    # A command is short-lived and builds large acyclic structures (thousands of resources and
    # records): the cycle collector only rescans them (a fifth of a no-op plan's time at 5000
    # steps); refcounting frees everything. `taskform watch` turns it back on: it lives long.
    # Restored on the way out, for callers that run main() in their own process.
    collecting = gc.isenabled()
    gc.disable()
    try:
        code = cli.main(args=argv, prog_name="taskform", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = 1
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code if isinstance(exc, UserError) else 1
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except TaskformError as exc:  # raised outside a command (while parsing options)
        click.echo(f"Error: {exc}", err=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        code = 130
    except Exception as exc:  # a bug: say so briefly, show the traceback only on request
        if os.environ.get("TASKFORM_DEBUG"):
            import traceback  # only for a bug, on request

            traceback.print_exc()
        click.echo(f"Error: internal error: {type(exc).__name__}: {exc} "
                   "(set TASKFORM_DEBUG=1 for the traceback)", err=True)
        code = 1
    finally:
        if collecting:
            gc.enable()
    if argv is None:  # the process's own command (`taskform`, `python -m runner`): it ends here
        # Python's exit runs one last full cycle collection over every object still alive, a
        # pass over the 5,000 resources, records and changes a plan made (~30 ms of a no-op
        # plan at N = 5,000) that frees nothing refcounting would not. Frozen objects are left
        # out of it; everything is still released, every atexit handler still runs.
        gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)

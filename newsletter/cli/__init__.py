"""The `newsletter` command: one thin adapter per command over a stage or a pipeline join.

`main` builds the root group; each command's module (one per command group) is imported only
when it runs (`lazy`); `state` gives commands their runtime with the schema checked; `output`
holds the only consoles. Errors from the tree in newsletter/errors.py become one line.
"""

from newsletter.cli.main import COMMANDS, DIGEST_COMMANDS, app, main

__all__ = ["COMMANDS", "DIGEST_COMMANDS", "app", "main"]

"""One module per `iris` command, each defining ``command``; the module's name is the command's.

A command talks to a running instance through `iris.cli.api.Api`, prints through
`iris.cli.output` (a table, or JSON with ``--json``), and fails by raising
`iris.cli.exit_codes.CliError` with the exit status that says why.
"""

"""The commands of ``mediation``, one module per group; :mod:`mediation.cli` wires them
into the root app. Shared helpers are in :mod:`mediation.commands._common`."""

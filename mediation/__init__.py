"""mediation: a multi-channel dispute-mediation workflow engine (人民调解 · 三调联动).

The package keeps its import light: the CLI imports the heavy parts (ORM, engine,
document rendering) only in the commands that need them.
"""

__version__ = "0.1.0"

"""Command-line helpers the services' `louzu <service> …` verbs share."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

# A verb table: verb -> (command name, help text, fields); a field is (name, kind). Kinds: "pos" a
# positional argument, "flag" a switch, "int" an integer option, "people" a repeated --person (at
# least one), anything else a text option. Options are spelled with dashes (`--household-id`).
VerbTable = Mapping[str, tuple[str, str, Sequence[tuple[str, str]]]]


def add_command_verbs(verbs, table: VerbTable, handler: Callable[..., Any]) -> None:
    """One sub-command per verb of `table`, each taking COMPOUND and --tenant before its fields."""
    for verb, (_, help_text, fields) in table.items():
        p = verbs.add_parser(verb, help=help_text)
        p.add_argument("compound")
        p.add_argument("--tenant")
        for name, kind in fields:
            flag = "--" + name.replace("_", "-")
            if kind == "pos":
                p.add_argument(name)
            elif kind == "flag":
                p.add_argument(flag, dest=name, action="store_true")
            elif kind == "people":
                p.add_argument("--person", dest=name, action="append", required=True)
            else:
                p.add_argument(flag, dest=name, type=int if kind == "int" else str)
        p.set_defaults(fn=handler)

"""Command-line helpers the services' `louzu <service> …` verbs share: the verb tables, the one way a
verb sends a command and prints what came back, and where a verb's document goes (`-o`)."""
from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
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


def print_problem(problem: Mapping[str, Any]) -> None:
    """A refusal as a cadre reads it on standard error: Chinese, English, and the field at fault."""
    field = f"\n(field: {problem['field']})" if problem.get("field") else ""
    print(f"{problem['message_zh']}\n{problem['message_en']}{field}", file=sys.stderr)


def print_reply(reply: Mapping[str, Any], ok_text: str | None = None) -> int:
    """A command's reply: accepted → its JSON (or `ok_text`, "(unchanged)" when nothing was appended) on
    standard output and 0; refused → the problem on standard error and 1."""
    if not reply.get("ok"):
        print_problem(reply["error"])
        return 1
    if ok_text is None:
        print(json.dumps(reply, ensure_ascii=False))
    else:
        print(ok_text if reply.get("event_ids") and not reply.get("duplicate") else ok_text + " (unchanged)")
    return 0


async def send_command(settings, service: str, tenant: str, name: str, body: Mapping[str, Any], *,
                       ok_text: str | None = None) -> int:
    """Sends one command to `service` for `tenant` over NATS (a fresh `command_id` unless the body has
    one) and prints the reply as `print_reply` does; a service that is not running, or a body refused
    before it is sent, is a message on standard error and 1."""
    import nats
    from shared.commanding import CommandClient, ServiceUnavailable
    from shared.infra.system import urls
    nats_url, _ = urls(settings)
    nc = await nats.connect(nats_url)
    try:
        reply = await CommandClient(nc, tenant, service).send(name, {"command_id": uuid.uuid4().hex, **body})
    except ServiceUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        await nc.close()
    return print_reply(reply, ok_text)


# `-o` as the ecosystem has it (curl, pandoc, psql): a file, or standard output when it is left out (or
# is "-"). A binary format (PDF, XLSX) is not written to a terminal: the verb asks for -o instead.
STDOUT = "-"
EXIT_USAGE = 2


class NeedsOutputFile(Exception):
    """A binary document was about to be written to a terminal."""

    def __init__(self, fmt: str, example: str) -> None:
        super().__init__(f"{fmt} to a terminal")
        self.message_zh = (f"{fmt.upper()} 是二进制文件，不能显示在终端上：请用 -o 指定输出文件，如 -o {example}"
                           f"（或重定向：> {example}）")
        self.message_en = (f"a {fmt.upper()} is binary and standard output is a terminal: name the output file "
                           f"with -o, e.g. -o {example} (or redirect: > {example})")


def to_stdout(output: str | None, fmt: str, *, binary: bool, example: str) -> bool:
    """Whether a verb's document goes to standard output rather than to the file `output`; raises
    NeedsOutputFile for a binary one that would land on a terminal (`-o -` insists)."""
    if output not in (None, STDOUT):
        return False
    if binary and output is None and sys.stdout.isatty():
        raise NeedsOutputFile(fmt, example)
    return True


def refuse_terminal(exc: NeedsOutputFile) -> int:
    print(f"{exc.message_zh}\n{exc.message_en}", file=sys.stderr)
    return EXIT_USAGE


def write_document(data: bytes, output: str | None, summary: str) -> None:
    """The document to its file (and `<file>: <summary>` on standard output) or to standard output (and
    the summary on standard error, so that a pipe carries the document alone)."""
    if output in (None, STDOUT):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        print(summary, file=sys.stderr)
    else:
        Path(output).write_bytes(data)
        print(f"{output}: {summary}")

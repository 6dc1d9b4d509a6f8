"""``aichat logs``: the logged conversations, a search through them, or one of them whole."""

from __future__ import annotations

import argparse
import json
import sqlite3
import time

from .. import errors
from . import _logs
from ._commands import SUMMARIES
from ._common import (
    EXIT_OK,
    EXIT_USAGE,
    OutputClosedError,
    one_line,
    report_error,
    report_output_closed,
    shown_path,
    write_out,
)

__all__ = ["NAME", "SUMMARY", "configure", "run"]

NAME = "logs"
SUMMARY = SUMMARIES[NAME]
EXAMPLES = """examples:
  aichat logs                  the latest conversations
  aichat logs -q docker        exchanges that mention docker
  aichat logs show 3f9c2a      one conversation whole (an id or its start)
  aichat -c 'and in Rust?'     go on with the latest conversation
  aichat logs path             where the log is"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "List the logged conversations (the latest last), search the exchanges, or show one "
        "conversation. Every 'aichat PROMPT' and chat turn is logged unless --no-log is given "
        "or the config says log = false."
    )
    parser.epilog = f"{EXAMPLES}\n\n{parser.epilog or ''}".rstrip()
    parser.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=("list", "show", "path"),
        help="list (default), show ID, or path",
    )
    parser.add_argument("id", nargs="?", help="the conversation to show (its id or its start)")
    parser.add_argument("-q", "--query", help="only exchanges whose text holds QUERY")
    parser.add_argument(
        "-n", "--count", type=int, default=20, help="how many to list (default: 20)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def run(args: argparse.Namespace) -> int:
    if args.action == "path":
        return _write(str(_logs.log_path()))
    if args.count < 1:
        report_error("--count must be 1 or more.")
        return EXIT_USAGE
    try:
        if args.action == "show" or args.id:
            if not args.id:
                report_error("say which conversation: aichat logs show ID (aichat logs lists them)")
                return EXIT_USAGE
            return _show(args)
        if args.query:
            return _search(args)
        return _list(args)
    except errors.InvalidRequestError as error:
        report_error(error)
        return EXIT_USAGE
    except sqlite3.Error as error:
        report_error(f"the log {shown_path(_logs.log_path())} cannot be read ({error}).")
        return 1


def _write(text: str, *, is_json: bool = False) -> int:
    try:
        write_out(text, is_json=is_json)
    except OutputClosedError as error:
        return report_output_closed(error)
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    found = _logs.conversations(args.count)
    if args.json:
        return _write(json.dumps([c.as_json() for c in found], ensure_ascii=False), is_json=True)
    if not found:
        return _write("no conversations logged yet")
    lines = [
        f"{c.id}  {_when(c.last)}  {c.exchanges:>3} turn{'s' if c.exchanges != 1 else ' '}  "
        f"{one_line(c.title)}"
        for c in found
    ]
    return _write("\n".join(lines))


def _search(args: argparse.Namespace) -> int:
    found = _logs.search(args.query, args.count)
    if args.json:
        return _write(json.dumps([e.as_json() for e in found], ensure_ascii=False), is_json=True)
    if not found:
        return _write(f"nothing logged mentions {args.query!r}")
    lines = [
        f"{e.conversation_id}  {_when(e.at)}  {one_line(e.prompt)[:60]}  ->  "
        f"{one_line(e.answer)[:60]}"
        for e in found
    ]
    return _write("\n".join(lines))


def _show(args: argparse.Namespace) -> int:
    cid = _logs.find_conversation(args.id)
    exchanges = _logs.exchanges(cid)
    if args.json:
        body = {"id": cid, "exchanges": [e.as_json() for e in exchanges]}
        return _write(json.dumps(body, ensure_ascii=False), is_json=True)
    parts = [f"conversation {cid}"]
    for exchange in exchanges:
        head = f"--- {_when(exchange.at)}, {exchange.model}"
        if exchange.system:
            head += f", system: {one_line(exchange.system)}"
        parts += [head, f"you> {exchange.prompt}", exchange.answer]
    return _write("\n\n".join(parts))

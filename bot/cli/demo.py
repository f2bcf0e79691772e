"""`firebell demo`: a scripted incident against a local Slack stand-in; no Slack account needed."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="play a scripted incident against a local Slack stand-in; no Slack needed")
    demo.set_defaults(run=run)


def run(_args: argparse.Namespace) -> int:
    from bot.demo import run_demo  # the demo brings the Slack stand-in, which only it needs

    return run_demo()

"""What a declare costs `firebell serve`, in instructions: a figure that noisy neighbours do not move.

    python bench/declare_instructions.py [--declares 80] [--postgres URL | --postgres ""]

On a shared machine the CPU time of the same code was seen to vary 2x within the hour, so declares per second
cannot tell a 5% change from the noise. This runs `firebell serve` under valgrind's callgrind (user-space
instructions, counted, not timed) twice against the Slack stand-in: once with no declare, once with N declares one
after the other (each waited for: its reply and its pinned card), and prints the difference per declare. The kernel's
share (socket calls) is not counted, and one declare at a time does not group outbox claims the way ten at once do.
Compare two trees by running each tree's own copy of this script. About 2-4 minutes per database.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from notice_lateness import scratch_database  # noqa: E402
from run import CONFIG, Served, command  # noqa: E402
from standin_process import StandIn  # noqa: E402

SERVE = ["-m", "bot", "serve", "--host", "127.0.0.1", "--port", "PORT"]


def instructions(database_url: str, declares: int, tmp: Path) -> int:
    """Instructions `firebell serve` ran, from its start to its stop, around ``declares`` declares."""
    out = tmp / f"callgrind-{declares}.out"
    wrapper = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no"]
    with StandIn() as slack:
        served = Served(SERVE, slack, database_url, tmp / f"serve-{declares}", CONFIG, wrapper=wrapper,
                        start_timeout=600)
        before = slack.pinned()
        for i in range(declares):
            reply_to = slack.new_response_url()
            command(served.url, f"declare sev4 counted {i}", slack.team_id, response_url=reply_to)
            if not any("is declared" in p.get("text", "") for p in slack.replies(reply_to, wait=300)):
                raise RuntimeError(f"declare {i} got no reply")
        deadline = time.monotonic() + 600
        while slack.pinned() - before < declares:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{slack.pinned() - before} of {declares} cards pinned")
            time.sleep(0.2)
        served.process.terminate()
        served.process.wait(timeout=600)  # callgrind writes its counts as the process ends
    for line in out.read_text(errors="replace").splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--declares", type=int, default=80)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test", help='"" to skip')
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed")
    kinds = ["sqlite", "postgresql"] if args.postgres else ["sqlite"]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for kind in kinds:
            counted = []
            for declares in (0, args.declares):  # each run from a fresh database: both start with its migrations
                with scratch_database(args.postgres if kind == "postgresql" else None) as pg:
                    counted.append(instructions(pg or f"sqlite:///{tmp}/{kind}-{declares}.db", declares, tmp))
            idle, busy = counted
            print(f"{kind:10} {(busy - idle) / args.declares / 1e6:6.1f} M instructions per declare "
                  f"({args.declares} declares, one at a time; start and stop alone {idle / 1e6:,.0f} M)", flush=True)

if __name__ == "__main__":
    main()

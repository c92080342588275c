"""``python -m scanpay.terminal [--dir DIR] [--port 8700]``: the agent alone.

The same service as ``scanpay terminal serve``, started without loading the rest
of the command line (a quicker start on a POS box, e.g. under systemd).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scanpay.terminal.errors import TerminalError
from scanpay.terminal.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scanpay.terminal")
    parser.add_argument("--dir", type=Path, default=None, help="data directory")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    try:
        serve(args.dir, port=args.port, bind=args.bind, log_level=args.log_level)
    except TerminalError as exc:
        print(f"error: {exc.message('en')} ({exc.code})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

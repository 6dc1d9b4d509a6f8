"""``python -m aichat_provider.testing``: run a stand-in until interrupted, to try things."""

from __future__ import annotations

import argparse
import contextlib
import errno
import signal
import threading

from ._standin import StandInService


def main(argv: list[str] | None = None) -> int:

    parser = argparse.ArgumentParser(
        prog="python -m aichat_provider.testing",
        description="Serve a local stand-in for the chat-gpt.org API until interrupted.",
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="the port on 127.0.0.1 (default: 8765; 0: any)"
    )
    parser.add_argument("--tls", action="store_true", help="HTTPS with a throw-away CA")
    args = parser.parse_args(argv)
    service = StandInService(tls=args.tls)
    service.port = args.port
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        service.start()
    except OSError as exc:
        why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
        parser.exit(
            1,
            f"{parser.prog}: error: port {args.port} on 127.0.0.1 {why}; pick another with "
            "--port (0 takes any free one).\n",
        )
    except RuntimeError as exc:  # --tls without trustme
        parser.exit(1, f"{parser.prog}: error: {exc}\n")
    with service:
        print(f"stand-in for chat-gpt.org at {service.base_url}", flush=True)
        if service.ca_path:
            print(f"CA bundle: {service.ca_path}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    return 0


raise SystemExit(main())

"""python -m benchmarks.awsproxy --moto-port P --port Q [--no-latency] [--throttle-rate R] [--scale S]"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from benchmarks.awsproxy.proxy import AwsProxy, ProxyConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.awsproxy",
        description="An HTTP proxy in front of a moto server that answers with real AWS latency, "
        "IAM propagation, Lambda/DynamoDB readiness and rate limits. Stats: GET /_proxy/stats; "
        "reset: POST /_proxy/reset.",
    )
    parser.add_argument("--moto-port", type=int, help="port of a running moto server (default: start one)")
    parser.add_argument("--moto-host", default="127.0.0.1")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    parser.add_argument("--no-latency", action="store_true", help="answer without per-call latency")
    parser.add_argument("--no-waits", action="store_true", help="no IAM propagation or readiness windows")
    parser.add_argument("--no-limits", action="store_true", help="no rate limits")
    parser.add_argument(
        "--throttle-rate",
        type=float,
        default=0.0,
        help="answer this fraction of calls with a throttling error",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every latency and wait by this")
    parser.add_argument("--seed", type=int, default=1, help="seed of the jitter / throttle RNG")
    parser.add_argument("--moto-log", type=Path, help="file for the moto server's output")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be > 0")
    if not 0 <= args.throttle_rate < 1:
        parser.error("--throttle-rate must be in [0, 1)")

    config = ProxyConfig(
        latency=not args.no_latency,
        waits=not args.no_waits,
        limits=not args.no_limits,
        throttle_rate=args.throttle_rate,
        scale=args.scale,
        seed=args.seed,
    )
    moto = f"http://{args.moto_host}:{args.moto_port}" if args.moto_port else None
    proxy = AwsProxy(
        moto_endpoint=moto, host=args.host, port=args.port, config=config, moto_log=args.moto_log
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    proxy.start()
    print(f"awsproxy listening on {proxy.endpoint} -> moto {proxy.moto_endpoint}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

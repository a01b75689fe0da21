"""`python -m linkcrawler.local.synthweb serve|truth`: serve a synthetic web, or print its ground truth.

serve: binds every site's loopback address on one port, prints the port and
the host map (one JSON object with --json, for programs such as `WebServer`)
and serves until Ctrl-C, SIGTERM or --seconds.

truth: prints JSON lines, one record each: the ground-truth links (default),
the fetchable pages, the broken links, or the changes from version 1 to 2.
URLs carry --port, so give the port the web is served on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from linkcrawler.local.synthweb.generate import generate_web
from linkcrawler.local.synthweb.httpd import CONTROL_HOST, CONTROL_PREFIX, serve
from linkcrawler.local.synthweb.model import Web
from linkcrawler.local.synthweb.truth import broken_links, fetchable_pages, ground_truth, link_changes


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        return _truth(args)
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (OSError, ValueError) as exc:
        print(f"synthweb: error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m linkcrawler.local.synthweb", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve the web on loopback")
    truth_cmd = commands.add_parser("truth", help="print ground truth as JSON lines")
    for command in (serve_cmd, truth_cmd):
        command.add_argument("--seed", type=int, default=1)
        command.add_argument("--sites", type=int, default=30)
        command.add_argument("--pages", type=int, default=20, help="regular pages per site")
        command.add_argument("--version", type=int, default=1, choices=(1, 2))
        command.add_argument("--uneven", action="store_true", help="sites of unequal size (generate.UNEVEN_SIZES)")
        command.add_argument("--planted", action="store_true", help="add link-risk patterns (risks.plant_risks)")
    serve_cmd.add_argument("--port", type=int, default=0, help="0 (default): any port free on every address")
    serve_cmd.add_argument("--delay", type=float, default=0.0, help="seconds before each response (latency)")
    serve_cmd.add_argument("--seconds", type=float, default=None, help="stop after this long")
    serve_cmd.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    serve_cmd.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    truth_cmd.add_argument("--port", type=int, default=8080, help="the port the web is served on")
    truth_cmd.add_argument("--what", default="links", choices=("links", "pages", "broken", "changes"))
    return parser


def _serve(args: argparse.Namespace) -> int:
    def ready(web: Web) -> None:
        control = f"http://{CONTROL_HOST}:{web.port}{CONTROL_PREFIX}stats"
        if args.json:
            info = {"port": web.port, "version": web.version, "control": control}
            print(json.dumps({**info, "hosts": web.hosts, "seeds": web.seeds}), flush=True)
            return
        print(f"synthweb: seed {web.seed}, version {web.version}: {len(web.sites)} sites, "
              f"{len(web.pages)} URLs on port {web.port}")  # fmt: skip
        print(f"control: {control}")
        for site in web.sites:
            print(f"{site.ip:<16} {site.host}")
        print("serving until Ctrl-C" + (f" or {args.seconds:g} s" if args.seconds else ""), flush=True)

    asyncio.run(
        serve(args.seed, args.sites, args.pages, version=args.version, port=args.port, delay=args.delay,
              seconds=args.seconds, parent_pid=args.parent_pid, ready=ready, uneven=args.uneven,
              planted=args.planted)
    )  # fmt: skip
    return 0


def _truth(args: argparse.Namespace) -> int:
    web = generate_web(args.seed, args.sites, args.pages, args.port, args.version, args.uneven, args.planted)
    if args.what == "links":
        records = ground_truth(web)
    elif args.what == "pages":
        records = [{"url": url, "status": web.pages[url].status} for url in sorted(fetchable_pages(web))]
    elif args.what == "broken":
        records = broken_links(web)
    else:
        old = generate_web(args.seed, args.sites, args.pages, args.port, 1, args.uneven, args.planted)
        new = generate_web(args.seed, args.sites, args.pages, args.port, 2, args.uneven, args.planted)
        records = [{"change": kind, **link} for kind, links in link_changes(old, new).items() for link in links]
    for record in records:
        print(json.dumps(record, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

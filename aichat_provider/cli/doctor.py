"""``aichat doctor``: one line per check, a verdict and the next step; never a cookie value."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .. import _constants, errors
from .._aichat import Aichat
from .._options import parse_cookies_file, parse_timeout, parse_verify
from .._redact import Scrubber, redact_url
from .._responses import HttpReply, is_cloudflare_challenge
from .._session import CurlSession
from .._urls import Endpoints, parse_base_url, parse_proxy
from ..cookies._browsers import NOT_INSTALLED
from ..cookies._cache import within
from ..cookies._profiles import parse_browsers
from ..cookies._sources import SOURCES, CookieQuery
from ._commands import SUMMARIES
from ._common import (
    EXIT_COOKIES,
    EXIT_OK,
    EXIT_USAGE,
    OutputClosedError,
    add_option_flags,
    add_verbose_flag,
    configure_logging,
    exit_code_for,
    one_line,
    provider_kwargs,
    report_output_closed,
    shown_path,
    use_color,
)

__all__ = ["NAME", "SUMMARY", "configure", "run"]

NAME = "doctor"
SUMMARY = SUMMARIES[NAME]

MARKS = {"ok": "[ ok ]", "warn": "[warn]", "fail": "[FAIL]", "skip": "[ -- ]"}
COLORS = {"ok": "\033[32m", "warn": "\033[33m", "fail": "\033[31m", "skip": "\033[2m"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Check where cookies come from and whether chat-gpt.org can be reached, then make one "
        "short test request. Exit 0 only if that request succeeds."
    )
    add_option_flags(parser, ("connection",))
    add_verbose_flag(parser)


@dataclass
class Report:
    color: bool

    def line(self, verdict: str, check: str, detail: str) -> None:
        mark = MARKS[verdict]
        if self.color:
            mark = f"{COLORS[verdict]}{mark}\033[0m"
        print(f"{mark} {check}: {one_line(detail)}", flush=True)  # may quote the service


@dataclass(frozen=True)
class Checked:
    """The doctor's options, checked before anything is looked at."""

    endpoints: Endpoints
    proxy: str | None
    browsers: tuple[str, ...]
    verify: bool | str
    timeout: float


def run(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    if sys.stdout is None:  # started with it closed: a report nobody sees is no check
        return report_output_closed(OutputClosedError("standard output is closed"))
    report = Report(color=use_color(sys.stdout))
    try:
        checked = Checked(
            parse_base_url(args.base_url or os.environ.get(_constants.ENV_BASE_URL) or None),
            parse_proxy(args.proxy),
            parse_browsers(args.browser),
            parse_verify(args.verify),
            parse_timeout(args.timeout) if args.timeout is not None else 15.0,
        )
        cookies_file = parse_cookies_file(
            args.cookies_file or os.environ.get(_constants.ENV_COOKIES_FILE) or None
        )
    except errors.InvalidRequestError as error:
        report.line("fail", "options", str(error))
        return EXIT_USAGE
    print(f"aichat doctor for {checked.endpoints.base_url}", flush=True)
    found_any = check_cookie_sources(report, args, checked, cookies_file)
    check_network(report, checked, found_any)
    return check_request(report, args, found_any)


def check_cookie_sources(
    report: Report,
    args: argparse.Namespace,
    checked: Checked,
    cookies_file: Path | None,
) -> bool:
    host = checked.endpoints.host
    query = CookieQuery(checked.endpoints.api_url, host, cookies_file, checked.browsers)
    found_any = False
    clearance_from: list[str] = []
    stored_agent: str | None = None
    absent: list[str] = []
    for source in SOURCES:
        for finding in source.examine(query):
            check = finding.check
            if check.startswith("browser ") and finding.detail == NOT_INSTALLED:
                absent.append(check.removeprefix("browser "))  # one line for all of them
                continue
            if finding.path is not None:
                check += f" ({shown_path(finding.path)})"
            report.line(finding.verdict, check, finding.detail)
            found_any = found_any or bool(finding.names)
            clearance_from += [finding.place] if "cf_clearance" in finding.names else []
            stored_agent = stored_agent or finding.user_agent
    if absent:
        report.line("skip", "browsers", f"not installed here: {', '.join(absent)}")
    agent = args.user_agent or stored_agent or os.environ.get(_constants.ENV_USER_AGENT)
    check_clearance(report, clearance_from, agent)
    if not found_any:
        report.line(
            "fail",
            "cookies",
            f"no cookies for {host} anywhere; log in to {host} in a browser here, run "
            f"'aichat login', or export cookies.txt and set {_constants.ENV_COOKIES_FILE}",
        )
    return found_any


def check_clearance(report: Report, found_in: list[str], agent: str | None) -> None:
    """cf_clearance is valid only with the user agent of the browser that earned it."""
    if found_in:
        if agent:
            report.line(
                "ok",
                "cf_clearance",
                f"found in {', '.join(found_in)}; it is sent "
                f"with the user agent {agent!r}, which must be that browser's",
            )
        else:
            report.line(
                "warn",
                "cf_clearance",
                f"found in {', '.join(found_in)}, but no user agent is set: set "
                f"{_constants.ENV_USER_AGENT} (or --user-agent) to that browser's "
                "navigator.userAgent, or Cloudflare will reject the cookie",
            )
    else:
        report.line(
            "skip", "cf_clearance", "not found (needed only when the site shows a Cloudflare check)"
        )


def check_network(report: Report, checked: Checked, found_any: bool) -> None:
    host, proxy = checked.endpoints.host, checked.proxy
    if proxy:
        shown = redact_url(proxy)
        proxy_host, proxy_port = _proxy_address(proxy)
        try:
            with socket.create_connection((proxy_host, proxy_port), timeout=10):
                report.line("ok", "proxy", f"{shown} accepts connections")
        except OSError as exc:
            report.line(
                "fail",
                "proxy",
                f"{shown} cannot be reached ({exc.strerror or exc}); check that it runs",
            )
    else:
        try:
            addresses = within(10, lambda: socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as exc:  # UnicodeError: a label IDNA cannot encode
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a valid name"
            report.line(
                "fail", "DNS", f"{host} does not resolve ({why}); check the network and base_url"
            )
            return
        if addresses is None:
            report.line("fail", "DNS", f"resolving {host} took over 10 s")
            return
        shown_addresses = sorted({str(a[4][0]) for a in addresses})[:3]
        report.line("ok", "DNS", f"{host} resolves to {', '.join(shown_addresses)}")
    try:
        reply = asyncio.run(_get(checked, checked.timeout))
    except errors.ProviderError as error:
        report.line("fail", "connection", str(error))
        return
    scheme = "TLS" if checked.endpoints.base_url.startswith("https") else "plain HTTP"
    if is_cloudflare_challenge(reply) and found_any:
        # A visit without cookies is expected to meet the check; the request tells the rest.
        report.line(
            "ok",
            "connection",
            f"{host} answers over {scheme}; a visit without cookies gets a Cloudflare "
            "challenge, the request below shows whether your cookies pass it",
        )
    elif is_cloudflare_challenge(reply):
        report.line(
            "warn",
            "connection",
            f"{host} answers over {scheme}, but with a Cloudflare "
            "challenge: open the site in your browser, pass it, and use that browser's "
            "cookies and user agent",
        )
    else:
        report.line("ok", "connection", f"{host} answers over {scheme} (HTTP {reply.status_code})")


async def _get(checked: Checked, timeout: float) -> HttpReply:
    """A cookie-less GET of the site, through the same session kind the provider uses."""
    async with CurlSession(proxy=checked.proxy, verify=checked.verify, timeout=timeout) as session:
        return await session.get(checked.endpoints.base_url + "/", scrub=Scrubber())


def check_request(report: Report, args: argparse.Namespace, found_any: bool) -> int:
    if not found_any:
        report.line("fail", "request", "not attempted without cookies")
        return EXIT_COOKIES
    kwargs = {**provider_kwargs(args), "max_retries": 0}
    messages = [{"role": "user", "content": "Reply with the single word OK."}]
    started = time.monotonic()
    try:
        asyncio.run(Aichat.ask_async("", messages, **kwargs))
    except errors.ProviderError as error:
        report.line("fail", "request", f"{type(error).__name__}: {error}")
        return exit_code_for(error)
    report.line("ok", "request", f"answered in {time.monotonic() - started:.1f} s")
    return EXIT_OK


def _proxy_address(proxy: str) -> tuple[str, int]:
    parts = urlsplit(proxy)
    default = {"http": 80, "https": 443}.get(parts.scheme, 1080)
    return parts.hostname or "", parts.port or default

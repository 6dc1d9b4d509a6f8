"""``aichat logout``: forget what ``aichat login`` saved for a host (or for every host)."""

from __future__ import annotations

import argparse
import os
import shutil

from .. import _constants, errors
from .._urls import parse_base_url
from ..cookies._store import browser_profile_dir, forget_login, stored_hosts
from ._commands import SUMMARIES
from ._common import EXIT_OK, exit_code_for, report_error

__all__ = ["NAME", "SUMMARY", "configure", "run"]

NAME = "logout"
SUMMARY = SUMMARIES[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = SUMMARY
    parser.add_argument("--base-url", help="the site (default: $AICHAT_BASE_URL or chat-gpt.org)")
    parser.add_argument("--all", action="store_true", help="every site")


def run(args: argparse.Namespace) -> int:
    try:
        if args.all:
            hosts = stored_hosts()
        else:
            url = args.base_url or os.environ.get(_constants.ENV_BASE_URL) or None
            hosts = [parse_base_url(url).host]
    except errors.ProviderError as error:
        report_error(error)
        return exit_code_for(error)
    for host in hosts:
        forgot = forget_login(host)
        profile = browser_profile_dir(host)
        had_profile = profile.is_dir()
        shutil.rmtree(profile, ignore_errors=True)
        what = "its cookies and browser profile" if had_profile else "its cookies"
        print(f"{host}: forgot {what}" if forgot or had_profile else f"{host}: nothing saved")
    if not hosts:
        print("nothing saved")
    return EXIT_OK

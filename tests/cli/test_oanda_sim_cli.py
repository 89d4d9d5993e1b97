"""`tmt oanda-sim`: the local v20 server a user can rehearse against, as a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

from tests.support.cli import ROOT


def env(token: str | None) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("OANDA_TOKEN", "TMT_OANDA_TOKEN")}
    out["PYTHONPATH"] = str(ROOT)
    if token is not None:
        out["OANDA_TOKEN"] = token
    return out


def test_oanda_sim_serves_v20_to_the_right_token_only() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tmt_tui", "oanda-sim", "--port", "0"],
        env=env("t0ken-for-test"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/v3", first)
        assert url, first
        assert "t0ken-for-test" not in first

        ask = urllib.request.Request(
            f"{url.group(0)}/accounts", headers={"Authorization": "Bearer t0ken-for-test"}
        )
        accounts = json.loads(urllib.request.urlopen(ask, timeout=5).read())
        try:
            urllib.request.urlopen(f"{url.group(0)}/accounts", timeout=5)
            refused = None
        except urllib.error.HTTPError as exc:
            refused = exc.code
    finally:
        proc.terminate()
        proc.wait(10)

    assert accounts["accounts"][0]["id"]
    assert refused == 401


def test_oanda_sim_without_a_token_says_what_to_set() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tmt_tui", "oanda-sim"],
        env=env(None),
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 2
    assert "OANDA_TOKEN" in done.stderr

"""A detector plugin that raises is isolated: counted and reported in status, the others still alert."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import home_env, start_daemon
from tests.surveillance.market import SurvMarket

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "plugin_fixture"


def test_raising_detector_is_isolated_and_reported(aitbc_home):
    path = os.pathsep.join([str(ROOT), str(FIXTURE), os.environ.get("PYTHONPATH", "")])
    daemon = start_daemon(aitbc_home, env=home_env(aitbc_home, PYTHONPATH=path))
    try:
        with daemon.client(timeout=60.0) as client:
            client.surveillance_start()
            market = SurvMarket(client)
            trade = market.trade("alice", "alice")
            alerts = market.alerts()
            assert [a["evidence"]["trades"] for a in alerts] == [[trade.id]]  # wash still ran
            status = client.surveillance_status()
            detectors = {d["name"]: d for d in status["detectors"]}
            assert set(detectors) == {"broken", "wash", "spoofing"}
            assert detectors["broken"]["errors"] > 0
            assert detectors["broken"]["last_error"] == "RuntimeError: broken on purpose"
            assert detectors["wash"]["errors"] == 0 and detectors["wash"]["alerts"] == 1
            assert status["running"] and status["lag"] == 0
    finally:
        daemon.stop()

"""The ``[monitoring]`` settings live in ``tmt_tui.config`` with every other table; this module
names them for the monitoring code."""

from __future__ import annotations

from tmt_tui.config import MonitoringSettings, is_loopback

__all__ = ["MonitoringSettings", "is_loopback"]

# SPDX-License-Identifier: Apache-2.0
# tests/integration/metrics_contract.py - the metric names of the metrics
# contract (jumpgated and `jumpgate sync run`), and the metric names a
# PromQL expression uses, for the dashboard, rules and scrape tests.
import re

GATEWAY_METRICS = {
    "jumpgate_build_info",
    "process_start_time_seconds",
    "jumpgate_connections_total",
    "jumpgate_sessions_active",
    "jumpgate_sessions_total",
    "jumpgate_auth_attempts_total",
    "jumpgate_auth_bans_active",
    "jumpgate_auth_bans_total",
    "jumpgate_source_penalties_active",
    "jumpgate_source_penalties_total",
    "jumpgate_policy_denials_total",
    "jumpgate_bytes_total",
    "jumpgate_forward_channels_active",
    "jumpgate_forward_channels_total",
    "jumpgate_target_errors_total",
    "jumpgate_audit_write_errors_total",
    "jumpgate_policy_reloads_total",
    "jumpgate_policy_info",
    "jumpgate_policy_loaded_timestamp_seconds",
}
SYNC_METRICS = {
    "jumpgate_build_info",
    "process_start_time_seconds",
    "jumpgate_sync_runs_total",
    "jumpgate_sync_changes_total",
    "jumpgate_sync_errors_total",
    "jumpgate_sync_last_success_timestamp_seconds",
    "jumpgate_sync_last_run_duration_seconds",
    "jumpgate_sync_discovered_targets",
}
# Series every Prometheus makes itself for each scrape target.
PROMETHEUS_METRICS = {"up"}
CONTRACT = GATEWAY_METRICS | SYNC_METRICS | PROMETHEUS_METRICS

_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring",
             "group_left", "group_right", "bool", "offset", "inf", "nan",
             # aggregation operators, which may stand before "by (...)"
             "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
             "count_values", "bottomk", "topk", "quantile"}
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _strip(expr):
    """expr without string literals, label matchers, ranges, grouping
    label lists and Grafana variables, which hold no metric names."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    s = re.sub(r"\$\{?\w+\}?", "", s)
    s = re.sub(r"\{[^{}]*\}", "", s)
    s = re.sub(r"\[[^\[\]]*\]", "", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)",
               r"\1", s)
    return s


def metric_names(expr):
    """The metric names a PromQL expression selects (function names and
    keywords left out)."""
    s = _strip(expr)
    out = set()
    for m in _NAME.finditer(s):
        name = m.group(0)
        rest = s[m.end():].lstrip()
        if rest.startswith("("):
            continue  # a function or aggregation
        if name.lower() in _KEYWORDS:
            continue
        if m.start() > 0 and (s[m.start() - 1].isdigit() or s[m.start() - 1] == "."):
            continue  # the unit of a number like 5m or 1e3
        out.add(name)
    return out

"""Metrics and alert rules: what an operator watches. Imports nothing above domain."""

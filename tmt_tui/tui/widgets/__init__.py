"""Widgets that render engine state: quote board, header, tables, log and risk gauges."""

"""Screens: the main trading screen, the order ticket and small dialogs."""

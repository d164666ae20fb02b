"""The dialer's tables: campaigns, lists, the hopper, call journeys and attempts, each
with its named SQL."""

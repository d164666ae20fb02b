"""The dialer's pure rules: agents, calls, routing, compliance, abandon, time zones,
pacing strategies and the one per-tick planner. No I/O: the simulator and the live loop
both run this code."""

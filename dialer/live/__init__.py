"""The live dialer: the runtime, a campaign's loop, one call's task, the desk."""

"""The discrete-event simulator, the scenario format and the bundled scenarios."""

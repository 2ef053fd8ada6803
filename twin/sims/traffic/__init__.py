"""Traffic: static user-equilibrium assignment and the rerouting simulation.

The public entry point is :mod:`twin.traffic`.
"""

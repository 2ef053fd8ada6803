"""Batch runs: parameter sweeps of scenarios on a Dask cluster."""

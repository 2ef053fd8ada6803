"""Water networks: pressure-dependent hydraulics of EPANET networks under pipe breaks,
valve closures, pump and source outages and demand changes (:class:`Water`)."""

"""Water networks: the interventions on EPANET networks (the simulation comes with issue J)."""

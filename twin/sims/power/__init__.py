"""Energy networks: the interventions on energy networks (the simulation comes with issue J)."""

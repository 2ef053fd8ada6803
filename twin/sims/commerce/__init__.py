"""Commercial vacancy: Huff market shares, retail units, footfall and vacancy risk.

The public facade is :mod:`twin.commerce`; the Huff / MCI model is :mod:`twin.sims.commerce.huff`.
"""

"""The developer kit: a local chain, simulated sites and grid operators, an agent fleet and the demo scenario.

Nothing here runs at a real site or behind a real gateway; the product packages never import it.
"""

"""The read side: queries that load a page in a few round trips, and the presenters that shape it."""

"""The indexer: protocol events from the chain into `chain_events`, and the read models projected from them."""

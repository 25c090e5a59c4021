"""Chain client: shipped ABIs, EIP-712 report types, connection, deployment records, deploy."""

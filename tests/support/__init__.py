"""Test support: chain helpers, agent environments, protocol peers and a wallet."""

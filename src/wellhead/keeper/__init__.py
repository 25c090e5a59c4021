"""The keeper: settles every epoch that can be settled and records NAV rounds, for any set of assets.

Permissionless: anyone may run it (`wellhead keeper run`), and the site agent runs its loop for its own asset.
Its transactions are idempotent on chain (`finalizeEpochs` settles from the next unsettled epoch, `update`
records only a newer round), so several keepers never double-settle; each remembers the one transaction it
has in flight per asset and kind, so a restart, an RPC outage or a reorg neither sends twice nor loses it.
"""

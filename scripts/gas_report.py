"""Gas of each protocol action, from real transaction receipts on a fresh anvil.

`make gas` prints a table and writes bench/results/gas-core.json. Finalize is measured with 1 and with
200 active leases: settlement must cost the same whatever the number of leases.
`--check snapshots/gas-core.json` (in `make test`) fails when any action's gas differs from the committed
snapshot, so a change in cost shows in review; `make gas-snapshot` rewrites the snapshot.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from wellhead.chain.artifacts import abi
from wellhead.chain.client import Protocol, send
from wellhead.chain.connection import connect, rpc
from wellhead.chain.deploy import deploy_protocol
from wellhead.chain.params import ProtocolParams
from wellhead.chain.payments import AUTHORIZATION, PERMIT, typed_payment
from wellhead.devkit.anvil import Anvil, dev_accounts
from wellhead.devkit.scenario import Actors, Scenario
from wellhead.devkit.scenario.actors import FIRM, USDC
from wellhead.devkit.scenario.signing import cosign, uniform_report


def gas(receipt: object) -> int:
    return int(receipt["gasUsed"])  # type: ignore[index]


def w3_now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def report_and_finalize(
    demo: Scenario, asset_id: int, epoch: int, attestors: list[LocalAccount], energy_wh: int = 10_000, f: int = 1
) -> tuple[int, int]:
    return settle_epoch(demo, asset_id, epoch, attestors, 9_990, energy_wh, f)


def settle_epoch(
    demo: Scenario,
    asset_id: int,
    epoch: int,
    attestors: list[LocalAccount],
    uptime_bps: int,
    energy_wh: int = 10_000,
    f: int = 1,
) -> tuple[int, int]:
    """Report the epoch when it ends (2f + 1 observations of the asset's `attestors`, in its order, co-signed by
    f + 1 of them), finalize it when the challenge window has passed; gas of both."""
    p = demo.p
    demo.asset_id = asset_id
    demo.warp_to(demo.epoch_end(epoch))
    report = uniform_report(p, asset_id, epoch, attestors, uptime_bps, energy_wh, observers=2 * f + 1)
    cosignatures = cosign(p, report, attestors[: f + 1])
    submit = send(demo.w3, attestors[0], p.oracle.functions.submitReport(report.as_tuple(), cosignatures))
    demo.warp_to(w3_now(demo.w3) + 601)
    final = send(demo.w3, demo.a.admin, p.market.functions.finalizeEpoch(asset_id, epoch))
    return gas(submit), gas(final)


def measure(w3: Web3, protocol: Protocol, actors: Actors) -> dict[str, int]:
    demo = Scenario(w3, protocol, actors)
    demo.fund()
    results: dict[str, int] = {}
    before = w3.eth.block_number
    small = demo.register(64)
    results["register asset (deploys its shares)"] = gas(
        w3.eth.get_transaction_receipt(w3.eth.get_block(before + 1)["transactions"][0])
    )
    big = demo.register(256)
    market = protocol.market.functions
    shares = protocol.shares(small)

    deadline = w3.eth.get_block("latest")["timestamp"] + 86_400
    send(w3, actors.operator, shares.functions.openSale(10_000 * 10**18, USDC, deadline))
    send(w3, actors.investor_b, protocol.stablecoin.functions.approve(shares.address, 2**256 - 1))
    results["buy shares"] = gas(send(w3, actors.investor_b, shares.functions.buy(1_000 * 10**18, USDC)))

    receipt = send(w3, actors.lessee_firm, market.openLease(small, 4, 3, FIRM, 2**255))
    results["open lease"] = gas(receipt)
    lease_id = protocol.market.events.LeaseOpened().process_receipt(receipt, errors=DISCARD)[0]["args"]["leaseId"]
    results["extend lease"] = gas(send(w3, actors.lessee_firm, market.extendLease(lease_id, 2)))
    for _ in range(200):
        send(w3, actors.lessee_interruptible, market.openLease(big, 1, 3, FIRM, 2**255))

    # the two assets' epochs start at their registration times, which may be seconds apart
    epoch0_end = max(protocol.registry.functions.epochEnd(a, 0).call() for a in (small, big))
    demo.warp_to(epoch0_end + 1_801)
    send(w3, actors.admin, market.finalizeEpoch(small, 0))
    send(w3, actors.admin, market.finalizeEpoch(big, 0))
    submit3, final1 = report_and_finalize(demo, small, 1, actors.attestors)
    results["submit report, f = 1 (3 observations, 2 co-signers)"] = submit3
    results["finalize epoch, 1 active lease"] = final1
    _submit, final200 = report_and_finalize(demo, big, 1, actors.attestors)
    results["finalize epoch, 200 active leases"] = final200

    # The first revenue settlement of a holder writes its (zero) record slot, once, as an ERC-20 transfer to a
    # new holder writes its balance slot; the steady-state figures below are the ones the targets compare.
    results["claim revenue, the holder's first"] = gas(
        send(w3, actors.investor_a, shares.functions.claim(actors.investor_a.address))
    )
    results["share transfer, the recipient's first settlement"] = gas(
        send(w3, actors.investor_a, shares.functions.transfer(actors.investor_b.address, 10**18))
    )
    results["lease transfer (ERC-721)"] = gas(
        send(
            w3,
            actors.lessee_firm,
            market.transferFrom(actors.lessee_firm.address, actors.investor_a.address, lease_id),
        )
    )
    results["claim refund"] = gas(send(w3, actors.investor_a, market.claimRefund(lease_id, actors.investor_a.address)))
    # Steady state: another epoch pays both holders; both have been settled since the first distribution.
    # Its settlement is the asset's second distribution: the accumulator's slots already exist.
    submit3, final1 = report_and_finalize(demo, small, 2, actors.attestors)
    results["submit report, f = 1, a later epoch"] = submit3
    results["finalize epoch, 1 active lease, a later epoch"] = final1
    results["share transfer"] = gas(
        send(w3, actors.investor_a, shares.functions.transfer(actors.investor_b.address, 10**18))
    )
    results["claim revenue"] = gas(send(w3, actors.investor_a, shares.functions.claim(actors.investor_a.address)))
    return results | measure_credit(w3, protocol, actors) | measure_payments(w3, protocol, actors, small)


PAYER_KEY = "0x" + "5a" * 32  # a fixed payer: the same address, so the same calldata gas, every run


def measure_payments(w3: Web3, protocol: Protocol, actors: Actors, asset: int) -> dict[str, int]:
    """Open, extend, buy shares and supply paid three ways: an approve transaction then the action (the two
    transactions' gas summed), and one transaction through the PaymentRouter with an EIP-2612 permit or an
    EIP-3009 authorization."""
    payer = Account.from_key(PAYER_KEY)
    coin = protocol.stablecoin
    send(w3, actors.admin, coin.functions.mint(payer.address, 1_000_000 * USDC))
    w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": payer.address, "value": 10**18})
    router = w3.eth.contract(address=protocol.deployment.address("PaymentRouter"), abi=abi("PaymentRouter"))
    _, name, version, chain_id, verifying, _, _ = coin.functions.eip712Domain().call()
    domain = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying}
    deadline = 2**40  # fixed: the signatures (and so the calldata's zero bytes, and the gas) are the same every run
    count = 0

    def permit(value: int) -> tuple[object, ...]:
        nonce = coin.functions.nonces(payer.address).call()
        message = {
            "owner": payer.address,
            "spender": router.address,
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        }
        signed = Account.sign_typed_data(payer.key, full_message=typed_payment("Permit", domain, message))
        return (
            PERMIT,
            value,
            0,
            deadline,
            b"\x00" * 32,
            signed.v,
            signed.r.to_bytes(32, "big"),
            signed.s.to_bytes(32, "big"),
        )

    def authorization(value: int) -> tuple[object, ...]:
        nonlocal count
        count += 1
        nonce = count.to_bytes(32, "big")
        message = {
            "from": payer.address,
            "to": router.address,
            "value": value,
            "validAfter": 0,
            "validBefore": deadline,
            "nonce": nonce,
        }
        signed = Account.sign_typed_data(
            payer.key, full_message=typed_payment("ReceiveWithAuthorization", domain, message)
        )
        return (
            AUTHORIZATION,
            value,
            0,
            deadline,
            nonce,
            signed.v,
            signed.r.to_bytes(32, "big"),
            signed.s.to_bytes(32, "big"),
        )

    def two_transactions(spender: str, value: int, action: Any) -> int:
        approve = gas(send_timed(w3, payer, coin.functions.approve(spender, value)))
        return approve + gas(send_timed(w3, payer, action))

    market, shares, credit = protocol.market, protocol.shares(asset), protocol.credit
    results: dict[str, int] = {}
    rate = 4 * market.functions.quote(asset, 1, FIRM).call()  # hourly epochs: 1 GPU, 4 epochs
    receipt = send(w3, payer, router.functions.openLease(permit(rate + USDC), asset, 1, 4, FIRM, 2**255))
    results["pay: open lease, permit (one transaction)"] = gas(receipt)
    lease = market.events.LeaseOpened().process_receipt(receipt, errors=DISCARD)[0]["args"]["leaseId"]
    results["pay: open lease, EIP-3009 (one transaction)"] = gas(
        send(w3, payer, router.functions.openLease(authorization(rate + USDC), asset, 1, 4, FIRM, 2**255))
    )
    cost = 4 * market.functions.quote(asset, 1, FIRM).call()
    results["pay: open lease, approve + open (two transactions)"] = two_transactions(
        market.address, cost, market.functions.openLease(asset, 1, 4, FIRM, 2**255)
    )
    per_epoch = market.functions.leaseOf(lease).call().ratePerEpoch
    results["pay: extend lease, permit (one transaction)"] = gas(
        send(w3, payer, router.functions.extendLease(permit(per_epoch), lease, 1))
    )
    results["pay: extend lease, EIP-3009 (one transaction)"] = gas(
        send(w3, payer, router.functions.extendLease(authorization(per_epoch), lease, 1))
    )
    results["pay: extend lease, approve + extend (two transactions)"] = two_transactions(
        market.address, per_epoch, market.functions.extendLease(lease, 1)
    )
    amount = 100 * 10**18  # the sale opened above: 1 USDC a share
    results["pay: buy shares, permit (one transaction)"] = gas(
        send(w3, payer, router.functions.buyShares(permit(100 * USDC), shares.address, amount, USDC))
    )
    results["pay: buy shares, EIP-3009 (one transaction)"] = gas(
        send(w3, payer, router.functions.buyShares(authorization(100 * USDC), shares.address, amount, USDC))
    )
    results["pay: buy shares, approve + buy (two transactions)"] = two_transactions(
        shares.address, 100 * USDC, shares.functions.buy(amount, USDC)
    )
    # 12 s apart, as the credit figures: the vault accrues interest by the second
    results["pay: supply, permit (one transaction)"] = gas(
        send_timed(w3, payer, router.functions.supply(permit(1_000 * USDC), credit.address, 1_000 * USDC))
    )
    results["pay: supply, EIP-3009 (one transaction)"] = gas(
        send_timed(w3, payer, router.functions.supply(authorization(1_000 * USDC), credit.address, 1_000 * USDC))
    )
    results["pay: supply, approve + deposit (two transactions)"] = two_transactions(
        credit.address, 1_000 * USDC, credit.functions.deposit(1_000 * USDC, payer.address)
    )
    return results


def send_timed(w3: Web3, who: LocalAccount, fn: Any) -> Any:
    """Sends `fn` 12 s after the last block, so that interest (and its gas) is the same every run."""
    rpc(w3, "evm_setNextBlockTimestamp", [w3_now(w3) + 12])
    return send(w3, who, fn)


def measure_credit(w3: Web3, protocol: Protocol, actors: Actors) -> dict[str, int]:
    """Supply, pledge, borrow, repay and liquidate on a fully leased 64-GPU asset with a NAV feed: the
    borrower pledges 250,000 shares once the feed is seasoned, borrows at the 50 % LTV, and an epoch with
    nothing delivered makes it liquidatable."""
    demo = Scenario(w3, protocol, actors)
    asset = demo.register(64)
    credit = protocol.credit.functions
    borrower, lender, liquidator = actors.investor_a, actors.lender, actors.liquidator
    demo.open_credit(100_000 * USDC)  # the feed, the listing, a lender's first deposit
    nav = protocol.nav(asset).functions
    send(w3, actors.lessee_firm, protocol.market.functions.openLease(asset, 64, 20, FIRM, 2**255))
    send(w3, borrower, protocol.shares(asset).functions.approve(protocol.credit.address, 2**256 - 1))

    def epochs(first: int, count: int, uptime_bps: int) -> None:
        for epoch in range(first, first + count):
            settle_epoch(demo, asset, epoch, actors.attestors, uptime_bps)
            send(w3, actors.admin, nav.update())

    results: dict[str, int] = {}
    results["credit: supply (ERC-4626 deposit)"] = gas(
        send_timed(w3, lender, credit.deposit(100_000 * USDC, lender.address))
    )
    epochs(0, 4, 10_000)  # two full windows: the feed is seasoned
    results["credit: deposit collateral"] = gas(
        send_timed(w3, borrower, credit.depositCollateral(asset, 250_000 * 10**18, borrower.address))
    )
    capacity = credit.borrowCapacity(asset, borrower.address).call()
    results["credit: borrow"] = gas(send_timed(w3, borrower, credit.borrow(asset, capacity - USDC, borrower.address)))
    epochs(4, 1, 10_000)
    results["credit: repay (applies collateral revenue)"] = gas(
        send_timed(w3, borrower, credit.repay(asset, USDC, borrower.address))
    )
    # back near the limit (a second's interest below it), so that one outage leaves the position under water
    headroom = credit.borrowCapacity(asset, borrower.address).call() * 99 // 100
    send_timed(w3, borrower, credit.borrow(asset, headroom, borrower.address))
    epochs(5, 1, 0)
    send_timed(w3, liquidator, credit.settle(asset, borrower.address))
    debt = credit.debtOf(asset, borrower.address).call()
    results["credit: liquidate"] = gas(
        send_timed(w3, liquidator, credit.liquidate(asset, borrower.address, debt // 4, liquidator.address))
    )
    return results | measure_btc(w3, protocol, actors)


def measure_btc(w3: Web3, protocol: Protocol, actors: Actors) -> dict[str, int]:
    """The BTC market: a lender's deposit, 1 BTC pledged at 60,000 (the borrower's first pledge), 40,000
    borrowed (the market's first borrow), a repayment, then BTC at 46,000 and a liquidation of a quarter of the
    debt: the same sequence Morpho Blue's anchor measures."""
    btc, wbtc, feed = protocol.btc_credit, protocol.wbtc.functions, protocol.btc_usd.functions
    lender, miner, liquidator, admin = actors.lender, actors.operator, actors.liquidator, actors.admin
    coin = protocol.stablecoin.functions
    for who in (lender, miner, liquidator):
        send(w3, admin, coin.mint(who.address, 1_000_000 * USDC))
        send(w3, who, coin.approve(btc.address, 2**256 - 1))
    send(w3, admin, wbtc.mint(miner.address, 10 * 10**8))
    send(w3, miner, wbtc.approve(btc.address, 2**256 - 1))
    send(w3, lender, btc.functions.deposit(500_000 * USDC, lender.address))
    send_timed(w3, admin, feed.setAnswer(60_000 * 10**8))
    results: dict[str, int] = {}
    results["btc: supply collateral"] = gas(send_timed(w3, miner, btc.functions.supplyCollateral(10**8, miner.address)))
    results["btc: borrow"] = gas(send_timed(w3, miner, btc.functions.borrow(40_000 * USDC, miner.address)))
    results["btc: repay"] = gas(send_timed(w3, miner, btc.functions.repay(1_000 * USDC, miner.address)))
    send_timed(w3, admin, feed.setAnswer(46_000 * 10**8))
    debt = btc.functions.debtOf(miner.address).call()
    results["btc: liquidate"] = gas(
        send_timed(w3, liquidator, btc.functions.liquidate(miner.address, debt // 4, liquidator.address))
    )
    return results


def check(results: dict[str, int], snapshot_path: Path) -> int:
    snapshot = json.loads(snapshot_path.read_text())["gas"]
    changed = {k: (snapshot.get(k), v) for k, v in results.items() if snapshot.get(k) != v}
    missing = sorted(set(snapshot) - set(results))
    for action, (old, new) in changed.items():
        delta = "new" if old is None else f"{new - old:+,} ({(new - old) / old:+.2%})"
        print(f"gas changed: {action}: {old} -> {new} {delta}")
    for action in missing:
        print(f"gas snapshot lists {action!r}, which was not measured")
    if changed or missing:
        print(f"gas differs from {snapshot_path}: run `make gas-snapshot` and commit it if intended")
        return 1
    print(f"gas matches {snapshot_path} ({len(results)} actions)")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--check", type=Path, metavar="SNAPSHOT", help="fail if any action's gas differs from it")
    where.add_argument("--write", type=Path, metavar="SNAPSHOT", help="write the figures there")
    args = parser.parse_args()
    with Anvil() as node:
        w3 = connect(node.url)
        keys = dev_accounts(12)
        deployment = deploy_protocol(w3, keys[0], "gas", ProtocolParams(treasury=keys[0].address))
        rpc(w3, "evm_mine", [])
        results = measure(w3, Protocol(w3, deployment), Actors.from_dev_accounts(keys))
    width = max(map(len, results))
    print(f"{'action':<{width}}  {'gas':>9}")
    for action, used in results.items():
        print(f"{action:<{width}}  {used:>9,}")
    ratio = results["finalize epoch, 200 active leases"] / results["finalize epoch, 1 active lease"]
    print(f"finalize with 200 leases / with 1 lease: {ratio:.3f}")
    record = json.dumps({"gas": results, "finalize_200_over_1": round(ratio, 4)}, indent=2) + "\n"
    if args.check:
        sys.exit(check(results, args.check))
    out = args.write or Path("bench/results/gas-core.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(record)


if __name__ == "__main__":
    main()

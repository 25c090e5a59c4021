"""The scenario's market actions: fund the actors, register the asset, sell shares, lease, settle."""

from __future__ import annotations

from eth_utils.crypto import keccak
from web3.logs import DISCARD

from wellhead.chain.enums import ReportStatus
from wellhead.chain.reports import StoredReport
from wellhead.chain.structs import struct_arg
from wellhead.devkit.scenario.actors import ATTESTOR_STAKE, FIRM, INTERRUPTIBLE, SHARE, USDC
from wellhead.devkit.scenario.base import ScenarioBase
from wellhead.devkit.scenario.keeping import demo_keeper, sent_by
from wellhead.devkit.scenario.results import DemoResult, EpochRow, GridEventRow


class MarketActions(ScenarioBase):
    def fund(self) -> None:
        coin = self.p.stablecoin.functions
        for who in (
            self.a.operator,
            self.a.investor_a,
            self.a.investor_b,
            self.a.lessee_firm,
            self.a.lessee_interruptible,
            self.a.lender,
            self.a.liquidator,
            *self.a.attestors,  # they pay their challenge bonds
        ):
            self.send(self.a.admin, coin.mint(who.address, 1_000_000 * USDC))
            for spender in (
                self.p.registry.address,
                self.p.market.address,
                self.p.oracle.address,
                self.p.credit.address,
            ):
                self.send(who, coin.approve(spender, 2**256 - 1))

    def register(
        self,
        gpus: int = 64,
        attestors: list[str] | None = None,
        fault_tolerance: int = 1,
        investor_shares: int = 300_000 * SHARE,
        curtailment_cap_hours: int = 1,
        stake: int = ATTESTOR_STAKE,
    ) -> int:
        """Registers the demo asset (tolerating `fault_tolerance` faulty attestors of the four) and stakes every
        attestor; `investor_shares` of the 1,000,000 go to investor A, the rest to the operator."""
        params = struct_arg(
            "CapacityRegistry",
            "registerAsset",
            "AssetParams",
            {
                "siteId": b"TX-ABILENE-1".ljust(32, b"\0"),
                "gpuClass": b"H100-SXM".ljust(32, b"\0"),
                "gpuCount": gpus,
                "maxWattsPerGpu": 700,
                "epochLength": 3600,
                "operatorFeeBps": 1_000,
                "slaTargetBps": 9_900,
                "faultTolerance": fault_tolerance,
                "attestors": attestors if attestors is not None else [a.address for a in self.a.attestors],
                # 2 USDC/GPU-h, kink 80 %, +20 %, +200 %, -30 % for interruptible
                "curve": {
                    "basePricePerGpuHour": 2 * USDC,
                    "kinkBps": 8_000,
                    "slope1Bps": 2_000,
                    "slope2Bps": 20_000,
                    "interruptibleDiscountBps": 3_000,
                },
                "bond": 50_000 * USDC,
                "sharesName": "Wellhead Abilene H100",
                "sharesSymbol": "whABL1",
                "totalShares": 1_000_000 * SHARE,
                "investors": [self.a.investor_a.address],
                "investorShares": [investor_shares],
                "restrictedTransfers": False,
                "curtailmentCapHours": curtailment_cap_hours,
            },
        )
        receipt = self.send(self.a.operator, self.p.registry.functions.registerAsset(params))
        event = self.p.registry.events.AssetRegistered().process_receipt(receipt, errors=DISCARD)[0]
        self.asset_id = int(event["args"]["assetId"])
        if stake:
            for attestor in self.p.oracle.functions.attestors(self.asset_id).call():
                self.send(self.a.operator, self.p.oracle.functions.depositStake(self.asset_id, attestor, stake))
        return self.asset_id

    def sell_shares(self) -> None:
        shares = self.p.shares(self.asset_id)
        deadline = self.w3.eth.get_block("latest")["timestamp"] + 7 * 86_400
        self.send(self.a.operator, shares.functions.openSale(200_000 * SHARE, 1 * USDC, deadline))
        self.send(self.a.investor_b, self.p.stablecoin.functions.approve(shares.address, 2**256 - 1))
        self.send(self.a.investor_b, shares.functions.buy(150_000 * SHARE, 1 * USDC))

    def open_leases(self) -> dict[str, int]:
        market = self.p.market.functions
        ids = {}
        for label, who, gpus, cls in (
            ("firm 32 GPUs", self.a.lessee_firm, 32, FIRM),
            ("interruptible 16 GPUs", self.a.lessee_interruptible, 16, INTERRUPTIBLE),
        ):
            quote = market.quote(self.asset_id, gpus, cls).call()
            receipt = self.send(who, market.openLease(self.asset_id, gpus, 4, cls, quote))
            event = self.p.market.events.LeaseOpened().process_receipt(receipt, errors=DISCARD)[0]
            ids[label] = int(event["args"]["leaseId"])
        return ids

    def deposit_energy_income(self, row: GridEventRow, amount: int) -> None:
        """The operator pays the demand-response credit the event earned into the asset's revenue."""
        receipt = self.send(
            self.a.operator,
            self.p.market.functions.depositEnergyIncome(self.asset_id, amount, row.declaration),
        )
        ev = self.p.market.events.EnergyIncomeDeposited().process_receipt(receipt, errors=DISCARD)[0]["args"]
        row.income, row.holders_income = ev["amount"], ev["holdersRevenue"]
        row.protocol_fee, row.operator_fee = ev["protocolFee"], ev["operatorFee"]

    def retire_certificates(self, epoch: int) -> None:
        """The operator retires two wind certificates (25 kWh each) against the epoch before it is reported."""
        ids = [keccak(text=f"ERCOT-REC/TX-WIND-7/2026-{epoch:04d}-{n}") for n in (1, 2)]
        fn = self.p.grid.functions.retireCertificates(self.asset_id, epoch, ids, [25_000, 25_000])
        self.send(self.a.operator, fn)

    def finalize(self, epoch: int, note: str, result: DemoResult) -> None:
        """The keeper settles `epoch` as soon as it may be (after its challenge window, or its report deadline
        when no report came); its row goes into `result`."""
        deadline, _window = self.p.registry.functions.reportTimes().call()
        stored = StoredReport.read(self.p.oracle, self.asset_id, epoch)
        # a pending report settles when its challenge window (fixed at acceptance) ends; a resolved one at once
        if stored.status == ReportStatus.PENDING:
            ready_at = stored.challenge_ends_at
        elif stored.exists:
            ready_at = 0
        else:
            ready_at = self.epoch_end(epoch) + deadline + 1
        # one second past it: the keeper asks the chain (a call on the latest block) what would settle
        self.warp_to(ready_at + 1)
        # settled by the keeper (the product's settler, as `wellhead keeper` and the site agent run it)
        keeper = demo_keeper(self.p, self.asset_id, self.a.admin)
        keeper.run(float(self.now()))
        receipt = self.w3.eth.wait_for_transaction_receipt(sent_by(keeper, "finalize", self.asset_id))
        events = self.p.market.events.EpochSettled().process_receipt(receipt, errors=DISCARD)
        (ev,) = [e["args"] for e in events if e["args"]["epoch"] == epoch]
        result.epochs.append(
            EpochRow(
                epoch,
                ev["proven"],
                ev["uptimeBps"],
                ev["curtailedBps"],
                ev["delivered"],
                ev["protocolFee"],
                ev["operatorFee"],
                ev["holdersRevenue"],
                ev["serviceCredit"],
                note,
            )
        )

    def prepaid(self, lease_id: int) -> int:
        """What the lease's holder paid upfront for its whole term."""
        lease = self.p.market.functions.leaseOf(lease_id).call()
        return int(lease.ratePerEpoch) * (int(lease.endEpoch) - int(lease.startEpoch))

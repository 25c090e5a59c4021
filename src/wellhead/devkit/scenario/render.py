"""The demo's printed story: settlement, attestation, grid events, energy and credit tables."""

from __future__ import annotations

from wellhead.core.energy import split_by_use
from wellhead.core.units import fmt_units
from wellhead.devkit.scenario.actors import SHARE
from wellhead.devkit.scenario.results import BtcOutcome, CreditOutcome, DemoResult, DisputeRow, GridEventRow


def pct(bps: int) -> str:
    """Basis points as a percentage, exactly: 9992 -> '99.92%'."""
    return f"{bps // 100}.{bps % 100:02d}%"


def render(result: DemoResult) -> str:
    u = fmt_units
    lines = [
        f"Settlement of asset #{result.asset_id} (64 x H100-SXM at TX-ABILENE-1), amounts in tUSDC;"
        " each epoch settled by the keeper (the settler `wellhead keeper` and the site agent run)",
        "",
    ]
    lines.append(
        f"{'epoch':>5} {'report':<8} {'uptime':>7} {'curtail':>7} {'delivered':>14} {'protocol':>12} "
        f"{'operator':>12} {'holders':>14} {'SLA credit':>12}  note"
    )
    for r in result.epochs:
        lines.append(
            f"{r.epoch:>5} {'signed' if r.proven else 'missing':<8} {pct(r.uptime_bps):>7} "
            f"{pct(r.curtailed_bps):>7} {u(r.delivered):>14} {u(r.protocol_fee):>12} "
            f"{u(r.operator_fee):>12} {u(r.holders):>14} {u(r.credit):>12}  {r.note}"
        )
    lines += ["", f"{'lessee':<24} {'prepaid':>14} {'charged':>14} {'refunded':>14} {'SLA credit':>12}"]
    for label, v in result.lessees.items():
        lines.append(
            f"{label:<24} {u(v['prepaid']):>14} {u(v['charged']):>14} {u(v['refund']):>14} {u(v['credit']):>12}"
        )
    lines += ["", f"{'share holder':<24} {'shares':>14} {'revenue':>14}"]
    for label, v in result.holders.items():
        lines.append(f"{label:<24} {v['shares'] // 10**18:>14,} {u(v['revenue']):>14}")
    lines += [
        "",
        f"operator fees {u(result.operator_fees)}, share sale proceeds {u(result.sale_proceeds)}, "
        f"bond drawn for SLA credits {u(result.bond_used)}",
        f"treasury (protocol fee) {u(result.treasury)}",
        f"left in the market after every claim: {result.market_dust} base units of rounding dust",
    ]
    return "\n".join(
        lines
        + render_disputes(result.disputes)
        + render_grid(result.grid_events)
        + render_energy(result)
        + render_credit(result.credit)
        + render_btc(result.btc)
    )


def render_disputes(rows: list[DisputeRow]) -> list[str]:
    if not rows:
        return []
    lines = ["", "Attestation (4 attestors, tolerating 1 faulty: 3 observations and 2 co-signers per report)"]
    for r in rows:
        honest = ", ".join(pct(v) for v in r.honest_bps)
        lines.append(
            f"epoch {r.epoch}: checker {r.liar - 1} claimed {pct(r.claimed_bps)} beside {honest}; "
            f"the contract's median is {pct(r.settled_bps)}: the lie moved nothing"
        )
        lines.append(
            f"  challenged by {r.challenger}, {r.status} by the arbiter: the liar lost {fmt_units(r.slashed)} "
            f"of its stake, the challenger got {fmt_units(r.challenger_paid)} (bond back + reward)"
        )
    return lines


def render_energy(result: DemoResult) -> list[str]:
    if not result.energy:
        return []
    u = fmt_units
    lines = [
        "",
        "Hybrid site and green energy (facility kWh split by the GPU and miner meters; revenue per kWh in tUSDC)",
        f"{'epoch':>5} {'AI kWh':>9} {'mining kWh':>11} {'AI /kWh':>10} {'mining /kWh':>12} "
        f"{'Wh/GPU-h':>9} {'renewable':>9} {'gCO2/kWh':>8} {'certs':>5}",
    ]
    for r in result.energy:
        s = split_by_use(r.facility_wh, r.gpu_wh, r.mining_wh, r.ai_revenue, r.mining_revenue)
        lines.append(
            f"{r.epoch:>5} {u(s.ai_wh, 3):>9} {u(s.mining_wh, 3):>11} "
            f"{u(s.ai_revenue_per_kwh or 0):>10} {u(s.mining_revenue_per_kwh or 0):>12} "
            f"{r.wh_per_gpu_hour if r.wh_per_gpu_hour is not None else '-':>9} {pct(r.renewable_bps):>9} "
            f"{r.carbon_g_per_kwh:>8} {r.certificates:>5}"
        )
    for label, (wh, green) in result.carbon_free.items():
        share = green * 10_000 // wh if wh else 0
        lines.append(f"{label}: {u(wh, 3)} kWh, of which carbon-free {u(green, 3)} kWh ({pct(share)})")
    return lines


def render_grid(rows: list[GridEventRow]) -> list[str]:
    if not rows:
        return []
    lines = ["", "Grid events (curtailed time is not charged to interruptible leases; firm leases are never curtailed)"]
    for r in rows:
        minutes = (r.ends_at - r.starts_at) // 60
        lines.append(
            f"{r.name} ({r.source}): {minutes} min in epoch {r.epoch}; demand-response credit "
            f"{fmt_units(r.income)} paid in, {fmt_units(r.holders_income)} to share holders"
        )
    return lines


def health(wad: int) -> str:
    """A health factor (WAD) to three decimals, truncated."""
    return "no debt" if wad >= 2**255 else fmt_units(wad // 10**15, 3)


def render_btc(b: BtcOutcome) -> list[str]:
    u = fmt_units
    if not b.pledged:
        return []
    lines = [
        "",
        "Bitcoin as collateral (BTC market: Chainlink BTC / USD feed, 1 h heartbeat; LTV 70 %, liquidation at 80 %)",
        f"lender supplied {u(b.supplied)}; the operator pledged {fmt_units(b.pledged, 8)} BTC at "
        f"{u(b.price_at_borrow)} and borrowed {u(b.borrowed)} for GPUs (health {health(b.health_at_borrow)})",
        f"BTC falls to {u(b.price_after_drop)}: health {health(b.health_after_drop)}",
    ]
    if b.seized:
        lines.append(
            f"liquidated: repaid {u(b.repaid)}, took {fmt_units(b.seized, 8)} BTC, bad debt {u(b.bad_debt)}; "
            f"health now {health(b.health_after)}"
        )
    else:
        lines.append("still healthy: no liquidation")
    return lines


def render_credit(c: CreditOutcome) -> list[str]:
    u = fmt_units
    navs = ", ".join(f"epoch {e}: {u(p)}" for e, p in sorted(c.nav.items()))
    lendings = ", ".join(f"epoch {e}: {u(p)}" for e, p in sorted(c.lending.items()))
    lines = [
        "",
        "Credit market (NAV feed: trailing revenue x uptime x remaining life, per share)",
        f"NAV after each settled epoch: {navs}",
        "lending price (the mean of the last K = 2 windows, life capped at M = 3 windows; 0 until seasoned): "
        + lendings,
        f"lender supplied {u(c.supplied)}; investor A pledged {c.collateral // SHARE:,} shares at "
        f"{u(c.price_at_borrow)} and borrowed {u(c.borrowed)} (health {health(c.health_at_borrow)})",
        f"after the missing report the lending price is {u(c.price_at_liquidation)}: "
        f"health {health(c.health_before_liquidation)}",
    ]
    if c.seized:
        lines.append(
            f"liquidated: repaid {u(c.repaid)}, took {fmt_units(c.seized // 10**16, 2)} shares, "
            f"bad debt {u(c.bad_debt)}; health now {health(c.health_after)}"
        )
    else:
        lines.append("still healthy: no liquidation")
    return lines

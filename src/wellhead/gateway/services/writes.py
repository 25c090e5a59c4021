"""Writes without custody: the gateway prepares, the client signs, the gateway relays.

`prepare*` answers an unsigned EIP-1559 transaction (nonce, gas with a margin, fees) or, for a permit, the
EIP-712 typed data of an EIP-2612 permit; a dry run first turns any revert into a 422 naming the contract's
error and its values. `relayTransaction` takes the signed bytes, checks they are for this chain and for
one of the protocol's contracts, and sends them; `getTransaction` reports the status until confirmed.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from eth_typing import ChecksumAddress
from sqlalchemy.orm import Session
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    BadFunctionCallOutput,
    ContractCustomError,
    ContractLogicError,
)

from wellhead.chain.artifacts import abi
from wellhead.chain.client import GAS_MARGIN, revert_from
from wellhead.chain.deployment import Deployment
from wellhead.chain.eip712 import domain_separator
from wellhead.chain.payments import typed_payment
from wellhead.core.units import fmt_units, stablecoin_decimals
from wellhead.gateway import db
from wellhead.gateway.problems import Problem
from wellhead.gateway.schemas.common import SHARE_DECIMALS, Amount, parse_address
from wellhead.gateway.schemas.transactions import (
    ApproveIn,
    AuthorizationIn,
    BuySharesIn,
    ClaimRefundIn,
    ClaimRevenueIn,
    ExtendLeaseIn,
    LeaseIn,
    NavUpdateIn,
    OpenLeaseIn,
    PermitIn,
    PreparedAuthorization,
    PreparedPermit,
    PreparedTransaction,
    SettleIn,
    TransferSharesIn,
    UnsignedTransaction,
)

SHARES_REF = re.compile(r"shares:([0-9]{1,18})")  # ASCII digits, within the database's integers


class Writes:
    def __init__(self, w3: Web3, deployment: Deployment, confirmations: int) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.confirmations = confirmations
        self.chain_id = deployment.chain_id
        self.coin = w3.eth.contract(address=_addr(deployment.address("Stablecoin")), abi=abi("TestStablecoin"))
        self.market = w3.eth.contract(address=_addr(deployment.address("LeaseMarket")), abi=abi("LeaseMarket"))
        self.nav_factory = w3.eth.contract(
            address=_addr(deployment.address("NavOracleFactory")), abi=abi("NavOracleFactory")
        )
        self.core: dict[str, str] = {_addr(c.address): name for name, c in deployment.contracts.items()}

    # ------------------------------------------------------------ helpers
    def _shares(self, s: Session, asset_id: int) -> Any:
        asset = s.get(db.Asset, asset_id)
        if asset is None:
            raise Problem(404, "asset_not_found", f"no asset {asset_id}", "asset_id")
        return self.w3.eth.contract(address=_addr(asset.shares), abi=abi("CapacityShares"))

    def _lease(self, s: Session, lease_id: int) -> db.Lease:
        lease = s.get(db.Lease, lease_id)
        if lease is None:
            raise Problem(404, "lease_not_found", f"no lease {lease_id}", "lease_id")
        result: db.Lease = lease
        return result

    def _token(self, s: Session, token: str, field: str) -> tuple[Any, int]:
        if token == "stablecoin":
            return self.coin, stablecoin_decimals()
        if (ref := SHARES_REF.fullmatch(token)) is not None:
            return self._shares(s, int(ref[1])), SHARE_DECIMALS
        raise Problem(422, "invalid_token", f"{field} must be 'stablecoin' or 'shares:<asset id>': {token!r}", field)

    def _spender(self, s: Session, spender: str, field: str) -> str:
        if spender in ("LeaseMarket", "CreditMarket") and spender in self.deployment.contracts:
            return _addr(self.deployment.address(spender))
        if (ref := SHARES_REF.fullmatch(spender)) is not None:
            return str(self._shares(s, int(ref[1])).address)
        return parse_address(spender, field)

    def _prepare(
        self, sender: str, fn: ContractFunction, contract: str, summary: str, amounts: dict[str, Amount]
    ) -> PreparedTransaction:
        try:
            estimate = fn.estimate_gas({"from": sender})
        except (ContractCustomError, ContractLogicError) as exc:
            raise _would_revert(exc) from None
        block = self.w3.eth.get_block("latest")
        base = int(block.get("baseFeePerGas", 0))
        tip = int(self.w3.eth.max_priority_fee)
        tx = UnsignedTransaction.model_validate(
            {
                "chainId": self.chain_id,
                "from": sender,
                "to": str(fn.address),
                "data": fn._encode_transaction_data(),
                "value": "0x0",
                "nonce": self.w3.eth.get_transaction_count(_addr(sender), "pending"),
                "gas": hex(estimate * 6 // 5 + GAS_MARGIN),
                "maxFeePerGas": hex(2 * base + tip),
                "maxPriorityFeePerGas": hex(tip),
            }
        )
        signature = f"{fn.fn_name}({','.join(_abi_type(dict(i)) for i in fn.abi['inputs'])})"
        return PreparedTransaction(
            contract=contract, function=signature, summary=summary, amounts=amounts, transaction=tx
        )

    def _require_allowance(self, owner: str, token: Any, spender: str, needed: int, what: str) -> None:
        allowance = int(call(token.functions.allowance(owner, spender)))
        if allowance < needed:
            raise Problem(
                422,
                "allowance_too_low",
                f"{what} needs an allowance of {needed} base units for {spender}; {owner} allows {allowance}: "
                "prepare an approve (prepareApprove) or a permit (preparePermit) first",
                "from",
            )

    # ------------------------------------------------------------ prepare
    def open_lease(self, s: Session, body: OpenLeaseIn) -> PreparedTransaction:
        sender = parse_address(body.from_, "from")
        asset = s.get(db.Asset, body.asset_id)
        if asset is None:
            raise Problem(404, "asset_not_found", f"no asset {body.asset_id}", "asset_id")
        cls = 0 if body.lease_class == "firm" else 1
        quote = int(call(self.market.functions.quote(body.asset_id, body.gpus, cls)))
        limit = (
            quote
            if body.max_price_per_gpu_hour is None
            else body.max_price_per_gpu_hour.units(stablecoin_decimals(), "max_price_per_gpu_hour")
        )
        rate = -(-body.gpus * quote * asset.epoch_length // 3600)
        prepaid = rate * body.epochs
        if quote <= limit:
            self._require_allowance(sender, self.coin, self.market.address, prepaid, "opening the lease")
        fn = self.market.functions.openLease(body.asset_id, body.gpus, body.epochs, cls, limit)
        summary = f"lease {body.gpus} GPUs of asset {body.asset_id} for {body.epochs} epochs ({body.lease_class})"
        amounts = {"price_per_gpu_hour": Amount.of(quote), "prepaid": Amount.of(prepaid)}
        return self._prepare(sender, fn, "LeaseMarket", summary, amounts)

    def extend_lease(self, s: Session, body: ExtendLeaseIn) -> PreparedTransaction:
        sender = parse_address(body.from_, "from")
        lease = self._lease(s, body.lease_id)
        paid = lease.rate_per_epoch * body.epochs
        self._require_allowance(sender, self.coin, self.market.address, paid, "topping the lease up")
        fn = self.market.functions.extendLease(body.lease_id, body.epochs)
        summary = f"top lease {body.lease_id} up by {body.epochs} epochs"
        return self._prepare(sender, fn, "LeaseMarket", summary, {"paid": Amount.of(paid)})

    def close_lease(self, s: Session, body: LeaseIn) -> PreparedTransaction:
        sender = parse_address(body.from_, "from")
        self._lease(s, body.lease_id)
        fn = self.market.functions.closeLease(body.lease_id)
        return self._prepare(sender, fn, "LeaseMarket", f"close lease {body.lease_id}", {})

    def claim_refund(self, s: Session, body: ClaimRefundIn) -> PreparedTransaction:
        sender = parse_address(body.from_, "from")
        to = parse_address(body.to, "to") if body.to else sender
        self._lease(s, body.lease_id)
        refund, credit = call(self.market.functions.refundable(body.lease_id))
        fn = self.market.functions.claimRefund(body.lease_id, to)
        amounts = {"refund": Amount.of(int(refund)), "service_credit": Amount.of(int(credit))}
        return self._prepare(sender, fn, "LeaseMarket", f"claim lease {body.lease_id}'s refunds to {to}", amounts)

    def claim_revenue(self, s: Session, body: ClaimRevenueIn) -> PreparedTransaction:
        sender = parse_address(body.from_, "from")
        to = parse_address(body.to, "to") if body.to else sender
        shares = self._shares(s, body.asset_id)
        claimable = int(call(shares.functions.claimable(sender)))
        fn = shares.functions.claim(to)
        summary = f"claim asset {body.asset_id}'s revenue to {to}"
        return self._prepare(sender, fn, "CapacityShares", summary, {"claimable": Amount.of(claimable)})

    def settle(self, s: Session, body: SettleIn) -> PreparedTransaction:
        """Anyone may settle: the epochs that would settle now, in order, up to `epochs`."""
        sender = parse_address(body.from_, "from")
        self._shares(s, body.asset_id)
        ready = int(call(self.market.functions.finalizeEpochs(body.asset_id, body.epochs)))
        if ready == 0:
            raise Problem(409, "nothing_to_settle", f"no epoch of asset {body.asset_id} can settle yet", "asset_id")
        fn = self.market.functions.finalizeEpochs(body.asset_id, ready)
        return self._prepare(sender, fn, "LeaseMarket", f"settle {ready} epochs of asset {body.asset_id}", {})

    def nav_update(self, s: Session, body: NavUpdateIn) -> PreparedTransaction:
        """Anyone may record the asset's NAV round once a newer epoch has settled."""
        sender = parse_address(body.from_, "from")
        self._shares(s, body.asset_id)
        feed = str(call(self.nav_factory.functions.oracleOf(body.asset_id)))
        if int(feed, 16) == 0:
            raise Problem(404, "no_nav_feed", f"asset {body.asset_id} has no NAV feed", "asset_id")
        oracle = self.w3.eth.contract(address=_addr(feed), abi=abi("NavOracle"))
        if not call(oracle.functions.update()):
            raise Problem(409, "nav_round_not_due", "no epoch settled since the last round", "asset_id")
        return self._prepare(sender, oracle.functions.update(), "NavOracle", f"record asset {body.asset_id}'s NAV", {})

    def buy_shares(self, s: Session, body: BuySharesIn) -> PreparedTransaction:
        sender = parse_address(body.from_, "from")
        shares = self._shares(s, body.asset_id)
        count = body.shares.units(SHARE_DECIMALS, "shares")
        _, price, _ = call(shares.functions.sale())
        limit = (
            int(price)
            if body.max_price_per_share is None
            else body.max_price_per_share.units(stablecoin_decimals(), "max_price_per_share")
        )
        cost = -(-count * int(price) // 10**18)
        if int(price) <= limit:
            self._require_allowance(sender, self.coin, shares.address, cost, "buying shares")
        fn = shares.functions.buy(count, limit)
        summary = f"buy {fmt_units(count, SHARE_DECIMALS)} shares of asset {body.asset_id}"
        amounts = {"price_per_share": Amount.of(int(price)), "cost": Amount.of(cost)}
        return self._prepare(sender, fn, "CapacityShares", summary, amounts)

    def transfer_shares(self, s: Session, body: TransferSharesIn) -> PreparedTransaction:
        sender = parse_address(body.from_, "from")
        to = parse_address(body.to, "to")
        shares = self._shares(s, body.asset_id)
        count = body.shares.units(SHARE_DECIMALS, "shares")
        fn = shares.functions.transfer(to, count)
        summary = f"transfer {fmt_units(count, SHARE_DECIMALS)} shares of asset {body.asset_id} to {to}"
        return self._prepare(sender, fn, "CapacityShares", summary, {"shares": Amount.of(count, SHARE_DECIMALS)})

    def approve(self, s: Session, body: ApproveIn) -> PreparedTransaction:
        sender = parse_address(body.from_, "from")
        token, decimals = self._token(s, body.token, "token")
        spender = self._spender(s, body.spender, "spender")
        value = body.amount.units(decimals, "amount")
        fn = token.functions.approve(spender, value)
        contract = "Stablecoin" if body.token == "stablecoin" else "CapacityShares"
        summary = f"allow {spender} to spend {fmt_units(value, decimals)} of {body.token}"
        return self._prepare(sender, fn, contract, summary, {"amount": Amount.of(value, decimals)})

    def permit(self, s: Session, body: PermitIn) -> PreparedPermit:
        owner = parse_address(body.owner, "owner")
        token, decimals = self._token(s, body.token, "token")
        spender = self._spender(s, body.spender, "spender")
        value = body.amount.units(decimals, "amount")
        if body.deadline <= time.time():
            raise Problem(422, "deadline_passed", f"the deadline {body.deadline} has passed", "deadline")
        domain = self._token_domain(token)
        nonce = int(call(token.functions.nonces(owner)))
        message = {"owner": owner, "spender": spender, "value": str(value), "nonce": nonce, "deadline": body.deadline}
        typed = typed_payment("Permit", domain, message)
        summary = f"permit {spender} to spend {fmt_units(value, decimals)} of {body.token} until {body.deadline}"
        return PreparedPermit(summary=summary, typed_data=typed, amount=Amount.of(value, decimals))

    def authorization(self, body: AuthorizationIn) -> PreparedAuthorization:
        """EIP-3009 ReceiveWithAuthorization typed data: the payment router (or `to`) collects it in the
        same transaction as the action it pays for (USDC requires the receiver to submit it)."""
        owner = parse_address(body.owner, "owner")
        to = self._spender_or_router(body.to)
        value = body.amount.units(stablecoin_decimals(), "amount")
        now = int(time.time())
        if body.valid_before <= max(now, body.valid_after):
            raise Problem(
                422,
                "deadline_passed",
                f"valid_before {body.valid_before} is not after now and valid_after",
                "valid_before",
            )
        nonce = body.nonce or "0x" + secrets.token_hex(32)
        message = {
            "from": owner,
            "to": to,
            "value": str(value),
            "validAfter": body.valid_after,
            "validBefore": body.valid_before,
            "nonce": nonce,
        }
        typed = typed_payment("ReceiveWithAuthorization", self._token_domain(self.coin), message)
        summary = f"authorize {to} to receive {fmt_units(value)} of the stablecoin until {body.valid_before}"
        return PreparedAuthorization(summary=summary, typed_data=typed, amount=Amount.of(value), nonce=nonce)

    def _spender_or_router(self, name: str) -> str:
        if name == "PaymentRouter":
            if name not in self.deployment.contracts:
                raise Problem(422, "no_payment_router", "this deployment has no PaymentRouter", "to")
            return _addr(self.deployment.address(name))
        return parse_address(name, "to")

    def _token_domain(self, token: Any) -> dict[str, Any]:
        """The token's EIP-712 domain: from EIP-5267 `eip712Domain()` where the token has it; otherwise (USDC's
        FiatToken v2.2) from `name()`, `version()`, this chain and the token's address, checked against its
        `DOMAIN_SEPARATOR()` so that a signature over it is one the token accepts."""
        try:
            _, name, version, chain_id, verifying, _, _ = token.functions.eip712Domain().call()
            return {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying}
        except (ContractCustomError, ContractLogicError, BadFunctionCallOutput, ValueError):
            pass
        t = self.w3.eth.contract(address=token.address, abi=_DOMAIN_ABI)
        try:
            name = t.functions.name().call()
            separator = bytes(t.functions.DOMAIN_SEPARATOR().call())
        except (ContractCustomError, ContractLogicError, BadFunctionCallOutput, ValueError):
            raise Problem(422, "no_permit", f"{token.address} has no EIP-712 domain (not a permit token)") from None
        try:
            version = t.functions.version().call()
        except (ContractCustomError, ContractLogicError, BadFunctionCallOutput, ValueError):
            version = "1"  # EIP-2612 tokens without version() sign with "1"
        domain = {"name": name, "version": version, "chainId": self.chain_id, "verifyingContract": token.address}
        if domain_separator(domain) != separator:
            raise Problem(
                422, "unknown_permit_domain", f"{token.address}'s DOMAIN_SEPARATOR matches no known domain layout"
            )
        return domain


_DOMAIN_ABI = [
    {"type": "function", "name": n, "inputs": [], "outputs": [{"name": "", "type": t}], "stateMutability": "view"}
    for n, t in (("name", "string"), ("version", "string"), ("DOMAIN_SEPARATOR", "bytes32"))
]


def call(fn: ContractFunction) -> Any:
    """A view call; a revert is the client's 422, naming the contract's error and its values."""
    try:
        return fn.call()
    except (ContractCustomError, ContractLogicError) as exc:
        raise _would_revert(exc) from None


def _would_revert(exc: ContractLogicError) -> Problem:
    err = revert_from(exc)
    args = ", ".join(f"{k}={v}" for k, v in err.error_args.items())
    return Problem(422, "would_revert", f"the transaction would revert: {err.error}({args})")


def _addr(value: str) -> ChecksumAddress:
    return Web3.to_checksum_address(value)


def _abi_type(item: dict[str, Any]) -> str:
    t: str = item["type"]
    if t.startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in item['components'])}){t[5:]}"
    return t

"""Sending transactions signed by a local key, with reverts decoded into named errors."""

from __future__ import annotations

from typing import Any, NamedTuple

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import TxParams, TxReceipt, Wei

from wellhead.chain.artifacts import abi, decode_error
from wellhead.chain.deployment import Deployment
from wellhead.core.errors import ContractRevertError, InsufficientFundsError

GAS_MARGIN = 10_000  # added to every padded estimate (a cold storage write the estimate could not see)


def revert_from(exc: ContractLogicError) -> ContractRevertError:
    """The named custom error inside a web3 revert exception."""
    data = exc.data if isinstance(exc.data, str) else None
    if data and data.startswith("0x") and len(data) >= 10:
        name, args = decode_error(bytes.fromhex(data[2:]))
        return ContractRevertError(name, args, data)
    return ContractRevertError("Reverted", {"message": str(exc)})


def send(w3: Web3, account: LocalAccount, fn: ContractFunction, value: int = 0, gas: int | None = None) -> TxReceipt:
    """Sign locally, send and wait for `fn`; raise ContractRevertError on a revert.

    Without `gas`, the limit is the estimate plus a fifth: the estimate runs against the latest block, and
    the transaction may land in a later second where time-dependent work (interest accrual, for one)
    writes storage the estimate skipped. Gas used is what it is; only the limit is padded."""
    try:
        params: TxParams = {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
            "value": Wei(value),
            "chainId": w3.eth.chain_id,
        }
        params["gas"] = gas if gas is not None else fn.estimate_gas(params) * 6 // 5 + GAS_MARGIN
        tx = fn.build_transaction(params)
    except (ContractCustomError, ContractLogicError) as exc:
        raise revert_from(exc) from None
    return send_tx(w3, account, dict(tx))


def send_tx(w3: Web3, account: LocalAccount, tx: dict[str, Any]) -> TxReceipt:
    cost = int(tx.get("gas", 0)) * int(tx.get("maxFeePerGas", tx.get("gasPrice", 0))) + int(tx.get("value", 0))
    balance = w3.eth.get_balance(account.address)
    if balance < cost:
        raise InsufficientFundsError(
            f"{account.address} holds {balance} wei but the transaction may cost {cost} wei; fund it"
        )
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    if receipt["status"] != 1:
        raise ContractRevertError("Reverted", {"tx": tx_hash.hex()})
    return receipt


def deploy_contract(w3: Web3, account: LocalAccount, name: str, *args: Any) -> tuple[Contract, TxReceipt]:
    from wellhead.chain.artifacts import artifact

    factory = w3.eth.contract(abi=abi(name), bytecode=artifact(name)["bytecode"])
    tx = factory.constructor(*args).build_transaction(
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
            "chainId": w3.eth.chain_id,
        }
    )
    receipt = send_tx(w3, account, dict(tx))
    address = receipt["contractAddress"]
    assert address is not None
    return w3.eth.contract(address=address, abi=abi(name)), receipt


class Protocol:
    """The deployed contracts of one network, as web3 contract objects."""

    def __init__(self, w3: Web3, deployment: Deployment) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.registry = self._at("CapacityRegistry")
        self.market = self._at("LeaseMarket")
        self.oracle = self._at("MetricsOracle")
        self.stablecoin = w3.eth.contract(
            address=Web3.to_checksum_address(deployment.address("Stablecoin")), abi=abi("TestStablecoin")
        )

    def _at(self, name: str) -> Contract:
        address = Web3.to_checksum_address(self.deployment.address(name))
        # struct outputs decode as named tuples: read by field name, never by position
        contract: Contract = self.w3.eth.contract(address=address, abi=abi(name), decode_tuples=True)
        return contract

    @property
    def grid(self) -> Contract:
        return self._at("GridLedger")

    @property
    def nav_factory(self) -> Contract:
        return self._at("NavOracleFactory")

    @property
    def credit(self) -> Contract:
        return self._at("CreditMarket")

    @property
    def btc_credit(self) -> Contract:
        """The BTC market (wrapped bitcoin as collateral on a Chainlink BTC / USD feed)."""
        return self._at("BtcCreditMarket")

    @property
    def wbtc(self) -> Contract:
        """The BTC market's collateral token (the devnet's TestWrappedBtc, or WBTC, cbBTC, tBTC)."""
        address = self.btc_credit.functions.collateralToken().call()
        contract: Contract = self.w3.eth.contract(address=address, abi=abi("TestWrappedBtc"))
        return contract

    @property
    def btc_usd(self) -> Contract:
        """The BTC market's Chainlink BTC / USD feed (the devnet's TestAggregator)."""
        address = self.btc_credit.functions.priceFeed().call()
        contract: Contract = self.w3.eth.contract(address=address, abi=abi("TestAggregator"))
        return contract

    def nav(self, asset_id: int) -> Contract:
        """The asset's NAV feed (zero address when the operator has not created one)."""
        address = self.nav_factory.functions.oracleOf(asset_id).call()
        contract: Contract = self.w3.eth.contract(address=address, abi=abi("NavOracle"), decode_tuples=True)
        return contract

    def shares(self, asset_id: int) -> Contract:
        address = self.registry.functions.terms(asset_id).call().shares
        contract: Contract = self.w3.eth.contract(address=address, abi=abi("CapacityShares"))
        return contract

    @property
    def chain_id(self) -> int:
        return self.deployment.chain_id


def nav_price(nav: Contract) -> int:
    """`NavOracle.latestPrice().pricePerShare`: the NAV, base units per whole share at the latest round."""
    price, _epoch, _stale = nav.functions.latestPrice().call()
    return int(price)


class LendingPrice(NamedTuple):
    """`NavOracle.lendingPrice()`: what the credit market lends and liquidates at."""

    price: int
    epoch: int
    stale: bool
    seasoned: bool


def lending_price(nav: Contract) -> LendingPrice:
    price, epoch, stale, seasoned = nav.functions.lendingPrice().call()
    return LendingPrice(int(price), int(epoch), bool(stale), bool(seasoned))

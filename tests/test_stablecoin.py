"""The stablecoin as it really is: admission at deploy (code, decimals, fees), Circle's FiatToken v2.2, and the
gateway's permit and EIP-3009 payloads signed and accepted by the real token."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.abi import function_signature_to_4byte_selector
from web3 import Web3
from web3.types import Wei

from tests.support.chain import assert_one_line_error
from tests.support.chain import run_cli as run
from tests.support.fiattoken import deploy_fiat_token
from wellhead.chain.artifacts import abi
from wellhead.chain.client import deploy_contract, send
from wellhead.chain.deploy import deploy_protocol
from wellhead.chain.deployment import Deployment
from wellhead.chain.eip712 import domain_separator
from wellhead.chain.params import ProtocolParams
from wellhead.chain.payments import AUTHORIZATION
from wellhead.core.errors import ConfigError, ContractRevertError
from wellhead.devkit.anvil import Anvil
from wellhead.gateway.schemas.common import AmountIn
from wellhead.gateway.schemas.transactions import AuthorizationIn, PermitIn
from wellhead.gateway.services.writes import Writes


def test_deploy_refuses_a_stablecoin_without_code_decimals_or_supported_decimals(
    anvil: Anvil, w3: Web3, dev_keys: list[LocalAccount], deployment: Deployment, tmp_path: Path
) -> None:
    dev_key = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"  # anvil account 4
    common = ("--rpc-url", anvil.url, "--network", "admission", "--deployments", str(tmp_path))
    env = {"WELLHEAD_DEPLOYER_KEY": dev_key}
    nowhere = "0x" + "de" * 20
    assert_one_line_error(run("deploy", *common, "--stablecoin", nowhere, env=env), "has no contract code")
    market = deployment.address("LeaseMarket")
    assert_one_line_error(run("deploy", *common, "--stablecoin", market, env=env), "does not answer decimals()")
    nineteen, _ = deploy_contract(w3, dev_keys[4], "TestAggregator", dev_keys[4].address, 19, "19 decimals", 1)
    proc = run("deploy", *common, "--stablecoin", nineteen.address, env=env)
    assert_one_line_error(proc, "has 19 decimals", "supports 2 to 18")
    assert_one_line_error(run("deploy", *common, "--treasury", "0x12", env=env), "--treasury is not an address")
    assert not (tmp_path / "admission.json").exists(), "nothing deployed"
    # the library refuses it too, for every caller
    with pytest.raises(ConfigError, match="has no contract code"):
        deploy_protocol(w3, dev_keys[4], "x", ProtocolParams(treasury=dev_keys[4].address), stablecoin=nowhere)


def test_fee_on_transfer_stablecoin_is_refused_with_a_named_error(w3: Web3, dev_keys: list[LocalAccount]) -> None:
    me = dev_keys[5]
    fee, _ = deploy_contract(w3, me, "TestFeeToken")
    record = deploy_protocol(w3, me, "fee", ProtocolParams(treasury=me.address), stablecoin=fee.address)
    credit = w3.eth.contract(address=record.address("CreditMarket"), abi=abi("CreditMarket"))
    send(w3, me, fee.functions.mint(me.address, 10**9))
    send(w3, me, fee.functions.approve(credit.address, 2**256 - 1))
    with pytest.raises(ContractRevertError) as caught:
        send(w3, me, credit.functions.deposit(10**8, me.address))
    assert caught.value.error == "TokenTransferShort", caught.value
    assert caught.value.error_args == {"token": fee.address, "expected": 10**8, "received": 99 * 10**6}
    assert fee.functions.balanceOf(credit.address).call() == 0, "nothing moved"


def test_minimums_scale_with_the_stablecoins_decimals(w3: Web3, dev_keys: list[LocalAccount]) -> None:
    me = dev_keys[5]
    fiat = deploy_fiat_token(w3, me, me, dev_keys[6].address)  # 6 decimals, but through the real token
    record = deploy_protocol(w3, me, "usdc", ProtocolParams(treasury=me.address), stablecoin=fiat.address)
    registry = w3.eth.contract(
        address=record.address("CapacityRegistry"), abi=abi("CapacityRegistry"), decode_tuples=True
    )
    market = w3.eth.contract(address=record.address("LeaseMarket"), abi=abi("LeaseMarket"))
    params = registry.functions.protocolParams().call()
    assert registry.functions.wholeCoin().call() == 10**6
    assert params.minBond == 1_000 * 10**6 and params.challengeBond == 100 * 10**6, "whole coins at 6 decimals"
    assert market.functions.minEnergyIncome().call() == 10**4, "a hundredth of a coin"
    target, selector = registry.functions.blocklist().call()
    assert target == fiat.address, "USDC's own blocklist"
    assert bytes(selector) == function_signature_to_4byte_selector("isBlacklisted(address)")
    # an 18-decimal coin: the same defaults in its units
    assert ProtocolParams(treasury=me.address).as_tuple(10**18)[2] == 1_000 * 10**18


def _sign(account: LocalAccount, typed: dict[str, Any]) -> tuple[int, bytes, bytes]:
    signed = Account.sign_typed_data(account.key, full_message=typed)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def test_gateway_permit_and_authorization_are_accepted_by_real_usdc(w3: Web3, dev_keys: list[LocalAccount]) -> None:
    issuer, payer = dev_keys[5], Account.create()
    fiat = deploy_fiat_token(w3, issuer, issuer, dev_keys[6].address)
    record = deploy_protocol(w3, issuer, "usdc-gw", ProtocolParams(treasury=issuer.address), stablecoin=fiat.address)
    send(w3, issuer, fiat.functions.mint(payer.address, 1_000 * 10**6))
    w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": payer.address, "value": Wei(10**18)})
    writes = Writes(w3, record, confirmations=1)

    # FiatToken v2.2 has no eip712Domain(): the domain comes from name(), version() and DOMAIN_SEPARATOR()
    domain = writes._token_domain(writes.coin)
    assert domain["name"] == "USD Coin" and domain["version"] == "2"
    assert domain_separator(domain) == bytes(fiat.functions.DOMAIN_SEPARATOR().call()), (
        "the domain the gateway signs over is the one USDC checks"
    )

    router = w3.eth.contract(address=record.address("PaymentRouter"), abi=abi("PaymentRouter"))
    deadline = int(time.time()) + 3600
    # a session is only needed for shares
    permit = writes.permit(
        None,  # type: ignore[arg-type]
        PermitIn(
            owner=payer.address,
            token="stablecoin",
            spender=router.address,
            amount=AmountIn(decimal="25"),
            deadline=deadline,
        ),
    )
    v, r, s = _sign(payer, permit.typed_data)
    send(w3, issuer, fiat.functions.permit(payer.address, router.address, 25 * 10**6, deadline, v, r, s))
    assert fiat.functions.allowance(payer.address, router.address).call() == 25 * 10**6, "USDC took the permit"

    # EIP-3009: the router receives the payment and supplies the credit vault in one transaction
    credit = w3.eth.contract(address=record.address("CreditMarket"), abi=abi("CreditMarket"))
    auth = writes.authorization(
        AuthorizationIn(owner=payer.address, amount=AmountIn(decimal="100"), valid_before=deadline)
    )
    v, r, s = _sign(payer, auth.typed_data)
    payment = (AUTHORIZATION, 100 * 10**6, 0, deadline, bytes.fromhex(auth.nonce[2:]), v, r, s)
    send(w3, payer, router.functions.supply(payment, credit.address, 100 * 10**6))
    assert credit.functions.maxWithdraw(payer.address).call() == 100 * 10**6, "supplied in one transaction"
    assert fiat.functions.balanceOf(router.address).call() == 0, "the router keeps nothing"
    # replayed: a named error, nothing moved
    with pytest.raises(ContractRevertError) as caught:
        send(w3, payer, router.functions.supply(payment, credit.address, 100 * 10**6))
    assert caught.value.error == "PaymentAuthorizationRejected", caught.value


def test_gateway_domain_of_a_token_with_eip5267_matches_its_separator(w3: Web3, deployment: Deployment) -> None:
    writes = Writes(w3, deployment, confirmations=1)
    domain = writes._token_domain(writes.coin)
    assert domain_separator(domain) == bytes(writes.coin.functions.DOMAIN_SEPARATOR().call())

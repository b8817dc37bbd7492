"""Genesis: the chain's id, authorities and initial allocations, and the devnet's.

The genesis hash is the parent hash of block 1, so every block commits to the
exact genesis it extends; two nodes with different allocations cannot agree on
any block. The devnet genesis is fully deterministic (fixed timestamp, fixed
keys) so every developer's `ait-devnet` is the same chain, like anvil's
accounts. Its keys are derived from public strings: they are UNSAFE and
anyone can spend those funds; `is_devnet` marks the chain so other code can
refuse devnet-only controls elsewhere.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from aitbc_daemon.atomic_files import write_atomically
from aitbc_daemon.chain.amounts import MAX_AMOUNT, UNIT, check_amount
from aitbc_daemon.chain.encoding import canonical_json, parse_json_strict, sha256_hex
from aitbc_daemon.chain.errors import ChainError, InvalidGenesis
from aitbc_daemon.chain.params import ChainParams, params_from_dict
from aitbc_daemon.chain.params import write_initial_state as write_params_state
from aitbc_daemon.chain.state import CHAIN_MODULE, ISSUED_KEY, ChainState, state_from_allocations
from aitbc_daemon.chain.tx import validate_chain_id
from aitbc_daemon.dao.params import DaoConfig, dao_from_dict
from aitbc_daemon.dao.params import write_initial_state as write_dao_state
from aitbc_daemon.exchange.market import ExchangeConfig, exchange_from_dict
from aitbc_daemon.exchange.market import write_initial_state as write_exchange_state
from aitbc_daemon.staking.pools import (
    PoolParams,
    StakingConfig,
    check_total,
    staking_from_dict,
    write_initial_state,
)
from aitbc_daemon.wallet.addresses import InvalidAddress, address_from_public_key, decode_address

DEVNET_CHAIN_ID = "ait-devnet"
DEVNET_ACCOUNTS = 10
DEVNET_BALANCE = 1_000_000 * UNIT
DEVNET_TIMESTAMP = 1_767_225_600  # 2026-01-01T00:00:00Z, fixed so the devnet genesis hash is too
DEVNET_BLOCK_TIME = 2
MAX_BLOCK_TIME = 3600
GENESIS_FIELDS = ("chain_id", "timestamp", "authorities", "allocations", "block_time", "is_devnet")
# Left out of the dict (and so the hash) when absent.
OPTIONAL_GENESIS_FIELDS = ("staking", "dao", "params", "exchange")
DEVNET_TREASURY = 1_000_000 * UNIT  # issued at genesis into the DAO treasury
DEVNET_COUNCIL = (1, 2, 3)  # dev accounts on the DAO council ...
DEVNET_COUNCIL_THRESHOLD = 2  # ... 2 of 3 of them decide
DEVNET_REPORTER = 0  # dev account that may post staking reports on the devnet (the authority)
DEVNET_BRIDGE = 0  # dev account that credits bridged BTC on the devnet (`aitbc exchange faucet-btc`)

_PUBLIC_KEY_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Authority:
    """A block proposer: its address and the public key that signs its blocks."""

    address: str
    public_key: str  # hex


@dataclass(frozen=True)
class Genesis:
    chain_id: str
    timestamp: int  # seconds since the epoch; block 1 may not be earlier
    authorities: tuple[Authority, ...]  # propose in this order, round robin by height
    allocations: tuple[tuple[str, int], ...]  # (address, units), sorted by address
    block_time: int  # seconds between blocks when producing on an interval
    is_devnet: bool
    staking: StakingConfig | None = None  # pools and their budgets (see aitbc_daemon.staking)
    dao: DaoConfig | None = None  # treasury, council, settings (see aitbc_daemon.dao)
    params: ChainParams | None = None  # min_fee, block_reward (see aitbc_daemon.chain.params)
    exchange: ExchangeConfig | None = None  # bridges, rate, fee (see aitbc_daemon.exchange)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "chain_id": self.chain_id,
            "timestamp": self.timestamp,
            "authorities": [a.public_key for a in self.authorities],
            "allocations": {address: amount for address, amount in self.allocations},
            "block_time": self.block_time,
            "is_devnet": self.is_devnet,
        }
        if self.staking is not None:
            data["staking"] = self.staking.to_dict()
        if self.dao is not None:
            data["dao"] = self.dao.to_dict()
        if self.params is not None:
            data["params"] = self.params.to_dict()
        if self.exchange is not None:
            data["exchange"] = self.exchange.to_dict()
        return data

    @property
    def hash(self) -> str:
        return sha256_hex(canonical_json(self.to_dict()))

    @property
    def total_supply(self) -> int:
        """Allocations plus the staking pools' emission budgets: everything issued at genesis."""
        budgets = self.staking.total_budget if self.staking is not None else 0
        treasury = self.dao.treasury if self.dao is not None else 0
        return sum(amount for _, amount in self.allocations) + budgets + treasury

    def authority_for_height(self, height: int) -> Authority:
        """Whose turn it is to propose block `height` (height 1 is the first authority's)."""
        return self.authorities[(height - 1) % len(self.authorities)]

    def authority_by_address(self, address: str) -> Authority | None:
        for authority in self.authorities:
            if authority.address == address:
                return authority
        return None

    def initial_state(self) -> ChainState:
        state = state_from_allocations(self.allocations)
        if self.staking is not None:
            write_initial_state(state, self.staking, self.timestamp)
        if self.dao is not None:
            write_dao_state(state, self.dao, self.timestamp)
        if self.params is not None:
            write_params_state(state, self.params)
        if self.exchange is not None:
            write_exchange_state(state, self.exchange)
        state.kv[(CHAIN_MODULE, ISSUED_KEY)] = self.total_supply
        return state


def genesis_from_dict(data: object) -> Genesis:
    """A validated Genesis from decoded JSON; every problem names the field."""
    if not isinstance(data, dict):
        raise InvalidGenesis("genesis must be a JSON object")
    unknown = sorted(set(data) - set(GENESIS_FIELDS) - set(OPTIONAL_GENESIS_FIELDS), key=str)
    if unknown:
        raise InvalidGenesis(f"unknown genesis field(s): {', '.join(map(str, unknown))}")
    missing = [name for name in GENESIS_FIELDS if name not in data]
    if missing:
        raise InvalidGenesis(f"missing genesis field(s): {', '.join(missing)}")
    try:
        chain_id = validate_chain_id(data["chain_id"])
    except ChainError as exc:
        raise InvalidGenesis(str(exc)) from None
    timestamp = data["timestamp"]
    if type(timestamp) is not int or not 0 <= timestamp <= 2**40:
        raise InvalidGenesis("timestamp must be a non-negative integer of seconds since the epoch")
    block_time = data["block_time"]
    if type(block_time) is not int or not 1 <= block_time <= MAX_BLOCK_TIME:
        raise InvalidGenesis(f"block_time must be an integer from 1 to {MAX_BLOCK_TIME} seconds")
    is_devnet = data["is_devnet"]
    if type(is_devnet) is not bool:
        raise InvalidGenesis("is_devnet must be true or false")
    if chain_id == DEVNET_CHAIN_ID and not is_devnet:
        raise InvalidGenesis(f"chain {DEVNET_CHAIN_ID!r} must be marked is_devnet")
    authorities = _authorities(data["authorities"])
    allocations = _allocations(data["allocations"])
    staking = staking_from_dict(data["staking"]) if "staking" in data else None
    if staking is not None:
        check_total(sum(amount for _, amount in allocations), staking)
    dao = dao_from_dict(data["dao"]) if "dao" in data else None
    if dao is not None and (
        sum(amount for _, amount in allocations) + (staking.total_budget if staking else 0) + dao.treasury
        > MAX_AMOUNT
    ):
        raise InvalidGenesis(f"allocations, staking budgets and the dao treasury total more than {MAX_AMOUNT}")
    params = params_from_dict(data["params"]) if "params" in data else None
    exchange = exchange_from_dict(data["exchange"]) if "exchange" in data else None
    return Genesis(
        chain_id, timestamp, authorities, allocations, block_time, is_devnet, staking, dao, params, exchange
    )


def _authorities(value: object) -> tuple[Authority, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidGenesis("authorities must be a non-empty list of ed25519 public keys (hex)")
    result = []
    for public_key in value:
        if not isinstance(public_key, str) or _PUBLIC_KEY_HEX.fullmatch(public_key) is None:
            raise InvalidGenesis(f"authority {public_key!r} is not 32 bytes of lower-case hex")
        result.append(Authority(address_from_public_key(bytes.fromhex(public_key)), public_key))
    if len({a.public_key for a in result}) != len(result):
        raise InvalidGenesis("authorities must be distinct")
    return tuple(result)


def _allocations(value: object) -> tuple[tuple[str, int], ...]:
    if not isinstance(value, dict):
        raise InvalidGenesis("allocations must be an object of address -> units")
    result = []
    for address, amount in value.items():
        try:
            decode_address(address)
            check_amount(amount, field=f"allocation of {address}")
        except (InvalidAddress, ChainError) as exc:
            raise InvalidGenesis(str(exc)) from None
        result.append((address, amount))
    if sum(amount for _, amount in result) > MAX_AMOUNT:
        raise InvalidGenesis(f"allocations total more than the maximum supply {MAX_AMOUNT}")
    return tuple(sorted(result))


def load_genesis(path: Path) -> Genesis:
    try:
        data = parse_json_strict(Path(path).read_bytes())
    except OSError as exc:
        raise InvalidGenesis(f"cannot read genesis file {path}: {exc.strerror}") from None
    except ChainError as exc:
        raise InvalidGenesis(f"genesis file {path}: {exc}") from None
    return genesis_from_dict(data)


def save_genesis(genesis: Genesis, path: Path) -> None:
    """Write atomically (temp file, fsync, rename): a half-written genesis must never be read."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, canonical_json(genesis.to_dict()) + b"\n", mode=0o644)


# --- devnet --------------------------------------------------------------------------------


DAY = 24 * 3600
DEVNET_POOLS = (
    # Flexible: no lock, 0.01 AIT/s for the whole pool, 100,000 AIT budget (about 116 days).
    PoolParams("gpu-flex", reward_rate=UNIT // 100, lock_seconds=0, early_exit_penalty_bps=0,
               budget=100_000 * UNIT),
    # 30-day lock, five times the rate, 10% early-exit penalty, 500,000 AIT budget.
    PoolParams("gpu-30d", reward_rate=UNIT // 20, lock_seconds=30 * DAY, early_exit_penalty_bps=1_000,
               budget=500_000 * UNIT),
)


def devnet_signing_key(index: int) -> SigningKey:
    """Dev account `index`'s key. UNSAFE: derived from a public string, never hold real value."""
    seed = hashlib.sha256(b"aitbc devnet UNSAFE dev account %d" % index).digest()
    return SigningKey(seed)


def devnet_signing_keys(count: int = DEVNET_ACCOUNTS) -> list[SigningKey]:
    return [devnet_signing_key(i) for i in range(count)]


def devnet_genesis(
    *,
    accounts: int = DEVNET_ACCOUNTS,
    balance: int = DEVNET_BALANCE,
    timestamp: int = DEVNET_TIMESTAMP,
    staking: bool = True,
    dao: bool = True,
    exchange: bool = True,
) -> Genesis:
    """The `ait-devnet` genesis: dev accounts 0..n-1 funded, dev account 0 the only authority.

    With `staking` (the default) it also has the `DEVNET_POOLS`, dev account 0 as
    the staking reporter. With `dao` (the default) it has a DAO treasury of
    `DEVNET_TREASURY` and dev accounts 1-3 as its council (2 of 3). With `exchange`
    (the default) dev account 0 is the exchange's BTC bridge, at the default rate and fee.
    """
    keys = devnet_signing_keys(accounts)
    extra: dict[str, Any] = {}
    if staking:
        extra["staking"] = {
            "pools": {p.id: p.to_dict() for p in DEVNET_POOLS},
            "reporters": [address_from_public_key(bytes(keys[DEVNET_REPORTER].verify_key))],
        }
    if dao:
        council = [address_from_public_key(bytes(keys[i].verify_key)) for i in DEVNET_COUNCIL if i < accounts]
        extra["dao"] = {
            "treasury": DEVNET_TREASURY,
            "council": council,
            "council_threshold": min(DEVNET_COUNCIL_THRESHOLD, len(council)),
        }
    if exchange:
        extra["exchange"] = {"bridges": [address_from_public_key(bytes(keys[DEVNET_BRIDGE].verify_key))]}
    return genesis_from_dict(
        {
            **extra,
            "chain_id": DEVNET_CHAIN_ID,
            "timestamp": timestamp,
            "authorities": [bytes(keys[0].verify_key).hex()],
            "allocations": {
                address_from_public_key(bytes(key.verify_key)): balance for key in keys
            },
            "block_time": DEVNET_BLOCK_TIME,
            "is_devnet": True,
        }
    )

"""The exchange as the genesis declares it, its governed settings, kv layout and supply holder.

Genesis section (optional; a genesis without it hashes exactly as before):

    "exchange": {
      "bridges": ["ait1..."],      # may sign `btc_deposit` (credit bridged BTC)
      "rate": 100000000000,        # AIT units per 1 BTC (default 100,000 AIT)
      "fee_bps": 30                # taker fee, basis points of the BTC quote (default 0.3%)
    }

A chain without the section still has an exchange (order book and buys at the
default settings) but no bridge, so no BTC ever exists on it.

Units: AIT in units (10**6 per AIT), BTC in satoshi (10**8 per BTC). A limit
price is satoshi per 1 AIT (an integer >= 1).

State (kv module "exchange"): `settings` {rate, fee_bps} (only once the genesis
or a DAO parameter change set them), `bridges`, `btc:<address>` (satoshi),
`btc_supply` (every satoshi ever deposited: the bridged asset's explicit mints),
`treasury_btc` (BTC paid for treasury AIT and taker fees), `locked_btc` / `locked_ait`
(held by open orders), `next_order`, `order:<id>`, `level:<side>:<price>` (FIFO of
order ids), `prices:<side>` (sorted active prices), `orders:<address>` (open ids),
`next_trade`, `trade:<id>`.

BTC conservation: sum(btc:*) + treasury_btc + locked_btc == btc_supply.
AIT locked in sell orders is counted by the supply holder, so circulating == issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aitbc_daemon.chain.amounts import UNIT
from aitbc_daemon.chain.errors import InvalidGenesis
from aitbc_daemon.chain.state import ChainState, register_supply_holder
from aitbc_daemon.wallet.addresses import InvalidAddress, decode_address

MODULE = "exchange"
SAT_PER_BTC = 10**8
BPS = 10_000
DEFAULT_RATE = 100_000 * UNIT  # AIT units per BTC: 1 BTC = 100,000 AIT
DEFAULT_FEE_BPS = 30
# (min, max) of the governable settings (dao parameter-change `exchange.rate` / `exchange.fee_bps`)
SETTING_BOUNDS: dict[str, tuple[int, int]] = {"rate": (1, 10**15), "fee_bps": (0, 1_000)}
MAX_PRICE = 10**12  # satoshi per AIT: 10,000 BTC for one AIT is plenty

SETTINGS_KEY = "settings"
BRIDGES_KEY = "bridges"
BTC_SUPPLY_KEY = "btc_supply"
TREASURY_BTC_KEY = "treasury_btc"
LOCKED_BTC_KEY = "locked_btc"
LOCKED_AIT_KEY = "locked_ait"
NEXT_ORDER_KEY = "next_order"
NEXT_TRADE_KEY = "next_trade"
BUY, SELL = "buy", "sell"
SIDES = (BUY, SELL)
LIMIT, MARKET = "limit", "market"


def btc_key(address: str) -> str:
    return f"btc:{address}"


def order_key(order_id: int) -> str:
    return f"order:{order_id}"


def trade_key(trade_id: int) -> str:
    return f"trade:{trade_id}"


def owner_key(address: str) -> str:
    return f"orders:{address}"


@dataclass(frozen=True)
class ExchangeConfig:
    bridges: tuple[str, ...]
    rate: int = DEFAULT_RATE
    fee_bps: int = DEFAULT_FEE_BPS

    def to_dict(self) -> dict[str, Any]:
        return {"bridges": list(self.bridges), "rate": self.rate, "fee_bps": self.fee_bps}


def check_setting(name: str, value: object) -> int:
    """`value` if `name` is an exchange setting and the value is in bounds; ValueError otherwise."""
    if name not in SETTING_BOUNDS:
        raise ValueError(f"unknown exchange setting {name!r} (known: {', '.join(sorted(SETTING_BOUNDS))})")
    low, high = SETTING_BOUNDS[name]
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"exchange setting {name} must be an integer from {low} to {high}")
    return value


def exchange_from_dict(data: object) -> ExchangeConfig:
    """The genesis `exchange` section, validated; every problem names the field."""
    if not isinstance(data, dict):
        raise InvalidGenesis("exchange must be an object with bridges and optionally rate, fee_bps")
    unknown = sorted(set(data) - {"bridges", "rate", "fee_bps"})
    if unknown:
        raise InvalidGenesis(f"unknown exchange field(s): {', '.join(map(str, unknown))}")
    bridges = data.get("bridges", [])
    if not isinstance(bridges, list):
        raise InvalidGenesis("exchange.bridges must be a list of addresses")
    for address in bridges:
        try:
            decode_address(address)
        except (InvalidAddress, TypeError, AttributeError) as exc:
            raise InvalidGenesis(f"exchange bridge {address!r}: {exc}") from None
    if len(set(bridges)) != len(bridges):
        raise InvalidGenesis("exchange.bridges must be distinct")
    values = {}
    for name, default in (("rate", DEFAULT_RATE), ("fee_bps", DEFAULT_FEE_BPS)):
        try:
            values[name] = check_setting(name, data.get(name, default))
        except ValueError as exc:
            raise InvalidGenesis(str(exc)) from None
    return ExchangeConfig(tuple(bridges), values["rate"], values["fee_bps"])


def write_initial_state(state: ChainState, config: ExchangeConfig) -> None:
    state.kv[(MODULE, BRIDGES_KEY)] = list(config.bridges)
    state.kv[(MODULE, SETTINGS_KEY)] = {"rate": config.rate, "fee_bps": config.fee_bps}


def settings(view: Any) -> dict[str, int]:
    """{rate, fee_bps}: what the genesis or governance set, else the defaults."""
    stored = view.kv_get(MODULE, SETTINGS_KEY) or {}
    return {"rate": DEFAULT_RATE, "fee_bps": DEFAULT_FEE_BPS, **stored}


def bridges(view: Any) -> list[str]:
    return list(view.kv_get(MODULE, BRIDGES_KEY) or [])


def int_value(view: Any, key: str) -> int:
    return int(view.kv_get(MODULE, key) or 0)


def btc_balance(view: Any, address: str) -> int:
    return int(view.kv_get(MODULE, btc_key(address)) or 0)


def put(state: Any, key: str, value: Any) -> None:
    """Write one exchange kv value into a transition's overlay (None deletes).

    Why not `kv_put`: it canonical-encodes every value to check it, and the
    state hash encodes every written value again at the end of the block; on
    the matching path that first encoding was a fifth of the time. Every value
    written here is built by this module from ints (bounded by MAX_AMOUNT or
    smaller), addresses and fixed strings, so it is encodable by construction,
    and the block's state hash still encodes (and would refuse) each of them.
    """
    state.kv[(MODULE, key)] = value


def add_int(state: Any, key: str, change: int) -> int:
    """Add `change` to an integer key (a zero result deletes it, so empty keys stay out of the hash)."""
    value = int(state.kv_get(MODULE, key) or 0) + change
    if value < 0:  # a bug, never a user's doing: every caller checks funds first
        raise AssertionError(f"exchange {key} would go negative ({value})")
    put(state, key, value or None)
    return value


def load_order(view: Any, order_id: int) -> dict[str, Any] | None:
    value = view.kv_get(MODULE, order_key(order_id))
    return None if value is None else dict(value)


def open_orders(view: Any, address: str) -> list[int]:
    return list(view.kv_get(MODULE, owner_key(address)) or [])


def units_held(state: ChainState) -> int:
    """AIT units locked in open sell orders (taken from balances, owed back or to buyers)."""
    return int(state.kv.get((MODULE, LOCKED_AIT_KEY)) or 0)


register_supply_holder(MODULE, units_held)

"""Voting power, checkpointed per block, with O(log n) look-ups and a time-weighted average.

Power of an address = its balance + its staked principal ("own" power). By
default every address delegates to itself; `dao_delegate` moves its own power
to another address (the delegate), so

    power(D) = own(D) if D has not delegated away, plus own(d) for each d delegating to D.

How checkpoints are written (one design, in one place): an end-of-block hook
(`record_block`, registered with the chain) looks at the block's own writes.
Every change of own power is a change of that address's balance (a transfer,
a fee, a stake or unstake, a reward claim, a grant...): `apply_transaction`
always writes the sender's balance, so the block overlay's `balances` keys
are a superset of the addresses whose own power changed. Delegation changes
are the overlay's `delegate:*` writes. For each such address the hook
recomputes the power of its delegate now and of its delegate before the block,
and appends a checkpoint when the power differs from the last one. So a
checkpoint holds the power at the END of a block: power bought and sold inside
one block never shows, and a proposal's snapshot (the state just before its
voting starts) is always a strictly past block.

Checkpoint i of address A is [height, timestamp, power, cum]: the latest one
is kept with the count in kv `cpn:A` = [count, height, timestamp, power, cum]
(so a new address costs one kv write), earlier ones in `cp:A:i`. Heights and
timestamps only grow, so a look-up is a binary search over i (O(log n) kv
reads) and a write is O(1). `cum` (a decimal
string: it outgrows 2**53) is the integral of power over time from the first
checkpoint to this one's timestamp, so the integral up to any time t is

    I(t) = cum_k + power_k * (t - ts_k)      (k: the last checkpoint with ts_k <= t)

and the time-weighted average power over [t - w, t] is (I(t) - I(t - w)) // w:
two binary searches, whatever the number of checkpoints in the window.
Before an address's first checkpoint its power is 0.
"""

from __future__ import annotations

from typing import Any

from aitbc_daemon.chain.state import ChainState, StateOverlay
from aitbc_daemon.chain.txtypes import BlockContext, register_end_block_hook
from aitbc_daemon.dao.params import MODULE, delegate_key, delegators_key, enabled
from aitbc_daemon.staking.txtypes import staked_amount

HEIGHT, TIME, POWER, CUM = 0, 1, 2, 3


def _count_key(address: str) -> str:
    return f"cpn:{address}"


def _cp_key(address: str, index: int) -> str:
    return f"cp:{address}:{index}"


def _head(view: Any, address: str) -> list[Any] | None:
    """[count, height, timestamp, power, cum]: the count and the latest checkpoint, in one key."""
    return view.kv_get(MODULE, _count_key(address))


def checkpoint_count(view: Any, address: str) -> int:
    head = _head(view, address)
    return 0 if head is None else int(head[0])


def checkpoint(view: Any, address: str, index: int) -> list[Any]:
    head = _head(view, address)
    assert head is not None and 0 <= index < head[0], f"checkpoint {index} of {address} missing"
    if index == head[0] - 1:
        return head[1:]
    value = view.kv_get(MODULE, _cp_key(address, index))
    assert value is not None, f"checkpoint {index} of {address} missing"
    return value


def genesis_checkpoint(state: ChainState, address: str, power: int, timestamp: int) -> None:
    state.kv[(MODULE, _count_key(address))] = [1, 0, timestamp, power, "0"]


def write_checkpoint(state: StateOverlay, address: str, height: int, timestamp: int, power: int) -> None:
    """Append (height, timestamp, power), unless the power did not change.

    The latest checkpoint lives with the count (`cpn:A`); appending moves it to
    `cp:A:<i>`. So an address's first checkpoint costs one kv write, later ones two.
    """
    head = _head(state, address)
    if head is None:
        state.kv_put(MODULE, _count_key(address), [1, height, timestamp, power, "0"])
        return
    count, last = int(head[0]), head[1:]
    if last[POWER] == power:
        return
    if last[HEIGHT] == height:  # twice in one block (not done by the hook): keep the latest
        state.kv_put(MODULE, _count_key(address), [count, height, timestamp, power, last[CUM]])
        return
    cum = int(last[CUM]) + last[POWER] * (timestamp - last[TIME])
    state.kv_put(MODULE, _cp_key(address, count - 1), list(last))
    state.kv_put(MODULE, _count_key(address), [count + 1, height, timestamp, power, str(cum)])


def _last_index(view: Any, address: str, field: int, value: int, *, strict: bool) -> int:
    """The last checkpoint index whose `field` is < value (strict) or <= value; -1 if none."""
    low, high = 0, checkpoint_count(view, address)  # answer in [low - 1, high - 1]
    while low < high:
        middle = (low + high) // 2
        found = checkpoint(view, address, middle)[field]
        if found < value or (not strict and found == value):
            low = middle + 1
        else:
            high = middle
    return low - 1


def power_at_height(view: Any, address: str, height: int) -> int:
    """Power at the end of block `height` (0 before the first checkpoint)."""
    index = _last_index(view, address, HEIGHT, height, strict=False)
    return 0 if index < 0 else int(checkpoint(view, address, index)[POWER])


def power_before(view: Any, address: str, timestamp: int) -> int:
    """Power at the end of the last block whose timestamp is before `timestamp`: the snapshot."""
    index = _last_index(view, address, TIME, timestamp, strict=True)
    return 0 if index < 0 else int(checkpoint(view, address, index)[POWER])


def integral(view: Any, address: str, timestamp: int) -> int:
    """Integral of power over time up to `timestamp` (power-seconds)."""
    index = _last_index(view, address, TIME, timestamp, strict=False)
    if index < 0:
        return 0
    cp = checkpoint(view, address, index)
    return int(cp[CUM]) + cp[POWER] * (timestamp - cp[TIME])


def twas(view: Any, address: str, end: int, window: int) -> int:
    """Time-weighted average power over [end - window, end] (rounded down)."""
    return (integral(view, address, end) - integral(view, address, end - window)) // window


# --- delegation and current power -----------------------------------------------------------


def delegate_of(view: Any, address: str) -> str:
    return view.kv_get(MODULE, delegate_key(address)) or address


def delegators(view: Any, address: str) -> list[str]:
    return list(view.kv_get(MODULE, delegators_key(address)) or [])


def own_power(view: Any, address: str) -> int:
    return view.balance(address) + staked_amount(view, address)


def current_power(view: Any, address: str) -> int:
    """Power of `address` as a delegate in `view` now (not yet checkpointed if mid-block)."""
    total = own_power(view, address) if delegate_of(view, address) == address else 0
    return total + sum(own_power(view, d) for d in delegators(view, address))


def record_block(state: StateOverlay, ctx: BlockContext) -> None:
    """End-of-block hook: checkpoint the power of every delegate the block changed."""
    if not enabled(state):
        return
    changed = set(state.balances)
    prefix = "delegate:"
    for module, key in state.kv:
        if module == MODULE and key.startswith(prefix):
            changed.add(key[len(prefix) :])
    before = state.parent
    affected: set[str] = set()
    for address in changed:
        affected.add(delegate_of(state, address))
        affected.add(delegate_of(before, address))
    for address in sorted(affected):
        write_checkpoint(state, address, ctx.height, ctx.timestamp, current_power(state, address))


register_end_block_hook(record_block)

"""Building blocks for the governor boundary tests: proposals in one block, votes, and the books.

`DaoChain` (helpers.py) already checks circulating == issued after every block;
`assert_books` adds the DAO's own accounting: the bond account holds exactly the
bonds still held by proposals plus the stakes of open challenges.
"""

from __future__ import annotations

from typing import Any

from aitbc_daemon.chain.state import circulating_supply, issued_supply
from aitbc_daemon.dao.params import BONDS_KEY, NEXT_PROPOSAL_KEY, TREASURY_KEY, int_value

from .helpers import ADDRESSES, UNIT, DaoChain

# The default genesis of helpers.dao_genesis: 1,000,000 AIT of balances, the 100,000 AIT
# treasury and the 5,000-unit emission budget of the "flex" staking pool.
SUPPLY = 1_000_000 * UNIT + 100_000 * UNIT + 5_000
assert SUPPLY == 1_100_000_005_000


def treasury_action(amount: int = UNIT, to: int = 5) -> dict[str, Any]:
    return {"to": ADDRESSES[to], "amount": amount}


def propose_many(chain: DaoChain, timestamp: int, count: int, account: int = 0) -> list[int]:
    """`count` treasury proposals of 1 AIT to account 5 in ONE block (one shared timeline); their ids."""
    return propose_all(chain, timestamp, [("treasury", treasury_action())] * count, account)


def next_id(chain: DaoChain) -> int:
    return int(chain.node.state.kv_get("dao", NEXT_PROPOSAL_KEY) or 1)


def vote_tx(chain: DaoChain, account: int, proposal_id: int, support: str = "for") -> Any:
    return chain.tx(account, "dao_vote", {"proposal": proposal_id, "support": support})


def votes(chain: DaoChain, timestamp: int, ballots: list[tuple[int, int, str]]) -> list[Any]:
    """Cast (account, proposal, support) ballots in one block; their statuses."""
    return chain.block(timestamp, *(vote_tx(chain, a, p, s) for a, p, s in ballots))


def treasury(chain: DaoChain) -> int:
    return int_value(chain.node.state, TREASURY_KEY)


def bonds(chain: DaoChain) -> int:
    return int_value(chain.node.state, BONDS_KEY)


def assert_books(chain: DaoChain) -> None:
    """Supply conserved, and every unit in the bond account belongs to a proposal or a challenge."""
    state = chain.node.state
    assert circulating_supply(state) == issued_supply(state) == chain.genesis.total_supply
    owed = 0
    for proposal_id in range(1, next_id(chain)):
        proposal = chain.proposal(proposal_id)
        owed += proposal["bond_held"]
        challenge = proposal["challenge"]
        if challenge is not None and challenge["winner"] is None:
            owed += challenge["bond"]
    assert bonds(chain) == owed


def propose_all(
    chain: DaoChain, timestamp: int, items: list[tuple[str, dict[str, Any]]], account: int = 0
) -> list[int]:
    """Proposals of any (type, action) in ONE block; their ids."""
    first = next_id(chain)
    txs = [
        chain.tx(account, "dao_propose", {"type": kind, "title": f"{kind} {i}", "action": action})
        for i, (kind, action) in enumerate(items)
    ]
    statuses = chain.block(timestamp, *txs)
    assert [s.status for s in statuses] == ["included"] * len(items), [s.reason for s in statuses]
    return list(range(first, first + len(items)))


def pass_all(chain: DaoChain, ids: list[int], voters: tuple[int, ...] = (0, 1)) -> int:
    """Vote `for` on every proposal (one timeline) at its start and mine the end block; the end."""
    p = chain.proposal(ids[0])
    statuses = votes(chain, p["vote_start"], [(a, pid, "for") for pid in ids for a in voters])
    assert [s.status for s in statuses] == ["included"] * len(statuses)
    chain.block(p["vote_end"])
    return int(p["vote_end"])


def queue_all(chain: DaoChain, timestamp: int, ids: list[int], account: int = 2) -> int:
    """Queue the proposals in one block; their (common) eta."""
    statuses = chain.block(timestamp, *(chain.tx(account, "dao_queue", {"proposal": pid}) for pid in ids))
    assert [s.status for s in statuses] == ["included"] * len(ids), [s.reason for s in statuses]
    return int(chain.proposal(ids[0])["eta"])

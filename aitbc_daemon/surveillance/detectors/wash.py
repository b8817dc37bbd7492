"""Wash trading: trades that move no real ownership.

Features (from the window): trades (buyer, seller, size, order ids), funding links (a
successful AIT or BTC transfer between two wallets links them), traded volume by wallet.

Rules and thresholds:
- `wash.self_trade` (high): a trade whose buyer and seller are the same wallet.
- `wash.linked_trade` (medium): a trade between two wallets linked by a funding transfer in
  the window (one funded the other); `high` once the pair traded both ways in the window
  (a circular trade: A sold to B and B sold back to A).
- `wash.concentration` (low): one pair of wallets makes at least CONCENTRATION_SHARE of the
  window's volume over at least CONCENTRATION_MIN_TRADES trades, in a market with at least
  CONCENTRATION_MIN_WALLETS traders (with two traders every pair is 100%: no signal).
  Reported once per pair and window span (height // window size).
"""

from __future__ import annotations

from aitbc_daemon.surveillance.detectors.base import Finding
from aitbc_daemon.surveillance.feed import TRADE, BlockEvents
from aitbc_daemon.surveillance.windows import MarketWindow

CONCENTRATION_SHARE = 0.8
CONCENTRATION_MIN_TRADES = 5
CONCENTRATION_MIN_WALLETS = 3


class WashTrading:
    name = "wash"

    def detect(self, window: MarketWindow, block: BlockEvents) -> list[Finding]:
        found: list[Finding] = []
        links = window.links()
        trades = window.trades()
        for trade in (e for e in block.events if e.kind == TRADE):
            d = trade.data
            evidence = {"orders": sorted([d["buy_order"], d["sell_order"]]), "trades": [d["trade"]]}
            if d["buyer"] == d["seller"]:
                found.append(
                    Finding(
                        "wash.self_trade",
                        "high",
                        (d["buyer"],),
                        {**evidence, "txs": []},
                        f"{d['buyer']} traded {d['size']} units with itself",
                        block.height,
                        block.timestamp,
                    )
                )
                continue
            pair = frozenset((d["buyer"], d["seller"]))
            if pair not in links:
                continue
            reverse = [
                t.data["trade"]
                for t in trades
                if t.data["buyer"] == d["seller"]
                and t.data["seller"] == d["buyer"]
                and t.data["trade"] != d["trade"]
            ]
            circular = bool(reverse)
            found.append(
                Finding(
                    "wash.linked_trade",
                    "high" if circular else "medium",
                    tuple(sorted(pair)),
                    {
                        "orders": evidence["orders"],
                        "trades": sorted([d["trade"], *reverse]),
                        "txs": sorted(links[pair]),
                    },
                    f"trade {d['trade']} between wallets linked by a funding transfer"
                    + (" (circular: they traded both ways)" if circular else ""),
                    block.height,
                    block.timestamp,
                )
            )
        found.extend(self._concentration(window, block))
        return found

    def _concentration(self, window: MarketWindow, block: BlockEvents) -> list[Finding]:
        if not any(e.kind == TRADE for e in block.events):
            return []
        trades = window.trades()
        total = sum(t.data["size"] for t in trades)
        if total == 0 or len(window.volume_by_wallet()) < CONCENTRATION_MIN_WALLETS:
            return []
        by_pair: dict[frozenset[str], list[int]] = {}
        volume: dict[frozenset[str], int] = {}
        for t in trades:
            pair = frozenset((t.data["buyer"], t.data["seller"]))
            by_pair.setdefault(pair, []).append(t.data["trade"])
            volume[pair] = volume.get(pair, 0) + t.data["size"]
        found = []
        for pair, ids in by_pair.items():
            share = volume[pair] / total
            if len(ids) >= CONCENTRATION_MIN_TRADES and share >= CONCENTRATION_SHARE:
                span = block.height // window.size
                found.append(
                    Finding(
                        "wash.concentration",
                        "low",
                        tuple(sorted(pair)),
                        {"orders": [], "trades": [], "txs": [], "pair": sorted(pair), "span": span},
                        f"{len(ids)} trades, {share:.0%} of the window's volume, between one pair",
                        block.height,
                        block.timestamp,
                        {"trades": ids, "share": share},
                    )
                )
        return found


detector = WashTrading()

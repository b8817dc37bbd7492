"""Request bodies of `/v1/surveillance`, shared with the client.

Responses are plain JSON objects: status {chain, running, processed_height, head_height,
lag, window, detectors[]}, an alert {id, detector, type, severity, chain, market, wallets,
evidence {orders, trades, txs}, summary, height, timestamp, created, acked, acked_at}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from annotated_types import Ge, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel


@dataclass
class StartRequest(ApiModel):
    chain: Annotated[str, MinLen(1), MaxLen(128)] | None = None  # default: the daemon's chain
    from_height: Annotated[int, Ge(0), Le(2**53 - 1)] | None = None  # backfill from this height

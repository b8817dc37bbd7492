"""HTTP layer of the exchange. Thin: parse, call the service, shape.

Reads live under the chain (`/v1/chains/{chain}/exchange/...`); signed actions
under the wallet that signs them (`/v1/wallets/{name}/exchange/...`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from aitbc_daemon.exchange import service
from aitbc_daemon.exchange.models import (
    BtcFaucetRequest,
    BuyRequest,
    CancelRequest,
    ExchangeBalance,
    ExchangeRate,
    ExchangeTxResult,
    OrderBook,
    OrderList,
    OrderRequest,
    TradeList,
)
from aitbc_daemon.runtime import DaemonRuntime, get_runtime

router = APIRouter(tags=["exchange"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


@router.get("/v1/chains/{chain}/exchange/rate")
def get_rate(chain: str, runtime: Runtime) -> ExchangeRate:
    """The governed rate of `exchange buy` (AIT units per BTC), the taker fee and the treasury."""
    return service.rate(runtime.chains, chain)


@router.get("/v1/chains/{chain}/exchange/book")
def get_book(
    chain: str, runtime: Runtime, depth: Annotated[int, Query(ge=1, le=service.MAX_DEPTH)] = 10
) -> OrderBook:
    return service.order_book(runtime.chains, chain, depth)


@router.get("/v1/chains/{chain}/exchange/trades")
def get_trades(
    chain: str,
    runtime: Runtime,
    since: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_TRADES)] = 100,
) -> TradeList:
    """Trades oldest first: with `since`, those with a larger id (a cursor), else the latest `limit`."""
    return service.trades(runtime.chains, chain, since, limit)


@router.get("/v1/chains/{chain}/exchange/orders")
def get_orders(
    chain: str,
    runtime: Runtime,
    owner: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_TRADES)] = 100,
) -> OrderList:
    """An owner's open orders, or the latest orders of anyone."""
    return service.orders(runtime.chains, chain, owner, limit)


@router.get("/v1/chains/{chain}/exchange/balances/{address}")
def get_balance(chain: str, address: str, runtime: Runtime) -> ExchangeBalance:
    return service.balance(runtime.chains, chain, address)


@router.post("/v1/chains/{chain}/exchange/faucet-btc", status_code=202)
def faucet_btc(chain: str, body: BtcFaucetRequest, runtime: Runtime) -> ExchangeTxResult:
    """Devnet: credit bridged BTC from the devnet's bridge account."""
    return service.faucet_btc(runtime.chains, chain, body.to, body.amount)


@router.post("/v1/wallets/{name}/exchange/buy", status_code=202)
def buy(name: str, body: BuyRequest, runtime: Runtime) -> ExchangeTxResult:
    return _submit(runtime, name, body, "exchange_buy", {"btc": body.btc})


@router.post("/v1/wallets/{name}/exchange/order", status_code=202)
def order(name: str, body: OrderRequest, runtime: Runtime) -> ExchangeTxResult:
    payload: dict[str, object] = {"side": body.side, "type": body.type, "size": body.size}
    if body.price is not None:
        payload["price"] = body.price
    return _submit(runtime, name, body, "exchange_order", payload)


@router.post("/v1/wallets/{name}/exchange/cancel", status_code=202)
def cancel(name: str, body: CancelRequest, runtime: Runtime) -> ExchangeTxResult:
    return _submit(runtime, name, body, "exchange_cancel", {"order": body.order})


def _submit(
    runtime: DaemonRuntime,
    wallet: str,
    body: BuyRequest | OrderRequest | CancelRequest,
    tx_type: str,
    payload: dict[str, object],
) -> ExchangeTxResult:
    return service.submit_from_wallet(
        runtime.keystore,
        runtime.chains,
        wallet=wallet,
        chain_id=body.chain,
        tx_type=tx_type,
        payload=payload,
        fee=body.fee,
        password=body.password,
    )

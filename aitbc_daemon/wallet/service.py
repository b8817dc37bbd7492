"""What the wallet does on a chain: sign with a keystore key and submit, in one step.

The nonce is read and the transaction submitted under the chain's lock, so
two sends from one wallet at the same moment get consecutive nonces instead
of colliding.
"""

from __future__ import annotations

from typing import Any

from nacl.signing import SigningKey

from aitbc_daemon.chain.errors import ChainError
from aitbc_daemon.chain.genesis import devnet_signing_key
from aitbc_daemon.chain.params import min_fee
from aitbc_daemon.chain.service import ChainService, Submission
from aitbc_daemon.chain.transitions import TX_FAILED
from aitbc_daemon.chain.tx import Transaction, sign_transaction
from aitbc_daemon.chain.txtypes import validate_tx_payload
from aitbc_daemon.errors import AitbcError, Conflict
from aitbc_daemon.wallet.addresses import (
    InvalidAddress,
    address_from_public_key,
    decode_address,
)
from aitbc_daemon.wallet.keystore import Keystore
from aitbc_daemon.wallet.models import TransferResult

FAUCET_ACCOUNT = 9  # the last dev account; account 0 proposes blocks and collects fees


class InvalidRecipient(AitbcError):
    code = "invalid_address"


class WouldFail(Conflict):
    """The transaction would execute as failed on the current state; it was not sent."""


def check_recipient(address: str) -> str:
    """Refuse a mistyped address before anything is signed (bech32 carries a checksum)."""
    try:
        decode_address(address)
    except InvalidAddress as exc:
        raise InvalidRecipient(str(exc)) from None
    return address


def transfer(
    chains: ChainService, chain_id: str, key: SigningKey, to: str, amount: int, fee: int
) -> Submission:
    """Sign a transfer with the sender's next free nonce and submit it."""
    check_recipient(to)
    return sign_and_submit(chains, chain_id, key, "transfer", {"to": to, "amount": amount}, fee=fee)


def sign_and_submit(
    chains: ChainService,
    chain_id: str,
    key: SigningKey,
    tx_type: str,
    payload: dict[str, Any],
    *,
    fee: int = 0,
    dry_run: bool = False,
) -> Submission:
    """Sign any transaction with the sender's next free nonce and submit it; raises its refusal.

    With `dry_run`, a transaction that would execute as failed on the current
    state (an unknown pool, a locked position, a vote out of time) is refused
    with its reason and code before it is sent, so a person's mistake costs no
    fee and no nonce. It is skipped when the outcome cannot be known here: on a
    follower, or behind the sender's own pending transactions.
    """
    hosted = chains.get(chain_id)
    sender = address_from_public_key(bytes(key.verify_key))
    with hosted.lock:
        nonce = chains.next_nonce(chain_id, sender)
        tx = sign_transaction(key, chain_id=chain_id, type=tx_type, nonce=nonce, fee=fee, payload=payload)
        own_turn = hosted.upstream is None and nonce == hosted.node.nonce(sender)
        if dry_run and own_turn and _payload_is_valid(tx):  # a bad payload: the submit says why
            outcome = hosted.node.simulate(tx, hosted.block_time_now())
            if outcome.status == TX_FAILED:
                raise WouldFail(f"{tx_type} refused: {outcome.reason}", code=outcome.code or "would_fail")
        (submission,) = chains.submit(chain_id, [tx.to_dict()])
    if submission.error is not None:
        raise submission.error
    return submission


def _payload_is_valid(tx: Transaction) -> bool:
    """Transitions assume a checked payload, so only a valid one is simulated."""
    try:
        validate_tx_payload(tx)
    except ChainError:
        return False
    return True


def send_from_wallet(
    keystore: Keystore,
    chains: ChainService,
    *,
    wallet: str,
    chain_id: str,
    to: str,
    amount: int,
    fee: int,
    password: str | None,
) -> Submission:
    check_recipient(to)
    chains.get(chain_id)  # an unknown chain is refused before the (slow) key derivation
    key = keystore.signing_key(wallet, password)
    return transfer(chains, chain_id, key, to, amount, fee)


def submit_with_wallet(
    keystore: Keystore,
    chains: ChainService,
    *,
    wallet: str,
    chain_id: str,
    tx_type: str,
    payload: dict[str, Any],
    fee: int,
    password: str | None,
) -> Submission:
    """Sign any transaction with a keystore wallet and submit it (chain modules' wallet routes)."""
    chains.get(chain_id)  # an unknown chain is refused before the (slow) key derivation
    key = keystore.signing_key(wallet, password)
    return sign_and_submit(chains, chain_id, key, tx_type, payload, fee=fee, dry_run=True)


def faucet(chains: ChainService, chain_id: str, to: str, amount: int) -> Submission:
    """Devnet: pay `amount` to `to` from the faucet dev account."""
    chains.devnet(chain_id, "faucet")
    hosted = chains.get(chain_id)
    with hosted.lock:
        fee = min_fee(hosted.node.state)  # the faucet pays the chain's minimum, whatever the DAO set
    return transfer(chains, chain_id, devnet_signing_key(FAUCET_ACCOUNT), to, amount, fee=fee)


def transfer_result(chains: ChainService, chain_id: str, submission: Submission) -> TransferResult:
    """Where an accepted transfer stands now: pending, or already in a block on an instant chain."""
    hosted = chains.get(chain_id)
    with hosted.lock:
        status = hosted.node.transaction(submission.hash or "")
    if status is None:  # a follower forwarded it; it arrives with the authority's next block
        return TransferResult(submission.hash or "", chain_id, "forwarded")
    return TransferResult(status.tx.hash, chain_id, status.status, status.height, status.reason)

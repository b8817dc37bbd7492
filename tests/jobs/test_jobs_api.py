"""The coordinator through a real daemon: escrow on submit, refusals that lock nothing, the miner protocol."""

from __future__ import annotations

import threading
import time

import pytest

from aitbc_daemon.client import ApiError
from tests.jobs_fixtures import AIT, CHAIN, HandMiner, balance, funded_wallet, settled, submit, wait_for

IRIS_HEAD = b"sepal_length,sepal_width,petal_length,petal_width,species\n"


def test_submit_locks_the_payment_and_cancel_refunds_it(client):
    alice = funded_wallet(client)
    job = submit(client, payment=3 * AIT)
    assert job.state == "queued"
    escrow = client.escrow(CHAIN, job.id)
    assert (escrow.status, escrow.amount, escrow.payer) == ("locked", 3 * AIT, alice)
    assert balance(client, alice) == 97 * AIT

    cancelled = client.cancel_job(job.id)
    assert cancelled.state == "cancelled"
    assert settled(client, job.id).settlement == "refund"
    assert client.escrow(CHAIN, job.id).status == "refunded"
    assert balance(client, alice) == 100 * AIT
    with pytest.raises(ApiError) as second:
        client.cancel_job(job.id)
    assert (second.value.status, second.value.code) == (409, "job_conflict")


BAD_SUBMISSIONS = [
    ("unknown executor", dict(executor="nope"), 404, "unknown_executor"),
    ("payment above balance", dict(payment=101 * AIT), 400, "insufficient_funds"),
    ("zero payment", dict(payment=0), 422, "invalid_request"),
    ("negative payment", dict(payment=-5), 422, "invalid_request"),
    ("zero ttl", dict(ttl=0), 422, "invalid_request"),
    ("negative ttl", dict(ttl=-1), 422, "invalid_request"),
    ("unknown parameter", dict(params={"colour": "red"}), 400, "invalid_job"),
    ("no input for hash", dict(data=None), 400, "invalid_job"),
    (
        "malformed csv",
        dict(
            executor="train",
            data=IRIS_HEAD + b"5.1,abc,1.4,0.2,setosa\n4.9,3.0,1.4,0.2,setosa\n",
            params={"target": "species"},
        ),
        400,
        "invalid_job",
    ),
    (
        "missing target column",
        dict(
            executor="train",
            data=IRIS_HEAD + b"5.1,3.5,1.4,0.2,setosa\n4.9,3.0,1.4,0.2,setosa\n",
            params={"target": "colour"},
        ),
        400,
        "invalid_job",
    ),
    ("wrong password", dict(password="wrong"), 403, None),
    ("input name with a path", dict(name="../in.txt"), 400, "invalid_job"),
]


@pytest.mark.parametrize("case,changes,status,code", BAD_SUBMISSIONS, ids=[c[0] for c in BAD_SUBMISSIONS])
def test_bad_submissions_are_refused_and_lock_nothing(client, case, changes, status, code):
    alice = funded_wallet(client)
    height = client.chain_status(CHAIN).height
    with pytest.raises(ApiError) as refused:
        submit(client, **changes)
    assert refused.value.status == status, refused.value.message
    if code:
        assert refused.value.code == code
    assert "\n" not in refused.value.message
    assert balance(client, alice) == 100 * AIT
    assert client.jobs().jobs == []
    assert client.chain_status(CHAIN).height == height  # no escrow transaction was even sent


def test_an_input_over_the_size_limit_is_refused(client):
    with pytest.raises(ApiError) as refused:
        client.upload(b"x" * (1024 * 1024 + 1))  # the test daemon allows 1 MiB
    assert (refused.value.status, refused.value.code) == (413, "blob_too_large")


def test_a_retried_submit_with_the_same_request_id_is_one_job_and_one_lock(client):
    alice = funded_wallet(client)
    first = submit(client, request_id="retry-key-0001")
    again = submit(client, request_id="retry-key-0001")
    assert again.id == first.id
    assert len(client.jobs().jobs) == 1
    assert balance(client, alice) == 99 * AIT


def test_a_job_past_its_ttl_expires_and_is_refunded(client):
    alice = funded_wallet(client)
    job = submit(client, ttl=1)
    done = settled(client, job.id, timeout=10)
    assert (done.state, done.settlement) == ("expired", "refund")
    assert balance(client, alice) == 100 * AIT


def test_a_miner_completes_a_job_and_the_receipt_hash_is_on_chain(client, hand_miner):
    funded_wallet(client)
    job = submit(client, payment=2 * AIT)
    grant = hand_miner.lease()
    assert grant["job_id"] == job.id
    assert client.job(job.id).state == "leased"
    hand_miner.heartbeat(grant, epoch=1)
    assert client.job(job.id).progress == {"epoch": 1}
    assert [line.line for line in client.job_logs(job.id).lines] == ["tick"]

    answer = hand_miner.deliver(grant)
    assert answer.status_code == 200, answer.text
    done = settled(client, job.id)
    assert (done.state, done.settlement) == ("completed", "release")
    escrow = client.escrow(CHAIN, job.id)
    assert (escrow.status, escrow.payee, escrow.receipt_hash) == (
        "released",
        hand_miner.payout,
        done.receipt_hash,
    )
    assert balance(client, hand_miner.payout) == 2 * AIT

    retried = hand_miner.deliver(grant)  # the same result again: answered, not paid again
    assert retried.status_code == 200
    assert balance(client, hand_miner.payout) == 2 * AIT


def test_a_miner_cannot_deliver_a_job_it_does_not_hold(client, jobs_daemon, hand_miner):
    funded_wallet(client)
    job = submit(client)
    grant = hand_miner.lease()
    intruder = HandMiner(jobs_daemon)
    try:
        answer = intruder.deliver(grant)
        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "not_lease_holder"
        wrong_lease = hand_miner.deliver(grant, lease_id="lease-0000000000000000")
        assert wrong_lease.json()["error"]["code"] == "not_lease_holder"
    finally:
        intruder.close()
    assert client.job(job.id).state == "leased"


def _set(path: tuple[str, ...], value):
    def edit(receipt: dict) -> None:
        target = receipt
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


@pytest.mark.parametrize(
    "edit,expected",
    [
        (_set(("receipt", "price"), 10**12), "price"),
        (_set(("receipt", "miner"), "ait1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"), "miner"),
        (_set(("receipt", "output_hash"), "0" * 64), "output_hash"),
        (_set(("miner_signature",), "00" * 64), "signature"),
    ],
    ids=["price", "payee", "output hash", "signature"],
)
def test_an_altered_receipt_is_refused_and_nothing_is_paid(client, hand_miner, edit, expected):
    funded_wallet(client)
    job = submit(client)
    grant = hand_miner.lease()
    answer = hand_miner.deliver(grant, receipt_edit=edit)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_receipt"
    assert expected in answer.json()["error"]["message"]
    assert client.job(job.id).state == "leased"
    assert client.escrow(CHAIN, job.id).status == "locked"


def test_a_receipt_signed_with_another_key_is_refused(client, hand_miner):
    from nacl.signing import SigningKey

    funded_wallet(client)
    job = submit(client)
    grant = hand_miner.lease()
    answer = hand_miner.deliver(grant, signer=SigningKey.generate())
    assert answer.json()["error"]["code"] == "invalid_receipt"
    assert client.escrow(CHAIN, job.id).status == "locked"


def test_a_failed_job_refunds_the_client_and_never_pays_the_miner(client, hand_miner):
    alice = funded_wallet(client)
    job = submit(client, executor="fail", data=None)
    grant = hand_miner.lease()
    assert hand_miner.fail(grant, "it broke").status_code == 200
    done = settled(client, job.id)
    assert (done.state, done.settlement, done.error) == ("failed", "refund", "it broke")
    assert balance(client, alice) == 100 * AIT
    late = hand_miner.deliver(grant)  # a result after the failure cannot turn it into a payment
    assert late.status_code == 409
    assert balance(client, hand_miner.payout) == 0
    assert client.registered_miner(hand_miner.id).failed == 1


def test_a_lost_lease_requeues_the_job_then_fails_it_when_attempts_run_out(aitbc_home):
    from tests.conftest import start_daemon
    from tests.jobs_fixtures import jobs_env

    daemon = start_daemon(
        aitbc_home, env=jobs_env(aitbc_home, AITBC_LEASE_SECONDS="0.5", AITBC_MAX_JOB_ATTEMPTS="2")
    )
    try:
        with daemon.client() as client:
            alice = funded_wallet(client)
            job = submit(client)
            first, second = HandMiner(daemon), HandMiner(daemon)
            assert first.lease()["job_id"] == job.id
            wait_for(lambda: client.job(job.id).state == "queued", 10, "the lease to lapse")
            assert client.job(job.id).attempts == 1
            grant = second.lease()  # another miner gets it: the first lost it
            assert grant is not None and grant["job_id"] == job.id
            done = settled(client, job.id, timeout=10)
            assert (done.state, done.settlement) == ("failed", "refund")
            assert "gave up after 2 attempt(s)" in done.error
            assert balance(client, alice) == 100 * AIT
            assert client.registered_miner(first.id).lost == 1
            first.close()
            second.close()
    finally:
        daemon.stop()


def test_cancel_racing_a_result_pays_exactly_once(client, hand_miner):
    alice = funded_wallet(client)
    for _ in range(5):
        job = submit(client)
        grant = hand_miner.lease()
        outcomes: dict[str, object] = {}
        start = threading.Barrier(2)
        racer = threading.Thread(target=_cancel_at, args=(start, client, job.id, outcomes))
        racer.start()
        start.wait()
        outcomes["result"] = hand_miner.deliver(grant).status_code
        racer.join()
        done = settled(client, job.id)
        escrow = client.escrow(CHAIN, job.id)
        if done.state == "completed":
            assert (outcomes["cancel"], escrow.status, escrow.payee) == (
                "job_conflict",
                "released",
                hand_miner.payout,
            )
        else:
            assert (done.state, outcomes["result"], escrow.status) == ("cancelled", 409, "refunded")
    paid_to_miner = balance(client, hand_miner.payout)
    assert balance(client, alice) + paid_to_miner == 100 * AIT


def _cancel_at(start: threading.Barrier, client, job_id: str, outcomes: dict) -> None:
    """Cancel the moment the other thread delivers its result."""
    start.wait()
    try:
        outcomes["cancel"] = client.cancel_job(job_id).state
    except ApiError as exc:
        outcomes["cancel"] = exc.code


GPU = {"id": "cuda:0", "kind": "cuda", "index": 0, "name": "Test GPU", "memory_mb": 8000}


def test_matching_honours_price_gpu_and_vram_constraints(client, jobs_daemon):
    funded_wallet(client)
    pricey = HandMiner(jobs_daemon, price=5)
    cpu_only = HandMiner(jobs_daemon)
    small_gpu = HandMiner(jobs_daemon, devices=[GPU, {"id": "cpu", "kind": "cpu"}])
    try:
        cheap = submit(client, max_price=1)
        assert pricey.lease() is None  # asks 5 per device-second; the job pays at most 1
        needs_gpu = submit(client, gpus=1, min_vram_mb=16000)
        grant = small_gpu.lease()
        assert grant["job_id"] == cheap.id  # the CPU job fits it; the 16 GB one does not
        assert cpu_only.lease() is None  # only the GPU job is left, and it has no GPU
        small_gpu.deliver(grant)
        assert small_gpu.lease() is None  # 8000 MiB < 16000 MiB
        fits = submit(client, gpus=1, min_vram_mb=4000)
        assert small_gpu.lease()["job_id"] == fits.id
        assert client.job(needs_gpu.id).state == "queued"
    finally:
        for miner in (pricey, cpu_only, small_gpu):
            miner.close()


def test_a_waiting_miner_with_a_better_record_gets_the_job_first(client, jobs_daemon):
    funded_wallet(client)
    veteran, newcomer = HandMiner(jobs_daemon), HandMiner(jobs_daemon)
    try:
        for _ in range(2):  # the veteran builds a record: reputation 0.75 against the newcomer's 0.5
            submit(client)
            assert veteran.deliver(veteran.lease()).status_code == 200
        assert client.registered_miner(veteran.id).reputation > client.registered_miner(newcomer.id).reputation
        grants: dict[str, object] = {}
        # The newcomer stops waiting before the veteran's (unrenewed) lease could lapse back to the queue.
        polls = [threading.Thread(target=lambda m=m, w=w: grants.__setitem__(m.id, m.lease(wait=w)))
                 for m, w in ((newcomer, 1.5), (veteran, 5))]
        for poll in polls:
            poll.start()
        time.sleep(0.5)  # both are long-polling now
        job = submit(client)
        for poll in polls:
            poll.join()
        assert grants[veteran.id]["job_id"] == job.id, grants
        assert grants[newcomer.id] is None, (job.id, grants)
    finally:
        veteran.close()
        newcomer.close()


def test_two_identical_submits_racing_each_other_make_one_job_and_one_lock(client, jobs_daemon):
    alice = funded_wallet(client)
    digest = client.upload(b"same\n").sha256
    body = {"executor": "hash", "payment": AIT, "wallet": "alice", "chain": CHAIN, "password": "pw",
            "inputs": [{"name": "in.txt", "sha256": digest}], "request_id": "race-key-00001"}
    answers: list[str] = []

    def send() -> None:
        with jobs_daemon.client() as own:
            answers.append(own.submit_job(body).id)

    racers = [threading.Thread(target=send) for _ in range(4)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert len(set(answers)) == 1 and len(answers) == 4
    assert len(client.jobs().jobs) == 1
    assert balance(client, alice) == 99 * AIT


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "a/../../b", "dir/", ".."])
def test_output_names_that_could_escape_the_result_directory_are_refused(client, hand_miner, name):
    funded_wallet(client)
    job = submit(client)
    answer = hand_miner.deliver(hand_miner.lease(), output_name=name)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_receipt"
    assert client.escrow(CHAIN, job.id).status == "locked"

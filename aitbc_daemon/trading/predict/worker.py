"""`python -m aitbc_daemon.trading.predict.worker`: one evaluation, JSON in on stdin, JSON out on stdout.

The daemon runs this as a subprocess so that torch and Lightning never load in the
daemon itself, and so that an abandoned or overlong request can be ended by killing
the process. Input: {"columns": {timestamp, open, high, low, close, volume: [...]},
"params": {lags, folds, epochs, horizon, seed, hidden}}. Output: the evaluation
(`walk_forward.evaluate`), or {"error": {"code", "message"}} for input it refuses
(exit status 0 either way). Anything else is a bug: a traceback on stderr, status 1.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    started = time.perf_counter()
    from aitbc_daemon.miner.worker import die_with_parent

    die_with_parent()  # a killed daemon leaves no training behind
    request = json.load(sys.stdin)
    import torch

    # The network is tiny: one intra-op thread is fastest, and on a busy machine more threads
    # made a run ten times slower (they wait on each other). The numbers do not change.
    torch.set_num_threads(1)
    from aitbc_daemon.trading.predict.walk_forward import evaluate
    from aitbc_daemon.trading.strategy import TradingInputError

    try:
        result = evaluate(request["columns"], request["params"])
        result["seconds"] = time.perf_counter() - started  # what the user waits for: library loading too
    except TradingInputError as exc:
        result = {"error": {"code": exc.code, "message": str(exc)}}
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

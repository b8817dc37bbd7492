"""Executors for tests only (put on PYTHONPATH with their dist-info): a job that takes its time,
so a test can cancel it or kill its worker mid-run, and one that always fails."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from aitbc_daemon.miner.executors.base import InputFile, JobRun, ParamSpec, ParamValue, check_params


class SleepExecutor:
    name = "sleep"
    description = "Sleeps for `seconds`, reporting progress every 0.1 s (tests only)."
    params: Sequence[ParamSpec] = (ParamSpec("seconds", float, 1.0, minimum=0, maximum=600),)
    min_inputs = 0
    max_inputs = 4
    deterministic = True

    def validate(
        self, params: Mapping[str, ParamValue], inputs: Sequence[InputFile]
    ) -> dict[str, ParamValue]:
        return check_params(self.params, params)

    def run(self, job: JobRun) -> dict[str, Any]:
        seconds = float(job.params["seconds"])
        steps = max(1, int(seconds / 0.1))
        for step in range(1, steps + 1):
            time.sleep(seconds / steps)
            job.report(epoch=step, epochs=steps)
            job.log(f"step {step}/{steps}")
        (job.output_dir / "slept.txt").write_text(f"{seconds}\n")
        return {"seconds": seconds}


class FailExecutor(SleepExecutor):
    name = "fail"
    description = "Always raises (tests only)."

    def run(self, job: JobRun) -> dict[str, Any]:
        job.log("about to fail")
        raise RuntimeError("this executor always fails")


sleep_executor = SleepExecutor()
fail_executor = FailExecutor()

"""`hash`: SHA-256 of each input file. Tiny, real and deterministic: the load-test executor."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from aitbc_daemon.miner.executors.base import (
    InputFile,
    JobRun,
    ParamSpec,
    ParamValue,
    check_request,
)

CHUNK = 1 << 20


class HashExecutor:
    name = "hash"
    description = "SHA-256 of each input file (tiny real work, for load tests and smoke checks)."
    params: Sequence[ParamSpec] = ()
    min_inputs = 1
    max_inputs = 64
    deterministic = True

    def validate(
        self, params: Mapping[str, ParamValue], inputs: Sequence[InputFile]
    ) -> dict[str, ParamValue]:
        return check_request(self, params, inputs)

    def run(self, job: JobRun) -> dict[str, Any]:
        digests = {}
        total = 0
        for item in job.inputs:
            digest = hashlib.sha256()
            with open(item.path, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    total += len(chunk)
            digests[item.name] = digest.hexdigest()
        (job.output_dir / "sha256.json").write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n")
        return {"files": len(digests), "bytes": total}


executor = HashExecutor()

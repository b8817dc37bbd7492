"""The base of every API body, and decoding a JSON answer into one on the client side.

API bodies are standard-library dataclasses, not pydantic classes: the daemon
validates them with pydantic all the same (FastAPI runs them through
pydantic, and `__pydantic_config__` forbids unknown fields), while the CLI
builds them with dacite and never imports pydantic, which would add about
50 ms to every command's start-up. Field constraints use `annotated_types`
(`Annotated[int, Gt(0)]`), which pydantic understands natively.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any, ClassVar, TypeVar

import dacite

ModelT = TypeVar("ModelT")
_DECODE = dacite.Config(strict=False)  # a newer daemon may add fields; an older client ignores them


class ApiModel:
    """Mixin for API dataclasses: requests with unknown fields are refused by the daemon."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}


def decode(model: type[ModelT], data: Any) -> ModelT:
    """Build `model` from a decoded JSON answer, checking types; raises ValueError on a mismatch."""
    try:
        return dacite.from_dict(model, data, config=_DECODE)
    except (dacite.DaciteError, TypeError) as exc:
        raise ValueError(f"unexpected answer for {model.__name__}: {exc}") from None


def lazy_module(name: str) -> ModuleType:
    """`name`, imported on first attribute access (the importlib LazyLoader recipe)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None, name
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module

"""chipex: US export controls on AI compute, written as code. Analysis, not legal advice.

The Python API mirrors the command line:

    from chipex import classify, history, check_order
    classify("H800", "2023-06-01").eccn          # None: 400 GB/s < 600 GB/s under the 2022 text
    check_order(date="2024-01-01", item="H100", quantity=8, destination="CN")["license_required"]
"""

from typing import Any

__all__ = ["check_book", "check_order", "classify", "history"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `chipex --help` does not load the query engines.
    if name in ("classify", "history"):
        from chipex.core import classify as module
    elif name in ("check_book", "check_order"):
        import chipex.orders as module
    else:
        raise AttributeError(name)
    return getattr(module, name)

"""Stand-ins for two rich modules Typer's help renderer imports but `chipex` seldom uses.

typer.rich_utils, loaded for any help screen, imports rich.markdown (with markdown_it: ~0.06 s)
for markup mode "markdown" and rich.traceback (~0.03 s) for pretty exceptions; chipex uses mode
"rich" and plain errors. `defer_rich_modules()` puts a stand-in module in sys.modules for each:
its class (Markdown, Traceback) is a stand-in whose construction, like any other attribute of the
module, imports the real module, which then replaces the stand-in everywhere (sys.modules and the
`rich` package). So nothing changes for code that uses them; only the import is put off.
"""

from __future__ import annotations

import importlib
import sys
import types

_DEFERRED = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def _real(name: str) -> types.ModuleType:
    module = sys.modules.get(name)
    if isinstance(module, _StandIn):
        del sys.modules[name]
        module = importlib.import_module(name)  # also sets the rich package's attribute
    return module if module is not None else importlib.import_module(name)


class _StandIn(types.ModuleType):
    def __getattr__(self, attr: str):
        if attr.startswith("__"):  # the import system asks for __path__ and the like: no module
            raise AttributeError(attr)
        return getattr(_real(self.__name__), attr)


def _stand_in_class(module: str, cls: str) -> type:
    def __new__(_, *args, **kwargs):  # builds the real class's instance
        return getattr(_real(module), cls)(*args, **kwargs)

    return type(
        cls,
        (),
        {"__new__": __new__, "__module__": module, "__doc__": f"{module}.{cls}, imported on first use"},
    )


def defer_rich_modules() -> None:
    for name, cls in _DEFERRED.items():
        if name in sys.modules:
            continue
        stand_in = _StandIn(name)
        setattr(stand_in, cls, _stand_in_class(name, cls))
        sys.modules[name] = stand_in

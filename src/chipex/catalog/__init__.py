"""The chip catalog: accelerators and systems with sourced figures, loaded from YAML.

The package ships `chips/*.yaml`; users add or override chips with their own files in the same
schema (`CHIPEX_CATALOG=path1:path2`, or `--catalog FILE` on the command line). A user record with
an existing id replaces the shipped one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from chipex.catalog.model import Chip
from chipex.datafiles import read_yaml, validate
from chipex.errors import ChipexError, UnknownChipError

CHIPS_DIR = Path(__file__).parent / "chips"

# Words that never distinguish one chip from another in a name someone types.
_NOISE = re.compile(
    r"\b(nvidia|amd|intel|habana|google|huawei|aws|amazon|cambricon|biren|instinct|geforce|tesla|"
    r"cloud|tensor ?core|gpu|accelerator)\b"
)
_FORM = [(re.compile(r"sxm\d"), "sxm"), (re.compile(r"oam"), "oam")]


def normalize_name(name: str) -> str:
    """Fold a chip name to a lookup key: 'NVIDIA H800 SXM5' -> 'h800sxm'."""
    key = _NOISE.sub(" ", name.lower())
    for pattern, repl in _FORM:
        key = pattern.sub(repl, key)
    return re.sub(r"[^a-z0-9]", "", key)


@dataclass
class Catalog:
    chips: dict[str, Chip]
    origin: dict[str, str] = field(default_factory=dict)  # chip id -> file it came from
    _keys: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _families: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for chip in self.chips.values():
            names = [chip.name, chip.id, f"{chip.vendor} {chip.name}", *chip.aliases]
            names.append(chip.id.split("-", 1)[1] if "-" in chip.id else chip.id)
            for n in names:
                self._keys.setdefault(normalize_name(n), set()).add(chip.id)
            self._families.setdefault(normalize_name(chip.family), []).append(chip.id)
        for chip_id, chip in self.chips.items():
            for part in chip.contains:
                if part.chip not in self.chips:
                    raise ChipexError(
                        f"contains unknown chip '{part.chip}'",
                        file=self.origin.get(chip_id),
                        record=chip_id,
                        field="contains",
                    )

    def __iter__(self) -> Iterator[Chip]:
        return iter(self.chips.values())

    def __len__(self) -> int:
        return len(self.chips)

    def get(self, name: str | Chip) -> Chip:
        """Resolve a name forgivingly: exact id/name/alias, then family default, then fuzzy."""
        if isinstance(name, Chip):
            return name
        if name in self.chips:
            return self.chips[name]
        key = normalize_name(name)
        if not key:
            raise UnknownChipError(name)
        ids = self._keys.get(key, set())
        if len(ids) == 1:
            return self.chips[next(iter(ids))]
        family = self._families.get(key, [])
        defaults = [i for i in family if self.chips[i].default_variant]
        if len(defaults) == 1:
            return self.chips[defaults[0]]
        if len(ids) > 1 or len(family) > 1:
            raise UnknownChipError(name, sorted({self.chips[i].name for i in ids | set(family)}))
        from rapidfuzz import fuzz, process  # only for a name that is not exact (start-up time)

        hits = process.extract(key, list(self._keys), scorer=fuzz.ratio, limit=8, score_cutoff=70)
        candidates: list[str] = []
        for hit_key, _score, _ in hits:
            for i in sorted(self._keys[hit_key]):
                if self.chips[i].name not in candidates:
                    candidates.append(self.chips[i].name)
        if hits and hits[0][1] >= 90 and len(self._keys[hits[0][0]]) == 1:
            second = hits[1][1] if len(hits) > 1 and self._keys[hits[1][0]] != self._keys[hits[0][0]] else 0
            if hits[0][1] - second >= 5:
                return self.chips[next(iter(self._keys[hits[0][0]]))]
        raise UnknownChipError(name, candidates[:6])

    def find(self, name: str) -> Chip | None:
        try:
            return self.get(name)
        except UnknownChipError:
            return None


def read_chip_file(path: Path) -> list[Chip]:
    """One catalog file: `sources:` (key -> citation) and `chips:` (records); all validated."""
    data = read_yaml(path)
    if isinstance(data, dict) and "chips" in data:
        records, sources = data["chips"], data.get("sources") or {}
    elif isinstance(data, list):
        records, sources = data, {}
    elif isinstance(data, dict) and "id" in data:
        records, sources = [data], {}
    else:
        raise ChipexError("expected a 'chips:' list, a list of chips, or one chip record", file=str(path))
    if not isinstance(sources, dict):
        raise ChipexError("'sources' must map keys to citations", file=str(path), field="sources")
    chips = []
    for i, rec in enumerate(records):
        label = rec.get("id", i + 1) if isinstance(rec, dict) else i + 1
        if isinstance(rec, dict):
            rec = {**rec, "sources": {**sources, **(rec.get("sources") or {})}}
        chips.append(validate(Chip, rec, file=path, record=label))
    return chips


def override_paths(extra: Iterable[Path | str] = (), *, with_env: bool = True) -> list[Path]:
    """The user's catalog files, in the order they overlay the shipped one: CHIPEX_CATALOG's, then `extra`."""
    paths: list[Path] = []
    if with_env and os.environ.get("CHIPEX_CATALOG"):
        paths += [Path(p) for p in os.environ["CHIPEX_CATALOG"].split(os.pathsep) if p]
    return paths + [Path(p) for p in extra]


def load_catalog(extra: Iterable[Path | str] = (), *, with_env: bool = True) -> Catalog:
    """The shipped catalog, overlaid by CHIPEX_CATALOG files, then by `extra` files (in order)."""
    paths: list[Path] = sorted(CHIPS_DIR.glob("*.yaml")) + override_paths(extra, with_env=with_env)
    chips: dict[str, Chip] = {}
    origin: dict[str, str] = {}
    shipped = {p.resolve() for p in CHIPS_DIR.glob("*.yaml")}
    for path in paths:
        for chip in read_chip_file(path):
            if chip.id in chips and path.resolve() in shipped:
                raise ChipexError(
                    f"duplicate chip id (also in {origin[chip.id]})", file=str(path), record=chip.id
                )
            chips[chip.id] = chip
            origin[chip.id] = str(path)
    return Catalog(chips, origin)


@cache
def default_catalog() -> Catalog:
    return load_catalog()

"""`chipex --version [-v]`: the program's version; with -v the rule data and the party-list snapshot."""

from __future__ import annotations

from chipex.interfaces.fast import program_version


def version_lines(verbose: bool) -> list[str]:
    lines = [program_version()]
    if not verbose:
        return lines
    from chipex.datafiles import content_hash, read_yaml
    from chipex.rules import RULES_DIR, active_reforms

    files = [p for p in RULES_DIR.rglob("*.yaml") if p.relative_to(RULES_DIR).parts[0] != "reforms"]
    latest = read_yaml(RULES_DIR / "timeline.yaml")["versions"][-1]
    lines.append(
        f"rule data: latest version {latest['id']} ({latest['name']}, effective {latest['effective']}); "
        f"{len(files)} files, sha256 {content_hash(files, RULES_DIR)[:12]}"
    )
    for path in active_reforms():
        lines.append(f"reform applied: {path}")
    from chipex.screening.lists import DEFAULT_DATE, DEFAULT_FILE
    from chipex.screening.store import Store

    current = Store().current()
    if current.loaded_at == "shipped":
        lines.append(f"party lists: the shipped snapshot {DEFAULT_FILE} (list of {DEFAULT_DATE})")
    else:
        lines.append(
            f"party lists: snapshot {current.id} (list of {current.source_date}, loaded {current.loaded_at[:10]})"
        )
    return lines

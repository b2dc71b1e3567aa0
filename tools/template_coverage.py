"""How many of ComfyUI's official open-source image templates import fully mapped, and what is missing.

The measure users judge ComfyUI interop by: of the templates in the pip package
`comfyui_workflow_templates_json` whose index entry (`templates/index.json`) says
`mediaType: image` and `openSource: true`, how many import with every node mapped and no value
lost (`ImportReport.fully_mapped`), and what share of their recorded usage that is. Then the
classes that keep the others from mapping, counted by templates and by usage.

    .venv/bin/python tools/template_coverage.py [--top 25] [--list]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Template:
    name: str
    usage: int


def image_templates(folder: Path) -> list[Template]:
    """The open-source image templates the index lists, each once (a template may sit in several
    categories)."""
    seen: dict[str, Template] = {}
    for category in json.loads((folder / "index.json").read_text(encoding="utf-8")):
        for entry in category.get("templates", []):
            if entry.get("mediaType") == "image" and entry.get("openSource") is True:
                seen.setdefault(entry["name"], Template(entry["name"], int(entry.get("usage") or 0)))
    return sorted(seen.values(), key=lambda t: t.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25, help="how many unmapped classes to list")
    parser.add_argument("--list", action="store_true", help="also list each template's verdict")
    args = parser.parse_args(argv)

    import comfyui_workflow_templates_json as package

    from nodeflow.core import default_registry
    from nodeflow.interop.comfyui import import_source
    from nodeflow.interop.comfyui.source import read_source

    folder = Path(package.__file__).parent / "templates"
    registry = default_registry()
    templates = [t for t in image_templates(folder) if (folder / f"{t.name}.json").is_file()]
    fully: list[Template] = []
    by_templates: Counter[str] = Counter()
    by_usage: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    for template in templates:
        graph, report = import_source(read_source(folder / f"{template.name}.json"), registry)
        unmapped = {cls for _, cls, _ in report.placeholders}
        if report.fully_mapped:
            fully.append(template)
        for cls in unmapped:
            by_templates[cls] += 1
            by_usage[cls] += template.usage
        if not unmapped and report.problems:
            problems[report.problems[0][:100]] += 1
        if args.list:
            verdict = "full" if report.fully_mapped else ", ".join(sorted(unmapped)) or report.problems[0][:80]
            print(f"{template.usage:>7}  {template.name}: {verdict}")
    total_usage = sum(t.usage for t in templates) or 1
    mapped_usage = sum(t.usage for t in fully)
    print(f"open-source image templates: {len(templates)}; fully mapped: {len(fully)} "
          f"({100 * len(fully) / max(len(templates), 1):.1f}%), usage share {100 * mapped_usage / total_usage:.1f}% "
          f"({mapped_usage:,} of {total_usage:,})")
    print(f"most common unmapped classes (templates / usage), top {args.top}:")
    for cls, count in sorted(by_templates.items(), key=lambda kv: (-by_usage[kv[0]], kv[0]))[:args.top]:
        print(f"  {cls:<40} {count:>4} / {by_usage[cls]:>8,}")
    if problems:
        print("templates with every class mapped but a value lost, by first problem:")
        for line, count in problems.most_common(10):
            print(f"  {count:>4}  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

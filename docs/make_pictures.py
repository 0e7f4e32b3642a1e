"""Draw every shipped scenario to docs/img/scenarios/<name>.png, with a JSON sidecar of the drawing.

Run from the repository root after changing a scenario or the diagram code:

    python docs/make_pictures.py

The sidecar (<name>.json) is the drawn graph description (:meth:`NetworkDiagram.to_dict`): nodes,
edges, labels, colours and positions. tests/render/test_pictures.py compares it with a fresh
description, so a picture that no longer matches its scenario fails the tests. Pixels are not compared:
they change with the matplotlib and FreeType versions, the description does not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package, not an installed one

from invmgmt_marl.diagram import describe_network, save_network  # noqa: E402
from invmgmt_marl.scenario import list_scenarios  # noqa: E402

OUT = Path(__file__).resolve().parent / "img" / "scenarios"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in list_scenarios():
        diagram = describe_network(name)
        save_network(name, OUT / f"{name}.png", diagram=diagram)
        (OUT / f"{name}.json").write_text(json.dumps(diagram.to_dict(), indent=1, ensure_ascii=False) + "\n")
        sys.stdout.write(f"{OUT / name}.png\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

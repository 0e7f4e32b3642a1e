"""Rewrite the shipped SKU scenarios (``sku50_1w``, ``sku200_1w``, ``sku1000_1w``, ``sku2000_3w``)
and their product tables.

    python scenarios/products/generate.py

See :mod:`invmgmt_marl.scenario.skus` for what is drawn; the tests check the shipped files are current.
"""

from __future__ import annotations

from pathlib import Path

from invmgmt_marl.scenario.skus import write_sku_scenario

#: name -> (SKUs, nodes in series, seed)
SHIPPED = {
    "sku50_1w": (50, 1, 50),
    "sku200_1w": (200, 1, 200),
    "sku1000_1w": (1000, 1, 1000),
    "sku2000_3w": (2000, 3, 2000),
}


def main() -> None:
    here = Path(__file__).resolve().parent
    for name, (n, w, seed) in SHIPPED.items():
        write_sku_scenario(here, name, n, w, seed=seed)


if __name__ == "__main__":
    main()

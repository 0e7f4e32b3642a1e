"""PettingZoo API tests on the product scenarios in both agent forms (issue 10, "Tests").

Coverage elsewhere: the parallel and AEC tests of ``tests/env/test_api.py`` run over every listed
scenario (sku50_1w, sku200_1w, sku1000_1w) with node agents; ``tests/env/test_products_env.py`` runs
the parallel test on sku50_1w with both forms; ``tests/env/test_products_plumbing.py`` the parallel
test on sku2000_3w (slow). Here: the AEC test with SKU agents, and sku1000_1w (1,000 SKU agents) in
both forms, marked slow (each cycle of PettingZoo's checks walks every agent's spaces and dicts).
"""

from __future__ import annotations

import warnings

import pytest
from pettingzoo.test import api_test, parallel_api_test

import invmgmt_marl


@pytest.mark.parametrize("scenario", ["sku50_1w"])
def test_aec_api_with_sku_agents(scenario: str) -> None:
    env = invmgmt_marl.env(scenario, agents="node_product", periods=3)
    assert len(env.possible_agents) == 50 and env.possible_agents[0] == "store_0__sku0"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api_test(env, num_cycles=4)
    env.close()


@pytest.mark.slow  # sku1000_1w: 1,000 SKU agents, ~10 s for both forms on the shared machine
@pytest.mark.parametrize("agents", ["node", "node_product"])
def test_sku1000_api_in_both_forms(agents: str) -> None:
    env = invmgmt_marl.parallel_env("sku1000_1w", agents=agents, periods=2)
    assert len(env.possible_agents) == (1 if agents == "node" else 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel_api_test(env, num_cycles=3)
    aec = invmgmt_marl.env("sku1000_1w", agents=agents, periods=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api_test(aec, num_cycles=3)
    aec.close()

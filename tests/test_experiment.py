"""The which-pooling experiment: a small run of the command with its JSON, what its networks are
invariant to by construction, progress and cancelling, and operators that cannot take part."""

from __future__ import annotations

import json

import pytest
import torch

from pooling_core import PoolingError
from pooling_core.experiments import which_pooling
from pooling_core.experiments.which_pooling import SmallCNN, check_operators, digits, main, run


def test_a_quick_run_on_max_and_aps_prints_its_results_as_json(capsys):
    main(["--quick", "--operators", "max,aps", "--epochs", "3", "--seed", "0"])
    lines = capsys.readouterr().out.strip().splitlines()
    results = json.loads(lines[-1])
    assert results["seed"] == 0 and list(results["operators"]) == ["max", "aps"] and not results["cancelled"]
    for op, result in results["operators"].items():
        assert result["accuracy"] > 0.3, op  # chance is 0.1
        assert 0.0 <= result["consistency"] <= 1.0
        assert len(result["curve"]) == 3 and sum(map(sum, result["confusion"])) == 360  # the 20% test split
        assert result["parameters"] == results["operators"]["max"]["parameters"]  # neither pooling learns
    # APS makes every layer follow a circular shift, so the net's prediction ignores it.
    assert results["operators"]["aps"]["consistency"] == 1.0
    assert "epoch 3/3" in "\n".join(lines)


@pytest.fixture(scope="module")
def test_images():
    return digits(0)["x_test"][:100]


@pytest.mark.parametrize("op", ["max", "avg", "blur_max", "softpool", "aps"])
def test_every_network_ignores_shifts_by_multiples_of_the_total_stride(op, test_images):
    torch.manual_seed(1)
    model = SmallCNN(op).eval()
    with torch.no_grad():
        logits = model(test_images)
        moved = model(torch.roll(test_images, (4, -8), (-2, -1)))
    torch.testing.assert_close(moved, logits, rtol=0, atol=1e-5)  # equal up to rounding of the sums


def test_only_aps_ignores_a_one_pixel_shift(test_images):
    torch.manual_seed(1)
    for op, invariant in (("aps", True), ("max", False)):
        model = SmallCNN(op).eval()
        with torch.no_grad():
            difference = (model(torch.roll(test_images, (1, -3), (-2, -1))) - model(test_images)).abs().max()
        assert (difference < 1e-5) == invariant, (op, float(difference))


def test_progress_is_reported_per_epoch_and_a_cancel_stops_the_run(monkeypatch):
    monkeypatch.setitem(which_pooling.BUDGETS, "quick", dict(epochs=2, widths=(4, 8), shift_pairs=1))
    seen = []
    results = run(("avg", "max"), quick=True, progress=lambda op, epoch, epochs: seen.append((op, epoch, epochs)),
                  cancelled=lambda: len(seen) >= 2)
    assert seen == [("avg", 1, 2), ("avg", 2, 2)]
    assert list(results["operators"]) == ["avg"] and results["cancelled"]


def test_an_operator_that_does_not_halve_the_map_is_refused_with_a_sentence():
    with pytest.raises(PoolingError, match="global_avg does not turn a 16x16 map into 8x8"):
        check_operators(["max", "global_avg"])
    with pytest.raises(PoolingError, match="unknown operator"):
        check_operators(["median"])

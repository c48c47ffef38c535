"""Inpainting (Fig 3.6): the top half clamped through the sampling chain, through the CLI."""

from __future__ import annotations

import numpy as np
import torch

from infusion import cli
from infusion.data.registry import prepare, to_unit_interval
from infusion.nets.model import InfusionModel, save_model
from infusion.sampling.inpainting import top_half_mask
from infusion.settings import ModelSettings


def test_top_half_mask_marks_the_upper_rows_of_every_channel():
    mask = top_half_mask((3, 6, 5)).numpy().reshape(3, 6, 5)
    expected = np.zeros((3, 6, 5), dtype=bool)
    expected[:, :3, :] = True
    np.testing.assert_array_equal(mask, expected)


def test_inpaint_keeps_the_top_half_and_varies_the_bottom(tmp_path):
    data = prepare("shapes16", tmp_path / "shapes16.npz", tmp_path / "cache")
    torch.manual_seed(0)
    settings = ModelSettings(steps=3, alpha0=0.0, omega=0.1, network="conv", conv_channels=8)
    model = InfusionModel(settings, (3, 16, 16))
    with np.load(data) as arrays:
        train, test = to_unit_interval(arrays["train"]), to_unit_interval(arrays["test"][:3])
    model.fit_prior(torch.as_tensor(train))
    save_model(model, tmp_path / "model.pt")
    out = tmp_path / "inpainting.npz"
    command = ["inpaint", "--model", str(tmp_path / "model.pt"), "--data", str(data),
               "--out", str(out), "--images", "3", "--completions", "4",
               "--sampling-steps", "3", "--device", "cpu"]  # fmt: skip
    cli.main(command)

    saved = np.load(out)
    top = np.zeros((3, 16, 16), dtype=bool)
    top[:, :8] = True
    top = top.reshape(-1)
    np.testing.assert_array_equal(saved["mask"], top)
    np.testing.assert_array_equal(saved["images"], test)
    assert saved["completions"].shape == saved["starts"].shape == (3, 4, 768)
    for name in ("starts", "completions"):
        # the clamped pixels are the test image's, exactly, in every completion
        np.testing.assert_array_equal(saved[name][:, :, top], np.repeat(test[:, None, top], 4, 1))
    # the bottom half is the model's: away from the image and different between completions
    bottom = saved["completions"][:, :, ~top]
    assert np.abs(bottom - test[:, None, ~top]).mean() > 0.01
    assert np.abs(bottom[:, 0] - bottom[:, 1]).mean() > 1e-4

    figure = tmp_path / "fig3.6.png"
    cli.main(["artifact", "fig3.6", "--inpainting", str(out), "--out", str(figure)])
    assert figure.stat().st_size > 2000

"""Readable numbers and durations, and the ETA of a job's log lines (a fake clock: no
timing asserts)."""

import logging
import re

import pytest
from conftest import FakeClock

from infusion.data.registry import load
from infusion.runtime.progress import Progress
from infusion.runtime.units import duration, hours_text, significant
from infusion.settings import ModelSettings, TrainSettings
from infusion.training.trainer import Trainer


@pytest.mark.parametrize(
    "value, text",
    [
        (12634.0, "12,600"),
        (12600.0, "12,600"),
        (999.6, "1,000"),
        (9.996, "10.0"),
        (7.0, "7.00"),
        (0.03721, "0.0372"),
        (1.26e-5, "0.0000126"),
        (4_690_000.0, "4,690,000"),
        (0.0, "0"),
    ],
)
def test_significant_digits_never_use_an_exponent(value, text):
    assert significant(value) == text


@pytest.mark.parametrize(
    "hours, text",
    [
        (12600.0, "12,600 h (525 days)"),
        (1200.0, "1,200 h (50.0 days)"),
        (50.0, "50.0 h (2.08 days)"),
        (2.27, "2.27 h"),
        (0.37, "0.370 h (22.2 min)"),
        (0.001, "0.00100 h (3.60 s)"),
    ],
)
def test_hours_come_with_days_or_minutes(hours, text):
    assert hours_text(hours) == text


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0.43, "0.43 s"),
        (12.3, "12 s"),
        (210.0, "3.5 min"),
        (93600.0, "1.1 days"),
        (7200.0, "2.0 h"),
        (4.536e7, "530 days"),
    ],
)
def test_durations_pick_the_unit(seconds, text):
    assert duration(seconds) == text


def test_the_time_left_is_the_mean_time_per_unit_times_the_units_left():
    # started at t = 100; after 3 of 30 epochs at t = 112: 4 s an epoch, 27 left = 108 s
    progress = Progress(30, "epoch", clock=FakeClock(100.0, 112.0))
    assert progress.report(3) == "4.0 s/epoch, 12 s elapsed, 1.8 min left"


def test_a_resumed_job_counts_only_the_units_timed_here():
    # resumed after 20 of 30; 2 epochs in 10 s: 5 s each, 8 left = 40 s
    progress = Progress(30, "epoch", done=20, clock=FakeClock(0.0, 10.0))
    assert progress.report(22) == "5.0 s/epoch, 10 s elapsed, 40 s left"


def test_the_last_unit_leaves_nothing():
    assert Progress(2, "batch", clock=FakeClock(0.0, 3.0)).report(2).endswith("0 s left")


def test_each_epoch_line_of_training_says_the_time_left(digits_npz, tmp_path, caplog):
    trainer = Trainer(
        ModelSettings(steps=2, hidden=16),
        TrainSettings(epochs=2, batch_size=64, curve_examples=64),
        load(digits_npz),
        tmp_path / "run",
        tmp_path / "c.pt",
    )
    with caplog.at_level(logging.INFO, logger="infusion.training.trainer"):
        trainer.run()
    epochs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch ")]
    assert len(epochs) == 2
    pattern = r"epoch (\d)/2, .*valid bound -?[\d.]+, [\d.]+ (s|min)/epoch, .* elapsed, .* left"
    assert [re.fullmatch(pattern, line).group(1) for line in epochs] == ["1", "2"], epochs
    assert epochs[-1].endswith(" 0 s left")

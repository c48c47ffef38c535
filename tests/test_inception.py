"""Inception score and FID (Table 3.2): the math, torch-fidelity's path, weights, the table.

The real Inception weights cannot be downloaded here: the end-to-end test builds a weights
file of torch-fidelity's inception-v3-compat architecture with random values. The exact cases
(uniform predictions -> 1, certain predictions spread evenly over K classes -> K) go through
torch-fidelity with a stand-in feature extractor that returns chosen logits per image.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import math
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import torch
from local_server import serve
from reference import inception_score, softmax
from scipy.stats import entropy
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torch_fidelity.metric_isc import isc_features_to_metric
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

from infusion.cli import main
from infusion.data.download import DownloadError, md5sum
from infusion.data.registry import to_unit_interval
from infusion.estimation import inception
from infusion.paper import tables
from infusion.runtime.atomic import write_json, write_npz
from infusion.settings import InceptionSettings

STAND_IN = "infusion-test-logit-table"


class LogitTable(FeatureExtractorBase):
    """Stand-in feature extractor: image i -> ``LOGITS[i]``.

    The index is written in channel 0: pixel (0, 0) holds i % 256, pixel (0, 1) i // 256.
    """

    LOGITS = torch.zeros(1, 1)

    def __init__(self, name, features_list, **kwargs):
        super().__init__(name, features_list)

    @staticmethod
    def get_provided_features_list():
        return ("logits_unbiased",)

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return "logits_unbiased"

    @staticmethod
    def can_be_compiled():
        return False

    def forward(self, x):
        index = x[:, 0, 0, 0].long() + 256 * x[:, 0, 0, 1].long()
        return (LogitTable.LOGITS[index],)


if STAND_IN not in FEATURE_EXTRACTORS_REGISTRY:
    register_feature_extractor(STAND_IN, LogitTable)


def indexed_images(n: int, channels: int = 3) -> np.ndarray:
    """uint8 [n x channels x 4 x 4] images carrying their index for :class:`LogitTable`."""
    images = np.zeros((n, channels, 4, 4), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(n) % 256
    images[:, 0, 0, 1] = np.arange(n) // 256
    return images


def stand_in_score(logits: np.ndarray, splits: int, channels: int = 3) -> dict:
    """:func:`inception.score_images` through torch-fidelity with the stand-in extractor."""
    with mock.patch.object(LogitTable, "LOGITS", torch.as_tensor(logits, dtype=torch.float32)):
        return inception.score_images(
            indexed_images(len(logits), channels),
            splits=splits,
            batch=16,
            device="cpu",
            feature_extractor=STAND_IN,
        )


def direct_inception_score(p: np.ndarray, splits: int) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) per split by a loop over rows with scipy's KL."""
    n, scores = len(p), []
    for i in range(splits):
        chunk = p[i * n // splits : (i + 1) * n // splits]
        marginal = chunk.mean(axis=0)
        scores.append(math.exp(np.mean([entropy(row, marginal) for row in chunk])))
    return float(np.mean(scores)), float(np.std(scores))


# --- the math and the stand-in cases ------------------------------------------------------


def test_uniform_predictions_score_exactly_one():
    uniform = np.full((60, 7), 1 / 7)
    assert inception_score(uniform, splits=10) == pytest.approx((1.0, 0.0), abs=1e-12)
    result = stand_in_score(np.zeros((60, 7)), splits=10, channels=1)  # grey images
    assert result["inception_score_mean"] == pytest.approx(1.0, abs=1e-12)
    assert result["inception_score_std"] == pytest.approx(0.0, abs=1e-12)
    assert (result["images"], result["splits"]) == (60, 10)


@pytest.mark.parametrize("classes", [2, 7, 10])
def test_certain_predictions_spread_evenly_score_the_number_of_classes(classes):
    n = 10 * classes * 3  # every split holds each class 3 times
    labels = np.arange(n) % classes
    one_hot = np.eye(classes)[labels]
    assert inception_score(one_hot, 10) == pytest.approx((classes, 0.0), abs=1e-9)
    logits = np.where(one_hot == 1, 0.0, -1e4)  # softmax: exactly one-hot in float64
    result = stand_in_score(logits, splits=10)
    assert result["inception_score_mean"] == pytest.approx(classes, rel=1e-12)
    assert result["inception_score_std"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("n,splits", [(100, 10), (103, 10), (37, 4), (20, 1)])
def test_inception_score_matches_kl_loop_with_scipy(n, splits):
    rng = np.random.default_rng(n + splits)
    p = rng.dirichlet(np.full(6, 0.3), size=n)
    assert inception_score(p, splits) == pytest.approx(direct_inception_score(p, splits), rel=1e-10)


def test_inception_score_matches_torch_fidelity_unshuffled():
    rng = np.random.default_rng(5)
    logits = rng.normal(scale=3.0, size=(57, 11)).astype(np.float32)  # 10 splits of 5 or 6
    ours = inception_score(softmax(logits), 10)
    result = stand_in_score(logits, splits=10)
    assert (result["inception_score_mean"], result["inception_score_std"]) == pytest.approx(
        ours, rel=1e-9
    )
    # torch-fidelity's default shuffles the samples before splitting: another number.
    shuffled = isc_features_to_metric(torch.as_tensor(logits), 10, shuffle=True)
    assert shuffled["inception_score_std"] != pytest.approx(ours[1], rel=1e-3)


@pytest.mark.parametrize("splits", [3, 5])
def test_package_score_uses_the_splits_it_is_given(splits):
    """The package's score at other than the paper's 10 splits, against the direct loop."""
    rng = np.random.default_rng(splits)
    logits = rng.normal(scale=3.0, size=(41, 9)).astype(np.float32)
    result = stand_in_score(logits, splits=splits)
    direct = direct_inception_score(softmax(logits.astype(np.float64)), splits)
    assert (result["inception_score_mean"], result["inception_score_std"]) == pytest.approx(
        direct, rel=1e-6
    )
    assert result["splits"] == splits


def test_inception_score_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\[N x K\]"):
        inception_score(np.ones(5), 1)
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.full((5, 2), 0.5), 6)
    with pytest.raises(ValueError, match="summing to 1"):
        inception_score(np.full((5, 2), 0.7), 1)
    with pytest.raises(ValueError, match="C = 1 or 3"):
        inception.score_images(np.zeros((4, 2, 4, 4), np.uint8), feature_extractor=STAND_IN)
    with pytest.raises(ValueError, match="splits"):
        InceptionSettings(images=5, splits=10)


def test_to_pixels_inverts_the_unit_interval_scaling():
    pixels = np.arange(256, dtype=np.uint8).reshape(4, 1, 8, 8)
    assert np.array_equal(inception.to_pixels(to_unit_interval(pixels), (1, 8, 8)), pixels)
    clipped = inception.to_pixels(np.array([[-0.1, 1.0]]), (1, 1, 2))
    assert clipped.tolist() == [[[[0, 255]]]]


# --- the real Inception architecture with random weights ----------------------------------


@pytest.mark.slow
def test_random_weight_inception_cli_gives_finite_is_and_fid(random_weights, tmp_path):
    """The real path on CPU: 6 images (resized to 299 x 299) and FID's eigenvalues of a
    2048 x 2048 matrix take 20-40 s on 2 cores."""
    rng = np.random.default_rng(0)
    means = rng.uniform(0, 1, size=(4, 3 * 8 * 8)).astype(np.float32)
    write_npz(tmp_path / "samples.npz", means=means, shape=np.array([3, 8, 8]))
    real = rng.integers(0, 256, size=(2, 3, 8, 8), dtype=np.uint8)
    write_npz(tmp_path / "data.npz", train=real[:1], valid=real[1:], test=real[1:])
    out = tmp_path / "inception.json"
    batches = []  # (input images, logits) of every forward pass of the Inception network
    forward = FeatureExtractorInceptionV3.forward

    def recording_forward(net, x):
        features = forward(net, x)
        batches.append((x.clone(), net.convert_features_tuple_to_dict(features)))
        return features

    with mock.patch.object(FeatureExtractorInceptionV3, "forward", recording_forward):
        main(
            ["--log-level", "WARNING", "inception", "--samples", str(tmp_path / "samples.npz")]
            + ["--reference", str(tmp_path / "data.npz"), "--reference-splits", "train", "valid"]
            + ["--weights", str(random_weights), "--images", "4", "--splits", "2"]
            + ["--weights-sha256", hashlib.sha256(random_weights.read_bytes()).hexdigest()[:8]]
            + ["--batch", "4", "--device", "cpu", "--out", str(out)]
        )
    result = json.loads(out.read_text())
    assert 1 < result["inception_score_mean"] <= 1008
    assert math.isfinite(result["inception_score_std"])
    assert math.isfinite(result["frechet_inception_distance"])
    assert (result["images"], result["splits"], result["reference_images"]) == (4, 2, 2)
    assert result["weights"] == str(random_weights)

    # The samples went in as round(256 x), in order; their logits give the same score here.
    (images, features), (reference, _) = batches
    assert torch.equal(images, torch.from_numpy(inception.to_pixels(means, (3, 8, 8))))
    assert torch.equal(reference, torch.from_numpy(real))
    expected = inception_score(softmax(features["logits_unbiased"].numpy()), 2)
    assert (result["inception_score_mean"], result["inception_score_std"]) == pytest.approx(
        expected, rel=1e-6
    )


# --- weights: missing, and fetched into the cache -----------------------------------------


def test_missing_weights_name_the_file_the_cache_and_the_config_key(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cached = tmp_path / "torch" / "hub" / "checkpoints" / inception.WEIGHTS_FILE
    assert inception.default_weights_path() == cached
    with pytest.raises(FileNotFoundError) as error:
        inception.score_images(indexed_images(10))
    for part in (inception.WEIGHTS_FILE, str(cached), "inception.weights", "--weights"):
        assert part in str(error.value)
    with pytest.raises(FileNotFoundError, match="inception.weights"):
        inception.resolve_weights(tmp_path / "absent.pth")


def test_missing_weights_stop_the_command_with_the_message(
    tmp_path, monkeypatch, digits_npz, caplog
):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    out = tmp_path / "inception.json"
    with pytest.raises(SystemExit) as stop:
        main(["inception", "--data", str(digits_npz), "--images", "20", "--out", str(out)])
    assert stop.value.code == 1
    assert inception.WEIGHTS_FILE in caplog.text and "inception.weights" in caplog.text
    assert not out.exists()


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--data-splits", "train", "nope"], "has no split 'nope'"),
        (["--images", "100000"], "images, 100000 are to be scored"),
    ],
)
def test_inception_command_rejects_bad_inputs(flags, message, digits_npz, tmp_path, caplog):
    out = tmp_path / "inception.json"
    with pytest.raises(SystemExit):
        main(["inception", "--data", str(digits_npz), *flags, "--out", str(out)])
    assert message in caplog.text
    assert not out.exists()


PAYLOAD = bytes(range(256)) * 16
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()
PAYLOAD_PREFIX = hashlib.sha256(PAYLOAD).hexdigest()[:8]  # what a hub name would carry
SERVED = f"weights-test-{PAYLOAD_PREFIX}.pth"


def test_official_weights_name_gives_the_sha256_prefix_torch_hub_checks():
    assert inception.WEIGHTS_SHA256_PREFIX == "6726825d"  # torch-fidelity's release name
    assert inception.hub_sha256_prefix("resnet18-f37072fd.pth") == "f37072fd"  # torchvision's
    assert inception.hub_sha256_prefix(SERVED) == PAYLOAD_PREFIX
    for name in ("weights.pth", "weights-inception.pth", "model-6726825.pth"):
        with pytest.raises(ValueError, match=f"{name}: no SHA-256 prefix"):
            inception.hub_sha256_prefix(name)


@pytest.fixture
def server():
    """A local HTTP server serving ``/SERVED``; yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (name fixed by BaseHTTPRequestHandler)
            if self.path != f"/{SERVED}":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)

        def log_message(self, *args):
            pass

    with serve(Handler) as url:
        yield url


def test_fetch_weights_needs_no_md5_and_lands_in_the_cache_torch_fidelity_reads(
    server, tmp_path, monkeypatch
):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    expected = inception.hub_sha256_prefix(SERVED)
    path = inception.fetch_weights(urls=[f"{server}/{SERVED}"], sha256_prefix=expected)
    assert path == inception.default_weights_path()
    assert path.read_bytes() == PAYLOAD
    assert inception.resolve_weights(None, PAYLOAD_PREFIX) == path


def test_fetch_weights_of_another_sha256_or_md5_leaves_no_file(server, tmp_path):
    dest = tmp_path / "cache" / inception.WEIGHTS_FILE
    url = f"{server}/{SERVED}"
    with pytest.raises(DownloadError) as error:
        inception.fetch_weights(dest=dest, urls=[url])  # the official file's prefix expected
    assert f"expected sha256 prefix 6726825d, got {PAYLOAD_PREFIX}" in str(error.value)
    assert list(dest.parent.iterdir()) == []
    with pytest.raises(DownloadError, match=f"expected md5 {'0' * 32}, got {PAYLOAD_MD5}"):
        inception.fetch_weights("0" * 32, dest, [url], sha256_prefix=PAYLOAD_PREFIX)
    assert list(dest.parent.iterdir()) == []


def test_local_weights_are_checked_by_content_whatever_their_name(tmp_path, digits_npz, caplog):
    copy = tmp_path / "my-inception-copy.pth"
    copy.write_bytes(PAYLOAD)
    assert inception.resolve_weights(copy, PAYLOAD_PREFIX) == copy
    with pytest.raises(ValueError) as error:
        inception.resolve_weights(copy)  # the official file's prefix expected
    message = str(error.value)
    assert str(copy) in message
    assert f"expected sha256 prefix 6726825d, got {PAYLOAD_PREFIX}" in message
    assert "inception.weights_sha256" in message
    hub_named = tmp_path / inception.WEIGHTS_FILE  # the official name does not make it pass
    hub_named.write_bytes(PAYLOAD)
    with pytest.raises(ValueError, match="expected sha256 prefix 6726825d"):
        inception.resolve_weights(hub_named)

    out = tmp_path / "inception.json"
    command = ["inception", "--data", str(digits_npz), "--images", "20", "--out", str(out)]
    with pytest.raises(SystemExit) as stop:
        main([*command, "--weights", str(copy)])
    assert stop.value.code == 1 and str(copy) in caplog.text and "6726825d" in caplog.text
    assert not out.exists()


def test_fetch_command_downloads_to_the_cache_or_to_out(server, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    command = ["fetch-inception-weights", "--url", f"{server}/{SERVED}"]
    main([*command, "--weights-sha256", PAYLOAD_PREFIX])
    assert inception.default_weights_path().read_bytes() == PAYLOAD
    main([*command, "--weights-sha256", PAYLOAD_PREFIX, "--md5", PAYLOAD_MD5]
         + ["--out", str(tmp_path / "weights.pth")])  # fmt: skip
    assert md5sum(tmp_path / "weights.pth") == PAYLOAD_MD5
    for wrong in (["--out"], ["--weights-sha256", PAYLOAD_PREFIX, "--md5", "0" * 32, "--out"]):
        with pytest.raises(SystemExit):  # the official file's SHA-256 expected; a wrong MD5
            main([*command, *wrong, str(tmp_path / "wrong.pth")])
        assert not (tmp_path / "wrong.pth").exists()


# --- Table 3.2 ----------------------------------------------------------------------------


def _metrics(path, kind, mean, std, images, fid=None):
    record = {kind: "x.npz", "inception_score_mean": mean, "inception_score_std": std}
    record |= {"images": images, "splits": 10}
    if fid is not None:
        record["frechet_inception_distance"] = fid
    write_json(path, record)
    return path


def test_table_3_2_sets_ours_beside_the_paper(tmp_path):
    samples = _metrics(tmp_path / "samples.json", "samples", 4.1, 0.05, 50000, fid=80.5)
    real = _metrics(tmp_path / "real.json", "data", 11.2, 0.1, 50000)
    out = tmp_path / "table3.2.csv"
    main(["artifact", "table3.2", "--samples", str(samples), "--real", str(real),
          "--out", str(out)])  # fmt: skip
    table = pd.read_csv(out)
    assert list(table.columns) == tables.TABLE_3_2_COLUMNS
    assert list(table["model"]) == ["Real data", "SP", "-L", "-MBF", "Infusion training"]
    # The thesis' Table 3.2, copied by hand.
    assert list(table["paper_inception_score"]) == [11.24, 8.09, 4.36, 3.87, 4.62]
    assert list(table["paper_inception_score_error"]) == [0.12, 0.07, 0.06, 0.03, 0.06]
    rows = table.set_index("model")
    assert rows.loc[
        "Infusion training", ["inception_score", "inception_score_std", "fid"]
    ].tolist() == [
        4.1,
        0.05,
        80.5,
    ]
    assert rows.loc["Infusion training", "difference"] == pytest.approx(4.1 - 4.62)
    assert rows.loc["Real data", "inception_score"] == 11.2
    assert rows.loc["Real data", "difference"] == pytest.approx(11.2 - 11.24)
    assert math.isnan(rows.loc["Real data", "fid"])
    assert rows.loc[["SP", "-L", "-MBF"], ["inception_score", "fid", "images"]].isna().all().all()
    assert rows.loc["Real data", "images"] == 50000


def test_table_3_2_rejects_swapped_inputs(tmp_path):
    samples = _metrics(tmp_path / "samples.json", "samples", 4.1, 0.05, 50000)
    real = _metrics(tmp_path / "real.json", "data", 11.2, 0.1, 50000)
    with pytest.raises(ValueError, match="does not score samples"):
        tables.table_3_2(real, samples, tmp_path / "t.csv")
    assert not (tmp_path / "t.csv").exists()

"""The playground's logic: data sets, features, configuration strings, training, export."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import playground as pg
from course.network import MLP
from course.playground import Config, Trainer
from course.playground_widget import Playground

# ---- data sets


def test_plane_targets_are_the_scaled_sum_of_the_inputs():
    X, y = pg.make_data("plane", noise=0.0, seed=3)
    assert X.shape == (1200, 2) and y.shape == (1200, 1)
    assert np.all(np.abs(X) <= 6)
    np.testing.assert_allclose(y[:, 0], (X[:, 0] + X[:, 1]) / 10)
    assert y.min() < -0.8 and y.max() > 0.8  # the whole range [-1.2, 1.2] is sampled


def _bump_label(x1, x2):
    """Multi-Gaussian target written out point by point: the strongest signed bump wins."""
    centres = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1),
               (4, -2.5, -1)]
    best = 0.0
    for cx, cy, sign in centres:
        distance = ((x1 - cx) ** 2 + (x2 - cy) ** 2) ** 0.5
        value = sign * min(1.0, max(0.0, 1 - distance / 2))
        if abs(value) > abs(best):
            best = value
    return best


def test_multigauss_targets_follow_the_six_bumps():
    X, y = pg.make_data("multigauss", noise=0.0, seed=1)
    assert X.shape == (1200, 2) and y.shape == (1200, 1)
    assert np.all(np.abs(X) <= 6)
    expected = [_bump_label(a, b) for a, b in X]
    np.testing.assert_allclose(y[:, 0], expected)
    assert y.min() < -0.9 and y.max() > 0.9 and np.mean(y == 0) > 0.2


def test_regression_noise_moves_the_point_the_target_is_read_at():
    X, y = pg.make_data("plane", noise=0.5, seed=5)
    clean = (X[:, 0] + X[:, 1]) / 10
    shift = np.abs(y[:, 0] - clean)  # each coordinate moves by at most 0.5 * 6
    assert shift.max() <= 0.6 + 1e-12 and np.mean(shift > 0.05) > 0.5
    X, y = pg.make_data("multigauss", noise=0.5, seed=5)
    clean = np.array([_bump_label(a, b) for a, b in X])
    assert np.all(np.abs(y) <= 1) and np.mean(np.abs(y[:, 0] - clean) > 1e-9) > 0.3


def test_circle_labels_split_inner_disc_from_outer_ring():
    X, y = pg.make_data("circle", noise=0.0, seed=2)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all((r < 2.5) == (y == 1)) and np.all(r <= 5)
    assert abs(y.mean() - 0.5) < 0.01


def test_xor_labels_are_the_sign_of_the_product():
    X, y = pg.make_data("xor", noise=0.0, seed=2)
    assert np.all((X[:, 0] * X[:, 1] >= 0) == (y == 1))
    assert np.all(np.abs(X) >= 0.3)


def test_three_arm_spiral_has_three_balanced_classes_and_a_softmax_output():
    X, y = pg.make_data("spiral3", seed=0)
    assert np.bincount(y).tolist() == [200, 200, 200]
    config = Config(data="spiral3")
    assert config.output == "softmax" and config.sizes == [2, 4, 2, 3]


@pytest.mark.parametrize("name", list(pg.DATASETS))
def test_data_sets_are_seeded(name):
    a, b, c = (pg.make_data(name, 0.1, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_split_keeps_every_point_once():
    X, y = pg.make_data("gauss", 0.2, seed=0)
    Xa, ya, Xb, yb = pg.split(X, y, 30, seed=0)
    assert len(Xa) == 150 and len(Xb) == 350
    both = np.concatenate([Xa, Xb])
    assert sorted(map(tuple, both)) == sorted(map(tuple, X))


# ---- features


def test_every_feature_transform():
    X = np.array([[2.0, -3.0], [0.5, 1.0], [-1.5, 0.0]])
    expected = {
        "x1": [2.0, 0.5, -1.5], "x2": [-3.0, 1.0, 0.0], "x1^2": [4.0, 0.25, 2.25],
        "x2^2": [9.0, 1.0, 0.0], "x1*x2": [-6.0, 0.5, -0.0],
        "sin(x1)": [0.9092974268256817, 0.479425538604203, -0.9974949866040544],
        "sin(x2)": [-0.1411200080598672, 0.8414709848078965, 0.0],
    }
    assert set(expected) == set(pg.FEATURES)
    for name, values in expected.items():
        np.testing.assert_allclose(pg.feature_matrix(X, [name])[:, 0], values, rtol=1e-15)
    F = pg.feature_matrix(X, ["x2^2", "x1"])
    np.testing.assert_array_equal(F, np.c_[[9.0, 1.0, 0.0], [2.0, 0.5, -1.5]])


def test_grid_points_run_like_an_image():
    P = pg.grid_points(4)
    assert P.shape == (16, 2)
    np.testing.assert_allclose(P[0], [-4.5, 4.5])   # top left
    np.testing.assert_allclose(P[3], [4.5, 4.5])    # top right
    np.testing.assert_allclose(P[-1], [4.5, -4.5])  # bottom right


# ---- configuration


def test_config_string_round_trips_a_given_example():
    text = ("data=spiral&noise=25&train=70&seed=12&x=x1,x2,sin(x1),sin(x2)&h=8,8,5&act=relu"
            "&lr=0.003&reg=L2&rr=0.001&batch=16&opt=adam")
    config = Config.decode(text)
    assert config.layers == (8, 8, 5) and config.features == ("x1", "x2", "sin(x1)", "sin(x2)")
    assert config.lr == 0.003 and config.reg == "L2" and config.optimizer == "adam"
    assert config.encode() == text
    assert Config.decode("h=2") == Config(layers=(2,))  # missing keys keep their defaults


configs = st.builds(
    Config,
    data=st.sampled_from(list(pg.DATASETS)), noise=st.integers(0, 50),
    train=st.integers(10, 90), seed=st.integers(0, 2**31 - 1),
    features=st.sets(st.sampled_from(list(pg.FEATURES)), min_size=1).map(tuple),
    layers=st.lists(st.integers(1, pg.MAX_UNITS), max_size=pg.MAX_LAYERS).map(tuple),
    activation=st.sampled_from(list(pg.ACTIVATIONS)),
    lr=st.floats(1e-6, 10, allow_nan=False), reg=st.sampled_from(pg.REGULARIZATIONS),
    reg_rate=st.floats(0, 10, allow_nan=False), batch=st.integers(1, pg.MAX_BATCH),
    optimizer=st.sampled_from(list(pg.OPTIMIZERS)))


@settings(max_examples=200, deadline=None)
@given(configs)
def test_config_string_round_trips(config):
    assert Config.decode(config.encode()) == config


@pytest.mark.parametrize("text, reason", [
    ("", "empty"),
    ("data=moon", "data"),
    ("h=4,0", "1 to 8 units"),
    ("h=9", "1 to 8 units"),
    ("h=1,1,1,1,1,1,1,1,1", "at most 6 hidden layers"),
    ("lr=fast", "cannot read 'fast'"),
    ("lr=0", "lr"),
    ("noise=80", "noise: must be between 0 and 50"),
    ("x=", "at least one input feature"),
    ("x=x1,x3", "unknown feature 'x3'"),
    ("act=softsign", "activation"),
    ("colour=red", "unknown key 'colour'"),
    ("data=circle&data=xor", "given twice"),
    ("data circle", "key=value"),
])
def test_invalid_config_strings_say_why(text, reason):
    with pytest.raises(ValueError, match=None) as err:
        Config.decode(text)
    assert reason in str(err.value)


# ---- training


def test_a_step_lowers_the_loss_on_xor():
    trainer = Trainer(Config(data="xor", layers=(4,), activation="tanh", lr=0.1))
    before = trainer.train_loss
    trainer.step(1)
    assert trainer.epoch == 1 and trainer.train_loss < before
    trainer.step(40)
    assert trainer.train_loss < before / 2 and trainer.model.accuracy(
        trainer.F_test, trainer.y_test) > 0.9


def test_reset_restores_the_initial_weights():
    config = Config(data="circle", layers=(4, 4), activation="relu", seed=4)
    trainer = Trainer(config)
    fresh = MLP([2, 4, 4, 1], hidden="relu", output="sigmoid", seed=4).params
    trainer.step(3)
    assert not np.array_equal(trainer.model.params["W1"], fresh["W1"])
    trainer.reset()
    assert trainer.epoch == 0 and len(trainer.history["train"]) == 1
    for k, v in fresh.items():
        np.testing.assert_array_equal(trainer.model.params[k], v)


def test_training_settings_keep_the_weights_and_the_architecture_rebuilds():
    trainer = Trainer(Config(layers=(3,)))
    trainer.step(2)
    W = trainer.model.params["W1"].copy()
    trainer.apply(trainer.config.replace(lr=0.3, reg="L2", reg_rate=0.01, optimizer="adam"))
    np.testing.assert_array_equal(trainer.model.params["W1"], W)
    assert trainer.model.l2 == 0.01 and trainer.optimizer.rate() == 0.3
    assert trainer.epoch == 2
    trainer.apply(trainer.config.replace(features=("x1", "x2", "x1*x2"), layers=(5, 2)))
    assert trainer.model.sizes == [3, 5, 2, 1] and trainer.epoch == 0


def test_regression_trains_a_linear_output_on_the_plane():
    trainer = Trainer(Config(data="plane", layers=(), lr=0.01))
    assert trainer.model.output == "linear"
    before = trainer.test_loss
    trainer.step(5)
    assert trainer.test_loss < before / 10


def test_frame_pictures_are_the_units_over_the_plane():
    trainer = Trainer(Config(layers=(3, 2), activation="tanh"))
    R = 8
    f = trainer.frame(R)
    assert f["output"].shape == (R, R, 4) and [u.shape for u in f["units"]] == [
        (3, R, R, 4), (2, R, R, 4)]
    P = pg.grid_points(R)
    hidden = trainer.model.hidden_activations(P)
    for layer, h in zip(f["units"], hidden):
        for u in range(h.shape[1]):
            np.testing.assert_array_equal(layer[u], pg.diverging_rgba(h[:, u].reshape(R, R)))
    p = trainer.model.predict_proba(P)[:, 0].reshape(R, R)
    blue = f["output"][..., 2].astype(int) - f["output"][..., 0]  # > 0 where p > 1/2
    sure = np.abs(p - 0.5) > 1e-3
    assert np.array_equal((blue > 0)[sure], (p > 0.5)[sure])
    assert len(f["grad_norms"]) == 3 and f["dead"] == [0, 0]


def test_dead_relu_units_are_counted():
    trainer = Trainer(Config(layers=(3,), activation="relu"))
    trainer.model.params["b1"][:] = [-100.0, 0.0, 0.0]  # unit 1 is negative everywhere
    f = trainer.frame(4)
    assert f["dead"] == [1] and f["dead_mask"] == [[True, False, False]]


def test_colours_run_from_orange_through_grey_to_blue():
    rgba = pg.diverging_rgba(np.array([-5.0, -1.0, 0.0, 1.0, 2.0]))
    assert rgba[0].tolist() == rgba[1].tolist() == [245, 147, 34, 255]
    assert rgba[2].tolist() == [232, 234, 235, 255]
    assert rgba[3].tolist() == rgba[4].tolist() == [8, 119, 189, 255]
    assert pg.diverging_rgba([0.01], discrete=True)[0].tolist() == [8, 119, 189, 255]
    assert pg.class_rgba(np.array([[0.0, 0.0, 1.0]]))[0].tolist() == [72, 160, 72, 255]


# ---- export


@pytest.mark.parametrize("config", [
    Config(data="circle", layers=(4, 4), activation="tanh"),
    Config(data="spiral3", features=("x1", "x2", "sin(x1)"), layers=(5,), activation="relu",
           reg="L1", reg_rate=0.001),
    Config(data="multigauss", layers=(), activation="linear"),
])
def test_exported_code_rebuilds_the_same_network(config):
    trainer = Trainer(config)
    trainer.step(2)
    namespace = {}
    exec(trainer.export_code(), namespace)
    model = namespace["model"]
    assert namespace["config"] == config
    assert model.sizes == trainer.model.sizes and model.hidden == trainer.model.hidden
    assert (model.output, model.l1, model.l2) == (
        trainer.model.output, trainer.model.l1, trainer.model.l2)
    assert model.params.keys() == trainer.model.params.keys()
    for k, v in trainer.model.params.items():
        np.testing.assert_array_equal(model.params[k], v)
    X = pg.grid_points(20)
    np.testing.assert_array_equal(model.forward(namespace["features"](X)),
                                  trainer.model.forward(trainer.grid_features(20)[1]))


# ---- the control's bad input (no browser needed)


def test_the_control_refuses_an_invalid_string_and_keeps_everything():
    widget = Playground()
    widget.step(2)
    before = (widget.config, widget.code, widget.trainer.epoch,
              {k: v.copy() for k, v in widget.trainer.model.params.items()})
    assert widget.load("data=circle&h=4,0") is False
    assert "1 to 8 units" in widget.error
    assert (widget.config, widget.code, widget.trainer.epoch) == before[:3]
    for k, v in before[3].items():
        np.testing.assert_array_equal(widget.trainer.model.params[k], v)
    assert widget.load("data=xor&h=3") is True and widget.error == ""
    assert widget.trainer.config.data == "xor" and widget.trainer.model.sizes == [2, 3, 1]


@pytest.mark.parametrize("layers, reason", [([4, 0], "1 to 8 units"), ([1] * 9, "at most 6")])
def test_the_controls_cannot_make_an_impossible_network(layers, reason):
    widget = Playground()
    good = dict(widget.config)
    widget.config = {**good, "layers": layers}
    assert reason in widget.error
    assert widget.config == good and widget.trainer.config.layers == (4, 2)


def test_the_control_trains_only_while_playing(tmp_path):
    widget = Playground(export_path=tmp_path / "net.py")
    widget._on_msg(widget, {"type": "frame"}, [])
    assert widget.trainer.epoch == 0
    widget.playing = True
    for _ in range(3):
        widget._on_msg(widget, {"type": "frame"}, [])
    widget._on_msg(widget, {"type": "step"}, [])
    assert widget.trainer.epoch == 4
    widget._on_msg(widget, {"type": "export"}, [])
    namespace = {}
    exec((tmp_path / "net.py").read_text(), namespace)
    np.testing.assert_array_equal(namespace["model"].params["W2"],
                                  widget.trainer.model.params["W2"])
    widget._on_msg(widget, {"type": "regenerate"}, [])
    assert widget.trainer.config.seed == 1 and widget.trainer.epoch == 0


def test_a_config_string_restores_the_same_run():
    text = Config(data="spiral", noise=20, layers=(6, 3), activation="relu", seed=9).encode()
    a, b = Trainer(Config.decode(text)), Trainer(Config.decode(text))
    a.step(3)
    b.step(3)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    for k, v in a.model.params.items():
        np.testing.assert_array_equal(b.model.params[k], v)
    c = Trainer(Config.decode(text.replace("seed=9", "seed=10")))
    assert not np.array_equal(c.X_train, a.X_train)


def test_two_gaussians_spread_with_the_noise():
    for noise, variance in ((0.0, 0.5), (0.5, 4.0)):
        X, y = pg.make_data("gauss", noise, seed=0, n=20000)
        centred = X - np.where(y[:, None] == 1, 2.0, -2.0)
        np.testing.assert_allclose(centred.var(axis=0), variance, rtol=0.05)

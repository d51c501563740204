"""Mixed-type DataFrames: categories, text and missing values encoded inside the estimator."""

import io
import math
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skresnet import ResidualMLPRegressor, ResNetClassifier
from skresnet._tabular import (
    CLIP,
    ID_LABEL,
    MAX_ONE_HOT,
    WIDE_CLIP,
    RobustSmoothClip,
    _id_columns,
    choose_clip,
    needs_preprocessing,
    table_preprocessor,
)
from skresnet.modules import OutputAverage, ProbabilityAverage

FAST = dict(max_epochs=3, random_state=0, device="cpu")


def _frame(n=240, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(50, 10, n),
            "kind": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "city": pd.array(rng.choice(["x", "y", None], n), dtype="string"),
            "shop": [f"s{i}" for i in rng.integers(0, 3 * MAX_ONE_HOT, n)],
            "age": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "open": rng.random(n) < 0.5,
        }
    )
    y = frame["size"] / 10 + (frame["kind"] == "a") * 2 + rng.normal(0, 0.1, n)
    return frame, y.to_numpy()


@pytest.mark.parametrize("Est", [ResidualMLPRegressor, ResNetClassifier])
def test_mixed_frame_is_encoded_inside(Est):
    X, y = _frame()
    target = y if Est is ResidualMLPRegressor else np.where(y > np.median(y), "hi", "lo")
    model = Est(**FAST).fit(X, target)
    assert model.n_features_in_ == 6
    assert list(model.feature_names_in_) == list(X.columns)
    parts = {name: cols for name, _, cols in model.preprocessor_.transformers_}
    assert parts["numeric"] == ["size", "age", "open"]
    assert parts["one_hot"] == ["kind", "city"]
    assert parts["target"] == ["shop"]  # more than MAX_ONE_HOT levels
    assert parts["codes"] == ["shop"]  # ... also embedded by the network
    # size, age, open, age's missing indicator, 3 + 3 one-hot levels (None a level),
    # one target-encoded column (binary: one), one column of level codes
    assert model.sample_shape_ == (4 + 6 + 1 + 1,)
    codes = model.preprocessor_.named_transformers_["codes"].named_steps["levelcodes"]
    # a refit classifier averages two networks of this build (ProbabilityAverage)
    network = getattr(model.module_, "networks", [model.module_])[-1]
    assert network.category_embedding.table.shape[0] == codes.cardinalities_[0]
    assert network.linear_skip.in_features == 4 + 6 + 1  # not the codes
    out = model.predict(X)
    assert out.shape == (len(X),)
    # the columns as in fit, in fit's order, as scikit-learn requires
    with pytest.raises(ValueError, match="same order as they were in fit"):
        model.predict(X[X.columns[::-1]])


def test_unseen_and_missing_levels_at_predict():
    X, y = _frame()
    model = ResidualMLPRegressor(**FAST).fit(X, y)
    new = X.head(4).copy()
    new["kind"] = pd.Categorical(["a", "zzz", None, "b"])
    new["shop"] = ["never", "seen", None, "s1"]
    new["age"] = np.nan
    out = model.predict(new)
    assert np.all(np.isfinite(out))
    # a missing city is its own level: the same as the training rows' missing ones
    row = X[X["city"].isna()].head(1)
    np.testing.assert_array_equal(
        model.predict(row), model.predict(row.assign(city=pd.array([None], dtype="string")))
    )


def test_missing_extra_and_reordered_columns_and_arrays_are_refused():
    """A mixed frame's columns must match fit's, as a numeric frame's must (scikit-learn's
    rule): the two paths once differed, the mixed one ignoring extras and reordering."""
    X, y = _frame()
    model = ResidualMLPRegressor(**FAST).fit(X, y)
    numeric = ResidualMLPRegressor(**FAST).fit(X[["size", "open"]], y)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['shop'\]"):
        model.predict(X.drop(columns="shop"))
    for est, frame in ((model, X), (numeric, X[["size", "open"]])):
        for changed, found in (
            (frame.assign(extra=1.0), "unseen at fit time"),
            (frame[frame.columns[::-1]], "same order as they were in fit"),
        ):
            with pytest.raises(ValueError, match=f"feature names should match(.|\n)*{found}"):
                est.predict(changed)
    np.testing.assert_array_equal(model.predict(X[list(model.feature_names_in_)]), model.predict(X))
    with pytest.raises(ValueError, match="needs a DataFrame"):
        model.predict(X.to_numpy())


def test_text_in_a_column_numeric_at_fit_is_refused_by_name():
    """The imputer's own error named no column; numbers as text still convert."""
    X, y = _frame()
    model = ResidualMLPRegressor(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"X column 'size' was numeric at fit time(.|\n)*'oops'"):
        model.predict(X.assign(size=["oops"] + [1.0] * (len(X) - 1)))
    dates = X.assign(size=pd.date_range("2020-01-01", periods=len(X)))
    with pytest.raises(ValueError, match=r"X column 'size' was numeric at fit time; got datetime"):
        model.predict(dates)
    as_text = X.assign(size=X["size"].astype(str).astype(object))
    np.testing.assert_allclose(model.predict(as_text), model.predict(X), rtol=1e-6)
    with_missing = X.assign(size=X["size"].astype(object).where(X.index > 0, None))
    assert np.isfinite(model.predict(with_missing)).all()


def test_numeric_frames_and_preprocessing_none_are_unchanged():
    X, y = _frame()
    numeric = X[["size", "open"]]
    model = ResidualMLPRegressor(**FAST).fit(numeric, y)
    assert model.preprocessor_ is None and model.sample_shape_ == (2,)
    with pytest.raises(ValueError, match="X must hold numbers"):
        ResidualMLPRegressor(preprocessing=None, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="preprocessing"):
        ResidualMLPRegressor(preprocessing="always", **FAST).fit(X, y)


@pytest.mark.parametrize(
    "label, is_id",
    [
        ("id", True),
        ("ID", True),
        ("user_id", True),
        ("Person_ID", True),
        ("user.id", True),
        ("userId", True),
        ("childID", True),
        ("childid", True),
        ("townid", True),
        ("hhid", True),
        ("pid", True),
        ("HHID", True),
        ("PRODID", True),
        ("PAID", False),
        ("VALID", False),
        ("lipid", False),
        ("solid", False),
        ("paid", False),
        ("humid", False),
        ("idle", False),
        ("width", False),
    ],
)
def test_id_label(label, is_id):
    assert bool(ID_LABEL.search(label)) is is_id


def test_integer_id_column_is_read_as_a_category_and_a_number():
    """40 people, 15 rows each, each with an offset of its own: a number cannot say
    which person a row is, a level can; a numeric frame with such a column is encoded."""
    rng = np.random.default_rng(0)
    person = np.repeat(np.arange(1000, 1040), 15)
    x = rng.normal(size=len(person))
    y = rng.normal(0, 2, 40)[person - 1000] + x + rng.normal(0, 0.3, len(person))
    test = np.arange(len(person)) % 4 == 0
    scores = {}
    for label in ("person_id", "person", "serial"):
        X = pd.DataFrame({label: person, "x": x})
        model = ResidualMLPRegressor(random_state=0, max_epochs=30).fit(X[~test], y[~test])
        scores[label] = model.score(X[test], y[test])
        if label == "person_id":
            blocks = {name: cols for name, _, cols in model.preprocessor_.transformers_}
            assert "person_id" in blocks["numeric"] and "person_id" in blocks["target"]
            assert model.n_features_in_ == 2
            # an unseen id predicts (the shared level), and the model round-trips
            unseen = pd.DataFrame({label: [5000], "x": [0.0]})
            assert np.isfinite(model.predict(unseen)).all()
            again = pickle.loads(pickle.dumps(model))
            np.testing.assert_allclose(again.predict(X[test]), model.predict(X[test]))
        elif label == "serial":  # no word for a group: a number only
            assert model.preprocessor_ is None
    # "person" alone names a group, and its 40 codes repeat: read as a category too
    assert min(scores["person_id"], scores["person"]) > 0.9, scores
    assert scores["person_id"] > scores["serial"] + 0.1, scores
    # not an integer column: a number named id stays a number
    X = pd.DataFrame({"ratio_id": x * 0.37, "x": x})
    assert ResidualMLPRegressor(**FAST).fit(X, y).preprocessor_ is None


@pytest.mark.parametrize(
    "label, values, is_group",
    [
        ("state", np.repeat(np.arange(1, 51), 4), True),  # 50 codes, four rows each
        ("Subject", np.repeat(np.arange(30), 3), True),
        ("nr", np.repeat(np.arange(13, 120, 3), 4), True),
        ("firm", np.repeat(np.arange(20), 2), True),  # twice each: still a code
        ("school", np.tile(np.arange(6, 19), 10), False),  # 13 values: years of schooling
        ("case", np.arange(200), False),  # one per row: a row number
        ("firm", np.repeat(np.arange(19), 4), False),  # under MIN_GROUPS values
        ("state", np.repeat(np.arange(50), 4) + 0.5, False),  # not integers
        ("states", np.repeat(np.arange(50), 4), False),  # not the word alone
        ("statement", np.repeat(np.arange(50), 4), False),
        ("p", np.repeat(np.arange(50), 4), False),
    ],
)
def test_group_label_reads_codes_that_repeat(label, values, is_group):
    X = pd.DataFrame({label: values, "x": np.linspace(0, 1, len(values))})
    assert (_id_columns(X) == [label]) is is_group
    assert needs_preprocessing(X) is is_group


def test_refit_on_numbers_drops_the_encoding():
    X, y = _frame()
    model = ResidualMLPRegressor(**FAST).fit(X, y)
    model.fit(X[["size"]], y)
    assert model.preprocessor_ is None and model.n_features_in_ == 1


def test_fit_is_reproducible_and_round_trips():
    X, y = _frame()
    a = ResidualMLPRegressor(**FAST).fit(X, y)
    b = clone(a).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(joblib.load(_dumped(a)).predict(X), a.predict(X))


def test_skops_round_trip_of_an_encoding_model():
    sio = pytest.importorskip("skops.io")
    X, y = _frame()
    model = ResNetClassifier(**FAST).fit(X, y > np.median(y))
    blob = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=blob)
    # skresnet's classes, the target encoder's seeded folds and a numpy dtype
    assert all(t.startswith(("skresnet.", "sklearn.", "numpy.dtype")) for t in untrusted)
    assert "skresnet._tabular.RobustSmoothClip" in untrusted
    loaded = sio.loads(blob, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_onnx_refuses_an_encoding_model():
    pytest.importorskip("onnx")
    from skresnet.onnx import to_onnx

    X, y = _frame()
    model = ResidualMLPRegressor(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="ColumnTransformer"):
        to_onnx(model, X.head(2))
    # a numeric frame with a group's codes: the message names the column
    codes = pd.DataFrame({"state": np.repeat(np.arange(30), 4), "x": np.linspace(0, 1, 120)})
    model = ResidualMLPRegressor(**FAST).fit(codes, np.arange(120.0))
    with pytest.raises(ValueError, match=r"read as categories: \['state'\].*preprocessing=None"):
        to_onnx(model, codes.head(2))


def test_grid_search_over_a_mixed_frame():
    X, y = _frame()
    search = GridSearchCV(ResidualMLPRegressor(**FAST), {"width": [8, 16]}, cv=2).fit(X, y)
    assert search.best_estimator_.preprocessor_ is not None


def test_multiclass_and_multi_output_targets():
    X, y = _frame()
    classes = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    clf = ResNetClassifier(**FAST).fit(X, classes)
    assert clf.predict_proba(X).shape == (len(X), 3)
    # one target-encoded column per class, one of level codes
    assert clf.sample_shape_ == (4 + 6 + 3 + 1,)
    Y = np.c_[y, -y]
    reg = ResidualMLPRegressor(**FAST).fit(X, Y)
    parts = {name: cols for name, _, cols in reg.preprocessor_.transformers_}
    assert parts["top_levels"] == ["shop"]  # several targets: no target encoding
    assert parts["codes"] == ["shop"]  # the embeddings need none
    assert reg.predict(X).shape == (len(X), 2)


def test_robust_smooth_clip():
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(10, 5, 500), np.r_[np.zeros(450), rng.normal(0, 100, 50)], np.ones(500)]
    X[0, 0] = 1e9  # an outlier
    z = RobustSmoothClip().fit(X).transform(X)
    assert np.all(np.abs(z) < 3.0)
    assert abs(np.median(z[:, 0])) < 1e-9
    assert np.all(np.diff(z[np.argsort(X[:, 0]), 0]) >= 0)  # monotone
    assert np.ptp(z[:, 1]) > 1.0  # IQR of 0: scaled by half the range, not flattened
    np.testing.assert_array_equal(z[:, 2], 0.0)  # constant column


def _tailed_frame(outliers: bool, n=600, seed=0):
    """A frame whose ``x`` has a long (not logged) right tail; ``y`` follows ``x``
    linearly, or, with ``outliers``, a 3% of rows' ``x`` is misrecorded 30 times too
    large and ``y`` does not follow it there."""
    rng = np.random.default_rng(seed)
    x = rng.exponential(1.0, n) + 1.0
    y = 3.0 * x + rng.normal(0, 0.3, n)
    if outliers:
        x = x.copy()
        bad = rng.random(n) < 0.03
        x[bad] *= 30.0
    kind = rng.choice(["a", "b"], n)
    return pd.DataFrame({"x": x, "kind": kind}), y + (kind == "a")


@pytest.mark.parametrize("outliers, chosen", [(False, WIDE_CLIP), (True, CLIP)])
def test_clipping_bend_is_the_one_the_ridge_prefers(outliers, chosen):
    X, y = _tailed_frame(outliers)
    pre = table_preprocessor(X, "continuous")
    encoded = pre.fit_transform(X, y)
    out = choose_clip(pre, X, encoded, y, classes=False)
    clipper = pre.named_transformers_["numeric"][-1]
    assert clipper.clip == chosen
    # the training rows' encoding is the one predict will see
    np.testing.assert_allclose(out, pre.transform(X))
    if chosen == CLIP:
        np.testing.assert_array_equal(out, encoded)
    else:  # the tail bends later: larger values than at the default bend
        assert out[:, 0].max() > encoded[:, 0].max() + 0.5


@pytest.mark.parametrize("Est", [ResidualMLPRegressor, ResNetClassifier])
def test_estimators_fit_and_predict_at_the_chosen_bend(Est):
    if Est is ResidualMLPRegressor:
        X, target = _tailed_frame(outliers=False)
    else:  # a class whose probability grows linearly along the tail
        X, _ = _tailed_frame(outliers=False, n=3000)
        rising = np.clip((X["x"].to_numpy() - 1.0) / 8.0, 0.0, 1.0)
        target = np.where(np.random.default_rng(1).random(len(X)) < rising, "hi", "lo")
    model = Est(**FAST, numeric_embedding=None).fit(X, target)
    clip = model.preprocessor_.named_transformers_["numeric"][-1].clip
    assert clip == WIDE_CLIP
    # embedded numbers keep the bend the embeddings' frequencies are scaled for
    embedded = Est(**FAST, numeric_embedding="periodic").fit(X, target)
    assert embedded.preprocessor_.named_transformers_["numeric"][-1].clip == CLIP
    refit = clone(model).set_params(max_epochs=3).fit(X, target)
    np.testing.assert_array_equal(refit.predict(X), model.predict(X))  # reproducible
    restored = joblib.load(_dumped(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_periodic_embedding_module():
    import torch

    from skresnet.modules import PeriodicEmbedding, ResidualMLP

    emb = PeriodicEmbedding(3, n_frequencies=4, d_embedding=5)
    x = torch.randn(7, 3)
    out = emb(x)
    assert out.shape == (7, 3 * 6) and emb.out_features == 18
    torch.testing.assert_close(out[:, 5::6], x)  # each feature's value kept beside it
    net = ResidualMLP(5, 2, n_embedded=3, embedding={"n_frequencies": 4}, linear_skip=True)
    assert net(torch.randn(4, 5)).shape == (4, 2)
    with pytest.raises(ValueError, match="n_embedded"):
        ResidualMLP(2, 1, n_embedded=3)


def test_numeric_embedding_choices():
    """ "auto" embeds an encoded frame's numeric columns from EMBEDDING_MIN_ROWS rows in
    fit, and in every other averaged fit below that ("mixed", the first fit not);
    "periodic" also smaller frames and numeric arrays; None never."""
    from skresnet._tabular import EMBEDDING_MIN_ROWS

    X, y = _frame(n=EMBEDDING_MIN_ROWS)
    model = ResidualMLPRegressor(n_fits=1, **FAST).fit(X, y)
    # size, age, open: the frame's numeric columns, not the indicators or levels
    assert model.module_.n_embedded == 3 and model.numeric_embedding_ == "periodic"
    off = ResidualMLPRegressor(numeric_embedding=None, n_fits=1, **FAST).fit(X, y)
    assert off.module_.embedding is None and off.numeric_embedding_ is None
    small = ResidualMLPRegressor(n_fits=1, **FAST).fit(X[:-1], y[:-1])
    assert small.module_.embedding is None and small.numeric_embedding_ == "mixed"
    mixed = ResidualMLPRegressor(n_fits=3, **FAST).fit(X[:-1], y[:-1])
    assert [net.n_embedded for net in mixed.module_.networks] == [0, 3, 0]
    # rebuilt from its state (pickle, skops, warm start): each network as it was fitted
    restored = pickle.loads(pickle.dumps(mixed))
    assert [net.n_embedded for net in restored.module_.networks] == [0, 3, 0]
    np.testing.assert_array_equal(restored.predict(X), mixed.predict(X))
    mixed.set_params(warm_start=True).fit(X[:-1], y[:-1])  # continues each network
    assert [net.n_embedded for net in mixed.module_.networks] == [0, 3, 0]
    labels = y[:-1] > np.median(y)
    classifier = ResNetClassifier(n_fits=2, **FAST).fit(X[:-1], labels)
    # each fit one network or a refit pair (early-stopped and refitted); the second embeds
    embedded = [net.n_embedded for net in classifier.module_.networks]
    assert embedded[0] == 0 and embedded[-1] == 3 and embedded == sorted(embedded)
    restored = pickle.loads(pickle.dumps(classifier))
    np.testing.assert_array_equal(restored.predict_proba(X), classifier.predict_proba(X))
    forced = ResidualMLPRegressor(numeric_embedding="periodic", n_fits=1, **FAST)
    assert forced.fit(X[:-1], y[:-1]).module_.n_embedded == 3
    rows = np.random.default_rng(0).normal(size=(120, 4))
    target = np.sin(3 * rows[:, 0])
    assert ResidualMLPRegressor(n_fits=1, **FAST).fit(rows, target).module_.embedding is None
    periodic = ResidualMLPRegressor(numeric_embedding="periodic", n_fits=1, **FAST)
    periodic.fit(rows, target)
    assert periodic.module_.n_embedded == 4
    # a pickle from before numeric_embedding_ reads the parameter, as it was fitted
    state = model.__getstate__()
    del state["numeric_embedding_"]
    restored = object.__new__(ResidualMLPRegressor)
    restored.__setstate__(state)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_onnx_export_with_periodic_embedding():
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    from skresnet.onnx import to_onnx

    rows = np.random.default_rng(0).normal(size=(120, 4)).astype(np.float32)
    model = ResNetClassifier(numeric_embedding="periodic", n_fits=1, **FAST)
    model.fit(rows, rows[:, 0] > 0)
    session = ort.InferenceSession(to_onnx(model, rows[:2]).SerializeToString())
    outputs = session.run(None, {"X": rows})
    np.testing.assert_allclose(outputs[-1], model.predict_proba(rows), atol=1e-5)


def test_warm_start_keeps_the_encoding_and_a_failed_fit_changes_nothing():
    X, y = _frame()
    model = ResidualMLPRegressor(warm_start=True, **{**FAST, "max_epochs": 2}).fit(X, y)
    encoding = model.preprocessor_
    model.fit(X, y)
    assert model.n_iter_ == 4 and model.preprocessor_ is encoding
    before = model.predict(X)
    with pytest.raises(ValueError, match="lacks the column"):
        model.fit(X.drop(columns="shop"), y)
    assert model.n_iter_ == 4
    np.testing.assert_array_equal(model.predict(X), before)


def test_integer_labels_and_date_columns():
    X, y = _frame()
    numbered = X.set_axis(range(X.shape[1]), axis=1)
    model = ResidualMLPRegressor(**FAST).fit(numbered, y)
    assert list(model.feature_names_in_) == [str(i) for i in range(X.shape[1])]
    np.testing.assert_array_equal(
        model.predict(numbered),
        model.predict(X.set_axis([str(i) for i in range(X.shape[1])], axis=1)),
    )
    dated = X.assign(when=pd.date_range("2020-01-01", periods=len(X)))
    with pytest.raises(ValueError, match=r"date or time columns \['when'\]"):
        ResidualMLPRegressor(**FAST).fit(dated, y)


def test_level_codes_frequent_levels_missing_and_unseen():
    """Levels seen MIN_LEVEL_COUNT times get codes from 1 (missing a level of its own);
    rarer and unseen levels share code 0."""
    from skresnet._tabular import MIN_LEVEL_COUNT, LevelCodes

    column = ["a"] * 7 + ["b"] * MIN_LEVEL_COUNT + ["c"] * 2 + [np.nan] * MIN_LEVEL_COUNT
    codes = LevelCodes().fit(pd.DataFrame({"shop": pd.Series(column, dtype=object)}))
    assert codes.cardinalities_ == [4]
    new = pd.DataFrame({"shop": pd.Series(["a", "b", np.nan, "c", "zzz"], dtype=object)})
    out = codes.transform(new)[:, 0]
    assert out[0] == 1  # the most frequent level first
    assert sorted(out[:3]) == [1, 2, 3]
    assert list(out[3:]) == [0, 0]  # rare and unseen
    assert list(codes.get_feature_names_out(["shop"])) == ["shop_code"]


def test_category_embedding_offsets_and_clamping():
    from skresnet.modules import CategoryEmbedding

    emb = CategoryEmbedding([3, 2], d_embedding=4)
    assert emb.table.shape == (5, 4) and emb.out_features == 8
    out = emb(torch.tensor([[0.0, 0.0], [2.0, 1.0], [7.0, -3.0]]))
    table = emb.table.detach()
    torch.testing.assert_close(out[0], torch.cat([table[0], table[3]]))
    torch.testing.assert_close(out[1], torch.cat([table[2], table[4]]))
    torch.testing.assert_close(out[2], torch.cat([table[2], table[3]]))
    with pytest.raises(ValueError, match="cardinalities"):
        CategoryEmbedding([3, 0])


def test_linear_skip_skips_the_code_columns():
    """With categories the linear start is a model of the value columns alone."""
    from skresnet.modules import ResidualMLP

    torch.manual_seed(0)
    net = ResidualMLP(5, 2, width=8, linear_skip=True, n_embedded=2, categories=(3,)).eval()
    coef, intercept = torch.randn(4, 2), torch.randn(2)
    net.start_linear(coef, intercept)
    x = torch.cat([torch.randn(6, 4), torch.tensor([[0.0], [1], [2], [0], [1], [2]])], dim=1)
    torch.testing.assert_close(net(x), x[:, :4] @ coef + intercept)
    net.head.weight.data.normal_()  # once trained, the codes matter
    changed = x.clone()
    changed[:, 4] = (changed[:, 4] + 1) % 3
    assert not torch.allclose(net(x), net(changed))


def test_many_level_column_embedded_end_to_end():
    """A level's embedding moves its predictions beyond what its target mean says: an
    interaction of a 40-level column with a two-level one."""
    rng = np.random.default_rng(0)
    n = 1600
    user = rng.integers(0, 40, n)
    genre = rng.choice(["a", "b"], n)
    taste = rng.normal(size=40)
    y = taste[user] * np.where(genre == "a", 1, -1) + rng.normal(0, 0.1, n)
    X = pd.DataFrame({"user": [f"u{u}" for u in user], "genre": genre, "x": rng.normal(size=n)})
    train, test = slice(0, 1200), slice(1200, None)
    model = ResidualMLPRegressor(max_epochs=40, n_fits=1, random_state=0).fit(X[train], y[train])
    assert model.module_.category_embedding is not None
    # one mean per user (the target encoding) is 0 here: only the interaction explains y
    assert model.score(X[test], y[test]) > 0.8


def test_member_ensemble_predicts_the_members_average_and_trains_each():
    """n_members: predictions average the members (probabilities for a classifier); the
    training loss is the mean of the members' own losses, not the loss of their mean."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X[:, 0] * X[:, 1]
    x = torch.as_tensor(X, dtype=torch.float32)
    params = dict(n_members=3, dropout=0.0, **FAST)
    reg = ResidualMLPRegressor(**params).fit(X, y)
    with torch.no_grad():
        members = reg.module_.train()(x)
    reg.module_.eval()
    assert members.shape == (200, 3, 1)
    expected = reg.target_encoder_.inverse_transform(members.mean(1).numpy())
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-5, atol=1e-5)
    labels = (y > 0).astype(int)
    clf = ResNetClassifier(refit=False, **params).fit(X, labels)  # one network
    with torch.no_grad():
        logits = clf.module_.train()(x)
        target = torch.as_tensor(labels)
        loss = clf.net_.get_loss(logits, target, training=True)
    clf.module_.eval()
    np.testing.assert_allclose(clf.predict_proba(X), logits.softmax(-1).mean(1), atol=1e-5)
    each = [clf.net_.criterion_(logits[:, k], target).mean() for k in range(3)]
    torch.testing.assert_close(loss, torch.stack(each).mean())


def test_refit_classifier_averages_the_early_stopped_and_the_refitted_network():
    """After a refit that trained, the classifier's probabilities are the mean of two
    networks': the early-stopped one (the model ``refit=False`` gives, holding out
    the 0.3 that validation_fraction="auto" holds out before a refit) and the one
    refitted on every row. Pickles and warm starts keep both."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=300) > 0, "a", "b")
    params = dict(max_epochs=30, random_state=0, device="cpu", n_fits=1)
    clf = ResNetClassifier(**params).fit(X, y)
    assert isinstance(clf.module_, ProbabilityAverage) and len(clf.module_.networks) == 2
    x = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        each = [net.eval()(x).softmax(-1).numpy() for net in clf.module_.networks]
    np.testing.assert_allclose(clf.predict_proba(X), (each[0] + each[1]) / 2, atol=1e-6)
    early = ResNetClassifier(refit=False, validation_fraction=0.3, **params).fit(X, y)
    np.testing.assert_allclose(early.predict_proba(X), each[0], atol=1e-6)
    assert not np.allclose(each[0], each[1], atol=1e-3)  # two different networks
    loaded = joblib.load(_dumped(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    n_epochs = len(clf.history_)
    clf.set_params(warm_start=True, max_epochs=2, early_stopping=False).fit(X, y)
    assert isinstance(clf.module_, ProbabilityAverage) and len(clf.history_) == n_epochs + 2
    assert not np.allclose(clf.predict_proba(X), loaded.predict_proba(X))
    # a new fit starts from one network again, and gives the first fit's model
    clf.set_params(warm_start=False, max_epochs=30, early_stopping="auto").fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), loaded.predict_proba(X), atol=1e-6)
    # a one-fit regressor keeps one network (its refit anneals; no average)
    reg = ResidualMLPRegressor(**params).fit(X, X[:, 0] * X[:, 1])
    assert not isinstance(reg.module_, (ProbabilityAverage, OutputAverage))


def test_small_table_regressor_averages_five_fits(monkeypatch):
    """n_fits="auto": on a small table the regressor averages five fits, each with its
    own seed and validation rows; the first is the one-fit model, the history is its.
    Pickles and warm starts keep all five; large tables, refit=False and warm
    starts fit one network, and the fits together stay within 4/3 of one fit's FLOP
    budget."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = np.sin(2 * X[:, 0]) + X[:, 1] + 0.1 * rng.normal(size=200)
    params = dict(max_epochs=8, random_state=0, device="cpu")
    reg = ResidualMLPRegressor(**params).fit(X, y)
    assert isinstance(reg.module_, OutputAverage) and len(reg.module_.networks) == 5
    x = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        each = [net.eval()(x).numpy().astype(np.float64) for net in reg.module_.networks]
    each = [reg.target_encoder_.inverse_transform(out) for out in each]
    np.testing.assert_allclose(reg.predict(X), np.mean(each, axis=0), rtol=1e-5, atol=1e-5)
    one = ResidualMLPRegressor(n_fits=1, **params).fit(X, y)
    np.testing.assert_allclose(one.predict(X), each[0], rtol=1e-5, atol=1e-5)
    assert len(reg.history_) == len(one.history_) and reg.n_iter_ == one.n_iter_
    assert not np.allclose(each[0], each[1], atol=1e-3)  # different fits
    loaded = joblib.load(_dumped(reg))
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    n_epochs = len(reg.history_)
    reg.set_params(warm_start=True, max_epochs=2, early_stopping=False).fit(X, y)
    assert isinstance(reg.module_, OutputAverage) and len(reg.history_) == n_epochs + 2
    assert not np.allclose(reg.predict(X), loaded.predict(X))
    # one network where the rule says so
    assert not isinstance(
        ResidualMLPRegressor(refit=False, **params).fit(X, y).module_, OutputAverage
    )
    assert len(ResidualMLPRegressor(n_fits=2, **params).fit(X, y).module_.networks) == 2
    # as many fits as the budget over the first fit's cost, rounded to the nearest count
    from skresnet._budget import training_flops

    n_valid = math.ceil(0.3 * 200)  # validation_fraction="auto" before a refit
    samples = len(one.early_stopping_history_) * (200 - n_valid) + len(one.history_) * 200
    cost = training_flops(one._build_module(), one.sample_shape_, samples)
    for budget, n_fits in [(2.6, 3), (2.4, 2), (1.6, 2)]:
        monkeypatch.setattr(ResidualMLPRegressor, "_bag_max_train_flops", budget * cost)
        assert len(ResidualMLPRegressor(**params).fit(X, y).module_.networks) == n_fits
    monkeypatch.setattr(ResidualMLPRegressor, "_bag_max_train_flops", 1.4 * cost)
    assert not isinstance(ResidualMLPRegressor(**params).fit(X, y).module_, OutputAverage)
    monkeypatch.undo()
    monkeypatch.setattr("skresnet._regressor.BAG_MAX_ROWS", 199)
    assert not isinstance(ResidualMLPRegressor(**params).fit(X, y).module_, OutputAverage)


def test_small_table_classifier_averages_the_networks_of_five_fits(monkeypatch):
    """n_fits="auto" on rows: five fits, each an early-stopped and a refitted network,
    averaged flat (one ProbabilityAverage of all networks); the first pair is the
    one-fit model. Series are not bagged; all fits stay within 4/3 of one fit's FLOP
    budget."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(240, 4)).astype(np.float32)
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=240) > 0, "a", "b")
    params = dict(max_epochs=10, random_state=0, device="cpu")
    clf = ResNetClassifier(**params).fit(X, y)
    one = ResNetClassifier(n_fits=1, **params).fit(X, y)
    nets = clf.module_.networks
    assert isinstance(clf.module_, ProbabilityAverage) and len(one.module_.networks) == 2
    assert 6 <= len(nets) <= 10 and not any(isinstance(n, ProbabilityAverage) for n in nets)
    x = torch.as_tensor(X)
    with torch.no_grad():
        each = np.stack([net.eval()(x).softmax(-1).numpy() for net in nets])
    np.testing.assert_allclose(clf.predict_proba(X), each.mean(0), atol=1e-6)
    np.testing.assert_allclose(one.predict_proba(X), each[:2].mean(0), atol=1e-6)
    assert len(clf.history_) == len(one.history_)
    order = rng.permutation(240)  # the float64 average is exact under reordering
    np.testing.assert_array_equal(clf.predict_proba(X[order]), clf.predict_proba(X)[order])
    assert not isinstance(
        ResNetClassifier(refit=False, **params).fit(X, y).module_, ProbabilityAverage
    )
    assert len(ResNetClassifier(refit=False, n_fits=3, **params).fit(X, y).module_.networks) == 3
    series = ResNetClassifier(width=4, max_epochs=2, early_stopping=True, device="cpu")
    assert len(series.fit(X[:, None, :], y).module_.networks) == 2  # one fit's refit pair
    from skresnet._budget import training_flops

    samples = len(one.early_stopping_history_) * (240 - 72) + len(one.history_) * 240
    cost = training_flops(one._build_module(), one.sample_shape_, samples)
    monkeypatch.setattr(ResNetClassifier, "_bag_max_train_flops", 2.4 * cost)
    assert len(ResNetClassifier(**params).fit(X, y).module_.networks) <= 4


def test_n_fits_is_checked():
    X = np.random.default_rng(0).normal(size=(30, 3))
    for bad in (0, "all", 1.5):
        with pytest.raises(ValueError, match="n_fits"):
            ResidualMLPRegressor(n_fits=bad).fit(X, X[:, 0])
        with pytest.raises(ValueError, match="n_fits"):
            ResNetClassifier(n_fits=bad).fit(X, X[:, 0] > 0)


def _averaged_classifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=300) > 0, "a", "b")
    clf = ResNetClassifier(max_epochs=30, random_state=0, device="cpu").fit(X, y)
    assert isinstance(clf.module_, ProbabilityAverage)
    return clf, X


def _skops_round_trip(model):
    sio = pytest.importorskip("skops.io")
    blob = sio.dumps(model)
    return sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))


def test_bagged_regressor_round_trips_through_skops():
    X = np.random.default_rng(0).normal(size=(120, 3))
    reg = ResidualMLPRegressor(n_fits=2, **FAST).fit(X, X[:, 0] ** 2)
    loaded = _skops_round_trip(reg)
    assert isinstance(loaded.module_, OutputAverage)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


def test_averaged_classifier_round_trips_through_skops():
    clf, X = _averaged_classifier()
    loaded = _skops_round_trip(clf)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def _dumped(model) -> io.BytesIO:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return buffer

"""Export fitted skresnet estimators, or Pipelines ending in one, to ONNX for onnxruntime.

Needs the ``[onnx]`` extra (onnx, onnxscript, skl2onnx, onnxruntime). The
network is exported with PyTorch's ``torch.export``-based ONNX exporter,
together with what ``predict`` does around it (reshaping flat rows,
mapping the standardized target back, softmax and the class labels), so
onnxruntime gives what ``predict``/``predict_proba`` give. For a
scikit-learn ``Pipeline`` or ``ColumnTransformer`` the estimators are
registered as skl2onnx converters and skl2onnx converts the scikit-learn
steps with its own converters.

Outputs: a classifier gives ``label`` (shape ``(N,)``) and ``probabilities``
(``(N, n_classes)``), as skl2onnx's classifiers do; a regressor or
forecaster gives ``variable``, shaped like ``predict``'s output. The batch
dimension is dynamic.
"""

from __future__ import annotations

import contextlib
import logging
import warnings

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._base import BaseResNetEstimator

__all__ = ["to_onnx"]

OPSET = 20


class _Served(nn.Module):
    """``predict``'s computation as one module: flat or shaped rows in, outputs out."""

    def __init__(self, estimator: BaseResNetEstimator) -> None:
        super().__init__()
        self.module = estimator.module_
        self.sample_shape = tuple(int(s) for s in _sample_shape(estimator))
        self.classifier = is_classifier(estimator)
        self.flat_output = getattr(estimator, "y_ndim_", 2) == 1
        # A quantile forecaster serves what predict gives: its central quantile.
        levels = estimator.__dict__.get("quantiles_")
        self.middle = None if levels is None else len(levels) // 2
        # a forecaster of a quantity never negative floors its forecasts at 0
        self.nonnegative = bool(estimator.__dict__.get("nonnegative_", False))
        if not self.classifier:
            self.register_buffer("loc", torch.as_tensor(estimator.y_loc_, dtype=torch.float32))
            self.register_buffer("scale", torch.as_tensor(estimator.y_scale_, dtype=torch.float32))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        out = self.module(X.reshape(X.shape[0], *self.sample_shape)).float()
        if self.middle is not None:
            out = out[..., self.middle]
        if self.classifier:
            return torch.softmax(out, dim=1)
        out = out * self.scale + self.loc
        if self.nonnegative:
            out = torch.clamp(out, min=0.0)
        return out.reshape(-1) if self.flat_output else out


def _sample_shape(estimator) -> tuple:
    if hasattr(estimator, "sample_shape_"):
        return estimator.sample_shape_
    if hasattr(estimator, "lookback_"):
        return (estimator.lookback_, estimator.n_channels_)
    return (estimator.n_features_in_,)


def _network_graph(estimator, n_inputs: tuple, output: str):
    """The estimator's served module as an ONNX ModelProto: input ``X``, one output ``output``."""
    check_is_fitted(estimator, "net_")
    pre = estimator.__dict__.get("preprocessor_")
    if pre is not None:
        read = (cols for name, _, cols in pre.transformers_ if name not in ("numeric", "remainder"))
        encoded = list(dict.fromkeys(c for cols in read for c in cols))
        what = f"read as categories: {encoded}" if encoded else "numbers with missing values"
        raise ValueError(
            f"This {type(estimator).__name__} encodes its DataFrame itself (preprocessor_: "
            f"categorical, missing or identifier columns; {what}), "
            "which is not exported. For ONNX, "
            "encode the columns in a Pipeline (ColumnTransformer with OneHotEncoder and "
            "SimpleImputer, docs/tables.md) and export the Pipeline, or fit numbers with "
            "preprocessing=None."
        )
    if estimator.__dict__.get("ets_weight_", 1.0) < 1.0:
        raise ValueError(
            f"This TCNForecaster combines its network with exponential smoothing of each "
            f"window (ets_weight_={estimator.ets_weight_}), which ONNX cannot express. "
            "Fit it with ets=False to export it."
        )
    served = _Served(estimator).to("cpu").eval()
    example = torch.zeros((2, *n_inputs), dtype=torch.float32)
    batch = torch.export.Dim("batch", min=1)
    with _exporter_quiet():
        program = torch.onnx.export(
            served,
            (example,),
            dynamo=True,
            input_names=["X"],
            output_names=[output],
            dynamic_shapes=({0: batch},),
            opset_version=OPSET,
            verbose=False,
        )
    return program.model_proto


@contextlib.contextmanager
def _exporter_quiet():
    """Silence the exporter's notes about its own internals, which a user cannot act on:
    the log line about torchvision's operators and torch's FutureWarnings raised
    inside ``torch.export``. Our own warnings and errors pass."""
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"(torch|copyreg)")
            yield
    finally:
        registration.setLevel(level)


def _label_nodes(estimator, probabilities: str, label: str, prefix: str):
    """Nodes and initializer mapping ``probabilities`` to the class labels, by ArgMax + Gather."""
    from onnx import helper, numpy_helper

    classes = _onnx_classes(estimator.classes_)
    classes_name, index_name = f"{prefix}classes", f"{prefix}argmax"
    init = numpy_helper.from_array(classes, name=classes_name)
    nodes = [
        helper.make_node("ArgMax", [probabilities], [index_name], axis=1, keepdims=0),
        helper.make_node("Gather", [classes_name, index_name], [label], axis=0),
    ]
    return nodes, init


def _onnx_classes(classes: np.ndarray) -> np.ndarray:
    if classes.dtype.kind in "biu":
        return classes.astype(np.int64)
    if classes.dtype.kind == "f":
        return classes.astype(np.float32)
    return np.asarray([str(c) for c in classes], dtype=object)


def _estimator_to_onnx(estimator, X_sample):
    from onnx import helper

    X_sample = np.asarray(X_sample)
    output = "probabilities" if is_classifier(estimator) else "variable"
    graph_model = _network_graph(estimator, X_sample.shape[1:], output)
    graph = graph_model.graph
    if is_classifier(estimator):
        nodes, init = _label_nodes(estimator, "probabilities", "label", "skresnet_")
        graph.node.extend(nodes)
        graph.initializer.append(init)
        label = helper.make_tensor_value_info("label", init.data_type, ["batch"])
        outputs = [label, *graph.output]
        del graph.output[:]
        graph.output.extend(outputs)
    return graph_model


def to_onnx(model, X_sample):
    """Export a fitted estimator, or a Pipeline/ColumnTransformer ending in one, to ONNX.

    Parameters
    ----------
    model : ResNetClassifier, ResidualMLPRegressor, TCNForecaster or Pipeline
        Fitted. A Pipeline may hold any step skl2onnx can convert
        (``StandardScaler``, ``OneHotEncoder`` in a ``ColumnTransformer``, ...).
    X_sample : array-like or DataFrame
        A few rows of the input ``model`` takes, for the input names and types.

    Returns
    -------
    onnx.ModelProto
        Input ``X`` (float32, batch dimension dynamic) for an estimator; one
        input per column for a Pipeline fed a DataFrame (skl2onnx's rule).

    Examples
    --------
    >>> import numpy as np, onnxruntime as ort
    >>> from skresnet import ResidualMLPRegressor
    >>> from skresnet.onnx import to_onnx
    >>> X = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    >>> reg = ResidualMLPRegressor(max_epochs=2, random_state=0).fit(X, X[:, 0])
    >>> session = ort.InferenceSession(to_onnx(reg, X[:2]).SerializeToString())
    >>> np.allclose(session.run(None, {"X": X})[0], reg.predict(X), atol=1e-4)
    True
    """
    if isinstance(model, BaseResNetEstimator):
        return _estimator_to_onnx(model, X_sample)
    from skl2onnx import to_onnx as skl_to_onnx

    _register_converters()
    options = {type(step): {"zipmap": False} for step in _classifiers(model)}
    return skl_to_onnx(
        model, X_sample, target_opset={"": OPSET, "ai.onnx.ml": 3}, options=options or None
    )


def _classifiers(model) -> list:
    steps = getattr(model, "steps", None) or []
    return [est for _, est in steps if isinstance(est, BaseResNetEstimator) and is_classifier(est)]


_REGISTERED = False


def _register_converters() -> None:
    """Teach skl2onnx the three estimators (once per process)."""
    global _REGISTERED
    if _REGISTERED:
        return
    from skl2onnx import update_registered_converter

    from ._classifier import ResNetClassifier
    from ._forecaster import TCNForecaster
    from ._regressor import ResidualMLPRegressor

    for cls in (ResNetClassifier, ResidualMLPRegressor, TCNForecaster):
        options = {"zipmap": [False]} if cls is ResNetClassifier else None
        update_registered_converter(
            cls, f"Skresnet{cls.__name__}", _shape_calculator, _converter, options=options
        )
    _REGISTERED = True


def _shape_calculator(operator) -> None:
    from skl2onnx.common.data_types import (
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    est = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    if is_classifier(est):
        kind = _onnx_classes(est.classes_).dtype.kind
        label = {"i": Int64TensorType, "f": FloatTensorType}.get(kind, StringTensorType)
        operator.outputs[0].type = label([n])
        operator.outputs[1].type = FloatTensorType([n, len(est.classes_)])
    elif getattr(est, "y_ndim_", 2) == 1:
        operator.outputs[0].type = FloatTensorType([n])
    else:
        operator.outputs[0].type = FloatTensorType([n, est.n_outputs_])


def _converter(scope, operator, container) -> None:
    """Copy the exported network's nodes into skl2onnx's graph, every name made unique."""
    est = operator.raw_operator
    from onnx import TensorProto, helper

    graph = _network_graph(est, tuple(_sample_shape(est)), "output").graph
    # The steps before may give doubles (a StandardScaler on float64 columns).
    as_float = scope.get_unique_variable_name("skresnet_X")
    container.nodes.append(
        helper.make_node(
            "Cast",
            [operator.inputs[0].full_name],
            [as_float],
            to=TensorProto.FLOAT,
            name=scope.get_unique_operator_name("Cast"),
        )
    )
    rename = {graph.input[0].name: as_float}
    out_name = graph.output[0].name
    probabilities = operator.outputs[-1].full_name
    rename[out_name] = probabilities if is_classifier(est) else operator.outputs[0].full_name
    for init in graph.initializer:
        rename[init.name] = scope.get_unique_variable_name(init.name)
        init.name = rename[init.name]
        container.initializers.append(init)
    for node in graph.node:
        for names in (node.input, node.output):
            for i, name in enumerate(names):
                if name and name not in rename:
                    rename[name] = scope.get_unique_variable_name(name)
                if name:
                    names[i] = rename[name]
        node.name = scope.get_unique_operator_name(node.op_type)
        container.nodes.append(node)
    if is_classifier(est):
        prefix = scope.get_unique_variable_name("skresnet_")
        nodes, init = _label_nodes(est, probabilities, operator.outputs[0].full_name, prefix)
        container.initializers.append(init)
        container.nodes.extend(nodes)

"""Library settings in one place, like scikit-learn's ``set_config``: the CPU
threads of a fit, two GPU switches for training, and where the documentation
is served.

- ``fit_threads`` (default 1): torch's intra-op CPU threads, and those of
  numpy's and scipy's BLAS (through ``threadpoolctl``), while a ``fit`` runs,
  every phase of it (restored afterwards; None keeps their own counts, one
  per core).
  One thread keeps a fit's speed when another process takes a core (with
  several threads, each operation waits for the descheduled one: 3.3-4.7x
  slower beside a one-core burner, against 0.95-1.10x with one thread), and
  makes a seeded fit bit-identical on machines with different core counts
  and equal to the same fit in a one-thread ``GridSearchCV`` worker. Use
  ``GridSearchCV(n_jobs=...)`` for the other cores, or ``fit_threads=None``
  for one large fit on an idle machine (docs/performance.md).

The two GPU switches are opt-in: ``None`` leaves torch's own settings as they are. During a
``fit`` the chosen values are applied to ``torch.backends`` and restored
afterwards, also when the fit fails, so nothing leaks into the caller's
session.

- ``cudnn_benchmark``: let cuDNN time its convolution algorithms for each
  input shape and keep the fastest. Faster convolutions for fixed shapes
  (every training batch but the last has one); the chosen algorithm may
  differ from run to run, so results are no longer bit-reproducible on the
  GPU.
- ``allow_tf32``: matrix products and convolutions in TensorFloat-32 on
  Ampere and later GPUs: a 10-bit mantissa instead of 23, several times the
  float32 throughput, and outputs that differ from float32 (and from the
  CPU) at about 1e-3 relative.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

# Where the documentation site is served: ``mkdocs serve``'s address until it is
# published. The estimators' HTML repr links to their API page there.
DEFAULT_DOCS_URL = "http://127.0.0.1:8000/"

_CONFIG: dict = {
    "fit_threads": 1,
    "cudnn_benchmark": None,
    "allow_tf32": None,
    "docs_url": DEFAULT_DOCS_URL,
}
_UNSET = object()

# API pages under docs_url: one per estimator, one for skresnet.timeseries. A page
# without a #fragment, because scikit-learn's repr adds a text fragment per parameter.
_API_PAGES = {"skresnet": "api/{name}/", "skresnet.timeseries": "api/timeseries/"}


def get_config() -> dict:
    """The current settings: ``fit_threads``, ``cudnn_benchmark``, ``allow_tf32``,
    ``docs_url``."""
    return dict(_CONFIG)


def set_config(
    *,
    fit_threads=_UNSET,
    cudnn_benchmark: bool | None = None,
    allow_tf32: bool | None = None,
    docs_url: str | None = None,
) -> None:
    """Set the switches applied during every later ``fit``; None leaves one unchanged.

    ``fit_threads`` (an int >= 1, default 1, or None for torch's own count)
    is the exception: None is a value there, and leaving it out keeps the
    setting.

    ``docs_url`` is where the documentation site is served (``mkdocs serve``'s
    ``http://127.0.0.1:8000/`` by default): the estimators' HTML repr in a
    notebook links to their API page under it.

    Examples
    --------
    >>> import skresnet
    >>> with skresnet.config_context(cudnn_benchmark=True):  # or set_config, for good
    ...     skresnet.get_config()["cudnn_benchmark"]
    True
    """
    # Every argument is checked before any is set: a refused call changes nothing.
    changes = {}
    if fit_threads is not _UNSET:
        if fit_threads is not None and (
            isinstance(fit_threads, bool) or not isinstance(fit_threads, int) or fit_threads < 1
        ):
            raise ValueError(f"fit_threads must be an int >= 1 or None, got {fit_threads!r}.")
        changes["fit_threads"] = fit_threads
    for name, value in (("cudnn_benchmark", cudnn_benchmark), ("allow_tf32", allow_tf32)):
        if value is not None:
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool or None, got {value!r}.")
            changes[name] = value
    if docs_url is not None:
        if not isinstance(docs_url, str):
            raise TypeError(f"docs_url must be a str or None, got {docs_url!r}.")
        changes["docs_url"] = docs_url if docs_url.endswith("/") else docs_url + "/"
    _CONFIG.update(changes)


@contextlib.contextmanager
def config_context(
    *,
    fit_threads=_UNSET,
    cudnn_benchmark: bool | None = None,
    allow_tf32: bool | None = None,
    docs_url: str | None = None,
) -> Iterator[None]:
    """The settings for the ``with`` block only."""
    before = get_config()
    set_config(
        fit_threads=fit_threads,
        cudnn_benchmark=cudnn_benchmark,
        allow_tf32=allow_tf32,
        docs_url=docs_url,
    )
    try:
        yield
    finally:
        _CONFIG.update(before)


@contextlib.contextmanager
def backend_switches() -> Iterator[None]:
    """Apply the configured thread count and switches for a fit, then restore them."""
    saved = (
        torch.backends.cudnn.benchmark,
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
    )
    threads = torch.get_num_threads()
    blas = contextlib.nullcontext()
    if _CONFIG["fit_threads"] is not None:
        from threadpoolctl import threadpool_limits

        # numpy's and scipy's BLAS too: the statistical member's L-BFGS-B fits and the
        # linear starts run there, and OpenBLAS' threads slow small problems (one
        # L-BFGS-B fit of 11 parameters 2.7x on two threads, docs/defaults.md)
        blas = threadpool_limits(limits=_CONFIG["fit_threads"], user_api="blas")
        if _CONFIG["fit_threads"] != threads:
            torch.set_num_threads(_CONFIG["fit_threads"])
    if _CONFIG["cudnn_benchmark"] is not None:
        torch.backends.cudnn.benchmark = _CONFIG["cudnn_benchmark"]
    if _CONFIG["allow_tf32"] is not None:
        torch.backends.cuda.matmul.allow_tf32 = _CONFIG["allow_tf32"]
        torch.backends.cudnn.allow_tf32 = _CONFIG["allow_tf32"]
    try:
        with blas:
            yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        (
            torch.backends.cudnn.benchmark,
            torch.backends.cuda.matmul.allow_tf32,
            torch.backends.cudnn.allow_tf32,
        ) = saved


class DocLinkMixin:
    """The "?" link of scikit-learn's HTML repr, to the estimator's API page on our site.

    scikit-learn's ``_get_doc_link`` fills ``_doc_link_template`` with what
    ``_doc_link_url_param_generator`` returns, for classes under
    ``_doc_link_module``.
    """

    _doc_link_module = "skresnet"
    _doc_link_template = "{docs_url}{page}"

    def _doc_link_url_param_generator(self) -> dict:
        cls = type(self)
        module = ".".join(p for p in cls.__module__.split(".") if not p.startswith("_"))
        page = _API_PAGES.get(module, _API_PAGES["skresnet"]).format(name=cls.__name__)
        return {"docs_url": _CONFIG["docs_url"], "page": page}

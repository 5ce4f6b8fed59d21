"""hdreg.backend: selection from HDREG_BACKEND, the CuPy probe, conversion and seeding."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from _hdreg_fixtures import clean_env  # noqa: F401  (autouse)

import hdreg
from hdreg import backend
from hdreg.backend import BackendError


def _fake_cupy(get_device_count):
    """A stand-in ``cupy`` module whose only device call is ``cuda.runtime.getDeviceCount``."""
    mod = types.ModuleType("cupy")
    mod.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count))
    mod.__version__ = "0.0-fake"
    return mod


def _raise_no_driver():
    raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")


def _cupy_really_works() -> bool:
    return backend._probe_cupy()[0] is not None


def test_default_auto_resolves_to_a_working_backend():
    b = backend.get_backend()
    expected = "cupy" if _cupy_really_works() else "numpy"
    assert b.name == expected
    assert backend.is_gpu() == (expected == "cupy")
    if expected == "numpy":
        assert b.module is np
        assert b.note.startswith("auto: ")  # the reason CuPy was not used is kept
        assert backend.xp() is np


def test_resolution_is_cached_until_set_backend(monkeypatch):
    first = backend.get_backend()
    monkeypatch.setenv("HDREG_BACKEND", "definitely-not-a-backend")
    assert backend.get_backend() is first  # resolved once, lazily
    assert backend.set_backend("numpy").name == "numpy"


def test_forced_numpy(monkeypatch):
    monkeypatch.setenv("HDREG_BACKEND", "numpy")
    b = backend.get_backend()
    assert b.name == "numpy" and b.module is np
    assert "forced" in b.note
    assert not backend.is_gpu()


@pytest.mark.parametrize("value", ["NumPy", " numpy ", "NUMPY"])
def test_value_is_case_and_space_insensitive(monkeypatch, value):
    monkeypatch.setenv("HDREG_BACKEND", value)
    assert backend.get_backend().name == "numpy"


@pytest.mark.parametrize("value", ["torch", "gpu", ""])
def test_invalid_value_raises(monkeypatch, value):
    monkeypatch.setenv("HDREG_BACKEND", value)
    with pytest.raises(BackendError, match="HDREG_BACKEND must be one of"):
        backend.get_backend()
    with pytest.raises(BackendError, match="must be one of"):
        backend.set_backend(value)


def test_auto_falls_back_to_numpy_when_the_device_probe_raises(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(_raise_no_driver))
    reason = backend._probe_cupy()
    assert reason[0] is None
    assert "CUDA probe failed" in reason[2] and "cudaErrorNoDevice" in reason[2]
    b = backend.set_backend("auto")
    assert b.name == "numpy" and b.module is np
    assert "CUDA probe failed" in b.note
    assert backend.backend_info(show=False)["note"] == b.note


def test_auto_falls_back_when_no_device_is_visible(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(lambda: 0))
    b = backend.set_backend("auto")
    assert b.name == "numpy"
    assert "no CUDA device" in b.note


def test_auto_falls_back_when_cupy_is_not_importable(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` raise ImportError
    b = backend.set_backend("auto")
    assert b.name == "numpy"
    assert "not importable" in b.note


def test_forced_cupy_without_gpu_raises_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(_raise_no_driver))
    monkeypatch.setenv("HDREG_BACKEND", "cupy")
    with pytest.raises(BackendError) as info:
        backend.get_backend()
    msg = str(info.value)
    assert "HDREG_BACKEND=cupy" in msg
    assert "cudaErrorNoDevice" in msg  # the underlying reason
    assert "numpy" in msg  # and how to get going on the CPU
    assert backend._current is None  # nothing half-resolved is cached


def test_forced_cupy_error_via_patched_probe(monkeypatch):
    monkeypatch.setattr(backend, "_probe_cupy", lambda: (None, "", "probe says no"))
    with pytest.raises(BackendError, match="probe says no"):
        backend.set_backend("cupy")
    # auto with the same probe is a quiet fallback
    assert backend.set_backend("auto").name == "numpy"


def test_to_numpy_and_asarray():
    a = np.arange(3.0)
    assert backend.to_numpy(a) is a or np.shares_memory(backend.to_numpy(a), a)
    assert isinstance(backend.to_numpy(2.5), np.ndarray)
    assert backend.to_numpy([1, 2]).tolist() == [1, 2]
    backend.set_backend("numpy")
    out = backend.asarray([1, 2], dtype=np.float64)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert isinstance(backend.asarray([1.0], small=True), np.ndarray)
    assert backend.namespace_of(a, np.ones(2)) is np


def test_rng_is_reproducible_and_rejects_bad_seeds():
    backend.set_backend("numpy")
    a = backend.rng(123).standard_normal(5)
    b = backend.rng(123).standard_normal(5)
    c = backend.rng(124).standard_normal(5)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert backend.rng(np.int64(7)).standard_normal(2).shape == (2,)
    assert backend.rng(None).standard_normal(2).shape == (2,)
    for bad in (-1, 1.5, "3"):
        with pytest.raises(ValueError, match="seed must be a non-negative integer"):
            backend.rng(bad)


def test_backend_info_keys(capsys, monkeypatch):
    monkeypatch.setenv("HDREG_BACKEND", "numpy")
    info = hdreg.backend_info(show=True)
    for key in ("backend", "device", "scale", "python", "numpy"):
        assert key in info
    assert info["backend"] == "numpy"
    assert info["scale"] == "ci"
    assert info["numpy"] == np.__version__
    printed = capsys.readouterr().out
    assert "backend" in printed and "numpy" in printed
    assert hdreg.backend_info(show=False) == info
    assert capsys.readouterr().out == ""

"""A strict stand-in for CuPy, to prove the GPU path of ``hdreg`` on a machine without a GPU.

Device arrays are :class:`DeviceArray` objects wrapping NumPy arrays. The stand-in is *stricter* than
CuPy where CuPy would be slow or wrong:

* implicit conversion to NumPy (``np.asarray(d)``, ``__array__``, the buffer protocol) raises
  ``TypeError``, as CuPy does;
* mixing a device array with a host ``numpy.ndarray`` in an operation, a ufunc, a NumPy function
  (through ``__array_function__``) or an assignment raises ``TypeError``, as CuPy does; Python and
  NumPy scalars are fine;
* every device-to-host copy is counted in :data:`COUNTS` (``get()``, ``asnumpy``, ``float()``,
  ``int()``, ``bool()``, ``item()``, formatting), as are host-to-device copies (``asarray`` of host
  data) and device generators created.

Install it with :func:`install` (puts the module in ``sys.modules["cupy"]`` and makes it the active
``hdreg`` backend); :func:`uninstall` undoes that.
"""

from __future__ import annotations

import sys
import types
from collections import Counter

import numpy as np

COUNTS: Counter = Counter()


def reset_counts():
    COUNTS.clear()


def _is_host(x):
    return isinstance(x, np.ndarray)


def _unwrap(x, where: str):
    """Device arrays to their NumPy payload; host arrays raise (mixing)."""
    if isinstance(x, DeviceArray):
        return x._a
    if _is_host(x):
        raise TypeError(f"fake cupy: a host numpy.ndarray {x.shape} was mixed with device arrays in "
                        f"{where}; move it to the device with xp.asarray first")
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v, where) for v in x)
    return x


def _wrap(x):
    if isinstance(x, np.ndarray):
        return DeviceArray(x)
    if isinstance(x, np.generic) and not isinstance(x, (np.str_, np.bytes_)):
        return DeviceArray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


class DeviceArray:
    """A device array: a NumPy payload that refuses to become a host array implicitly."""

    __array_priority__ = 1000

    def __init__(self, a):
        self._a = a

    # -- what CuPy refuses ------------------------------------------------------------------
    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` "
                        "to construct a NumPy array explicitly. (fake cupy)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        ins = _unwrap(inputs, f"numpy ufunc {ufunc.__name__}")
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"], f"the out= of {ufunc.__name__}")
        return _wrap(getattr(ufunc, method)(*ins, **kwargs))

    def __array_function__(self, func, types_, args, kwargs):
        return _wrap(func(*_unwrap(args, f"numpy.{func.__name__}"),
                          **{k: _unwrap(v, f"numpy.{func.__name__}") for k, v in kwargs.items()}))

    # -- explicit and counted device-to-host copies ----------------------------------------
    def get(self):
        COUNTS["d2h"] += 1
        return self._a.copy()

    def item(self):
        COUNTS["d2h"] += 1
        return self._a.item()

    def tolist(self):
        COUNTS["d2h"] += 1
        return self._a.tolist()

    def __float__(self):
        COUNTS["d2h"] += 1
        return float(self._a)

    def __int__(self):
        COUNTS["d2h"] += 1
        return int(self._a)

    def __index__(self):
        COUNTS["d2h"] += 1
        return self._a.__index__()

    def __bool__(self):
        COUNTS["d2h"] += 1
        return bool(self._a)

    def __format__(self, spec):
        COUNTS["d2h"] += 1
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __repr__(self):
        return f"fake_cupy.array({self._a!r})"

    # -- array protocol ---------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    dtype = property(lambda self: self._a.dtype)
    nbytes = property(lambda self: self._a.nbytes)
    T = property(lambda self: DeviceArray(self._a.T))
    real = property(lambda self: DeviceArray(self._a.real))
    flat = property(lambda self: _Flat(self._a))

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(v) for v in self._a)

    def __getitem__(self, key):
        if isinstance(key, tuple):
            key = tuple(k._a if isinstance(k, DeviceArray) else k for k in key)
        elif isinstance(key, DeviceArray):
            key = key._a
        return _wrap(self._a[key])

    def __setitem__(self, key, value):
        if isinstance(key, tuple):
            key = tuple(k._a if isinstance(k, DeviceArray) else k for k in key)
        elif isinstance(key, DeviceArray):
            key = key._a
        self._a[key] = _unwrap(value, "an assignment into a device array")

    def _method(name):  # noqa: N805
        def call(self, *args, **kwargs):
            args = _unwrap(args, f"ndarray.{name}")
            kwargs = {k: _unwrap(v, f"ndarray.{name}") for k, v in kwargs.items()}
            return _wrap(getattr(self._a, name)(*args, **kwargs))
        call.__name__ = name
        return call

    for _name in ("sum", "mean", "std", "var", "max", "min", "argmax", "argmin", "argsort", "astype",
                  "copy", "clip", "cumsum", "cumprod", "ravel", "flatten", "any", "all", "dot",
                  "reshape", "transpose", "squeeze", "swapaxes", "prod", "conj", "nonzero", "trace",
                  "diagonal", "fill", "sort", "round", "repeat", "take"):
        locals()[_name] = _method(_name)
    del _name, _method

    def _binary(name):  # noqa: N805
        def op(self, other):
            return _wrap(getattr(self._a, name)(_unwrap(other, f"operator {name}")))
        op.__name__ = name
        return op

    for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                  "__rtruediv__", "__floordiv__", "__rfloordiv__", "__pow__", "__rpow__", "__matmul__",
                  "__rmatmul__", "__mod__", "__rmod__", "__lt__", "__le__", "__gt__", "__ge__",
                  "__eq__", "__ne__", "__and__", "__rand__", "__or__", "__ror__", "__xor__",
                  "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ipow__", "__iand__", "__ior__"):
        locals()[_name] = _binary(_name)
    del _name, _binary

    def __neg__(self):
        return DeviceArray(-self._a)

    def __pos__(self):
        return self

    def __abs__(self):
        return DeviceArray(abs(self._a))

    def __invert__(self):
        return DeviceArray(~self._a)

    __hash__ = None


DeviceArray.__module__ = "cupy._core.core"  # hdreg recognises CuPy arrays by their module
DeviceArray.__name__ = DeviceArray.__qualname__ = "ndarray"


class _Flat:
    def __init__(self, a):
        self._a = a

    def __getitem__(self, i):
        return _wrap(self._a.flat[i])


# ------------------------------------------------------------------------------------------------
# the module

def asarray(a, dtype=None, order=None):
    if isinstance(a, DeviceArray):
        return a if dtype is None else DeviceArray(a._a.astype(dtype, copy=False))
    COUNTS["h2d"] += 1
    if isinstance(a, (list, tuple)) and any(isinstance(v, DeviceArray) for v in a):
        raise TypeError("fake cupy: asarray of a list holding device arrays (use stack)")
    return DeviceArray(np.array(a, dtype=dtype))


def array(a, dtype=None, copy=True, **kwargs):
    out = asarray(a, dtype)
    return DeviceArray(out._a.copy()) if copy else out


def asnumpy(a):
    if isinstance(a, DeviceArray):
        return a.get()
    return np.asarray(a)


def ascontiguousarray(a, dtype=None):
    if not isinstance(a, DeviceArray):
        raise TypeError("fake cupy: ascontiguousarray of a host array")
    return DeviceArray(np.ascontiguousarray(a._a, dtype=dtype))


def _function(name):
    func = getattr(np, name)

    def call(*args, **kwargs):
        args = _unwrap(args, f"cupy.{name}")
        kwargs = {k: _unwrap(v, f"cupy.{name}") for k, v in kwargs.items()}
        return _wrap(func(*args, **kwargs))

    call.__name__ = name
    return call


_CREATION = ("zeros", "ones", "empty", "full", "arange", "linspace", "geomspace", "logspace", "eye",
             "identity", "tri")


class _Linalg(types.ModuleType):
    def __getattr__(self, name):
        func = getattr(np.linalg, name)

        def call(*args, **kwargs):
            return _wrap(func(*_unwrap(args, f"cupy.linalg.{name}"),
                              **{k: _unwrap(v, f"cupy.linalg.{name}") for k, v in kwargs.items()}))

        return call


class Generator:
    """A device generator: NumPy's PCG64 underneath, device arrays out."""

    def __init__(self, bit_generator):
        COUNTS["generators"] += 1
        self._g = np.random.Generator(bit_generator)

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        if out is not None:
            raise TypeError("fake cupy: out= is not used by hdreg")
        return DeviceArray(np.asarray(self._g.standard_normal(size, dtype=dtype)))

    def random(self, size=None, dtype=np.float64, out=None):
        return DeviceArray(np.asarray(self._g.random(size, dtype=dtype)))

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        return DeviceArray(np.asarray(self._g.integers(low, high, size, dtype=dtype, endpoint=endpoint)))

    def permutation(self, x):
        return DeviceArray(self._g.permutation(_unwrap(x, "permutation")))

    # cupy.random.Generator has these with scalar parameters (hdreg.sim.universality draws with them)
    def chisquare(self, df, size=None, dtype=np.float64):
        if not np.isscalar(df):
            raise TypeError("fake cupy: chisquare takes a scalar df")
        return DeviceArray(np.asarray(self._g.chisquare(df, size), dtype=dtype))

    def gamma(self, shape, scale=1.0, size=None, dtype=np.float64):
        if not (np.isscalar(shape) and np.isscalar(scale)):
            raise TypeError("fake cupy: gamma takes scalar shape and scale")
        return DeviceArray(np.asarray(self._g.gamma(shape, scale, size), dtype=dtype))


def _default_rng(seed=None):
    if isinstance(seed, (np.random.SeedSequence, np.random.BitGenerator, np.ndarray)):
        raise TypeError("fake cupy: default_rng takes an integer seed")
    return Generator(np.random.PCG64(seed))


def _philox(seed=None):
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError("fake cupy: Philox4x3210 takes an integer seed")
    return np.random.Philox(int(seed))


class _Cuda:
    class runtime:  # noqa: N801
        @staticmethod
        def getDeviceCount():  # noqa: N802
            return 1

        @staticmethod
        def memGetInfo():  # noqa: N802
            return 8 * 2**30, 16 * 2**30

        @staticmethod
        def getDeviceProperties(i):  # noqa: N802
            return {"name": b"Fake CUDA device (NumPy underneath)", "totalGlobalMem": 16 * 2**30}

    class Device:
        def __init__(self, i=0):
            self.id = i


class FakeCupy(types.ModuleType):
    """The ``cupy`` namespace: NumPy functions over device arrays, strictly."""

    def __init__(self):
        super().__init__("cupy")
        self.__version__ = "13.0.0-fake"
        self.ndarray = DeviceArray
        self.asarray = asarray
        self.array = array
        self.asnumpy = asnumpy
        self.ascontiguousarray = ascontiguousarray
        self.linalg = _Linalg("cupy.linalg")
        self.random = types.SimpleNamespace(default_rng=_default_rng, Generator=Generator,
                                            Philox4x3210=_philox)
        self.cuda = _Cuda
        for name in ("float64", "float32", "int64", "int32", "bool_", "nan", "inf", "pi", "e",
                     "newaxis", "errstate", "iinfo", "finfo", "dtype", "integer", "floating"):
            setattr(self, name, getattr(np, name))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        func = getattr(np, name)
        if not callable(func):
            return func
        call = _function(name)
        setattr(self, name, call)
        return call


_saved = {}


def install(monkeypatch=None):
    """Make the stand-in ``sys.modules['cupy']`` and the active hdreg backend; returns the module."""
    import hdreg.backend as hb

    mod = FakeCupy()
    if monkeypatch is not None:
        monkeypatch.setitem(sys.modules, "cupy", mod)
        monkeypatch.setattr(hb, "_current", hb.Backend("cupy", mod, "fake CUDA device", "stand-in",
                                                       {"numpy": np.__version__,
                                                        "cupy": mod.__version__}))
    else:
        _saved["cupy"] = sys.modules.get("cupy")
        _saved["backend"] = hb._current
        sys.modules["cupy"] = mod
        hb._current = hb.Backend("cupy", mod, "fake CUDA device", "stand-in",
                                 {"numpy": np.__version__, "cupy": mod.__version__})
    reset_counts()
    return mod


def uninstall():
    import hdreg.backend as hb

    if _saved.get("cupy") is None:
        sys.modules.pop("cupy", None)
    else:
        sys.modules["cupy"] = _saved["cupy"]
    hb._current = _saved.get("backend")

r"""Piecewise Chebyshev interpolants of the spectral sums of ridge regression.

Every deterministic equivalent of :mod:`hdreg.theory.ridge` is built from sums over the spectrum
:math:`\lambda_1, \dots, \lambda_P > 0` of functions of :math:`r_i = \lambda_i/(\lambda_i + \kappa)`:

.. math::
    \mathrm{df}_1 = \sum_i r_i,\qquad \mathrm{df}_2 = \sum_i r_i^2,\qquad
    W = \sum_i w_i (1 - r_i)^2 \quad (w_i \ge 0),

and their complements :math:`c_1 = \sum_i (1 - r_i) = \mathrm{rank} - \mathrm{df}_1`,
:math:`c_2 = \sum_i (1 - r_i^2) = \mathrm{rank} - \mathrm{df}_2`. Evaluated exactly, each costs
O(P) per value of :math:`\kappa`. :class:`SpectralSums` tabulates them once per spectrum on a grid
in :math:`u = \log\kappa` (cost O(nodes x P)) and afterwards evaluates them at any number of points
in O(degree) each, with a proven relative error bound.

Analyticity
-----------
With :math:`z = u - \log\lambda_i`, the terms are :math:`r_i = f(z)`, :math:`1 - r_i = f(-z)`,
:math:`f(z) = 1/(1 + e^{z})`, whose poles :math:`z = i\pi(2k+1)` lie off the strip
:math:`|\operatorname{Im} z| < \pi`, uniformly in :math:`i`. In that strip, with
:math:`x = \operatorname{Re} z`, :math:`y = \operatorname{Im} z`,

.. math::
    |1 + e^{x+iy}|^2 = (1 + e^x)^2\,\bigl(1 - s(1 - \cos y)/(1 + s)\bigr),\quad s = 2e^x/(1+e^{2x}) \le 1
    \quad\Longrightarrow\quad |f(x+iy)| \le f(x)/\cos(y/2).

Along the real axis :math:`|d\log f/dx| = 1 - f \le 1`, so :math:`f(x - \delta) \le e^{\delta} f(x)`.
Hence every term of the sums, evaluated at a complex :math:`u` with :math:`|\operatorname{Im}u| \le y`
and real part within :math:`\delta` of a real :math:`u'`, is bounded by its own value at :math:`u'` times
:math:`(e^{\delta}/\cos(y/2))^{k}`, with :math:`k = 1` for :math:`r_i, 1 - r_i` and :math:`k = 2` for
:math:`r_i^2, (1-r_i)^2, r_i(1 - r_i), 1 - r_i^2 = (1 - r_i)(1 + r_i)`. All terms are non-negative, so
the same holds for the sums: **the bound is relative to the sum's own value**, whatever its magnitude.

Error bound
-----------
The range :math:`[u_0, u_1]` is cut into panels of half-width :math:`h`; on each the sums are
interpolated at the :math:`d + 1` Chebyshev points of the second kind (Chebyshev-Lobatto; adjacent
panels share their end nodes). Map a panel to :math:`[-1, 1]`; the Bernstein ellipse :math:`E_\rho` has
semi-axes :math:`h(\rho \pm \rho^{-1})/2` in :math:`u`. Choosing its semi-minor axis :math:`y < \pi`,
:math:`\rho = y/h + \sqrt{(y/h)^2 + 1}` (:math:`\pi/h + \sqrt{(\pi/h)^2+1}` minus a margin), its
semi-major axis is :math:`\sqrt{h^2 + y^2}`, so every point of :math:`E_\rho` has real part within
:math:`\delta = h + \sqrt{h^2 + y^2}` of any real point of the panel.

To keep rounding at a few ``eps`` of the *local* value (a sum like ``df2 ~ e^{-2u}`` varies by
:math:`e^{4h}` across a panel), each sum :math:`F` is interpolated as :math:`G = F e^{s(u - c)}`, ``c`` the
panel centre and ``s`` its mean log-slope on the panel, clipped to :math:`|s| \le k` (``F = G e^{-s(u-c)}``
on evaluation). On the ellipse :math:`|e^{s(u-c)}| \le e^{k\sqrt{h^2+y^2}}` and on the panel
:math:`e^{s(u-c)} \ge e^{-kh}`, so :math:`\max_{E_\rho}|G| \le K\,G(u)` for every real :math:`u` of the
panel with :math:`K = (e^{2\delta}/\cos(y/2))^{2}` (``k = 2``, which covers ``k = 1``). The interpolation
theorem for analytic functions (Trefethen, *Approximation Theory and Approximation Practice*, Thm 8.2:
:math:`\|G - p_d\| \le 4M\rho^{-d}/(\rho - 1)`; the brief's ``2M`` is the bound for the truncated
Chebyshev series, interpolation costs a factor 2) gives, at every :math:`u` of the panel,

.. math::
    |F(u) - p_d(u)e^{-s(u-c)}| \le \frac{4K\rho^{-d}}{\rho - 1}\,F(u).

:func:`chebyshev_degree` minimises the degree over :math:`y \in (0, \pi)` for a target ``rtol`` and rounds
it up to even; the default :math:`h = 1`, ``rtol = 1e-15`` gives :math:`d = 32` (bound ``9e-17``, optimal
:math:`y \approx 2.9`, :math:`\rho \approx 5.9`), 16 nodes per unit of :math:`u`. The bound is
conservative; what remains is rounding: measured errors against the exact sums (tests) are
``~6e-15`` typically, ``< 5e-14`` always, relative to each sum.

Which sums are stored
---------------------
On each panel, ``df1, df2`` are stored where they are smaller than their complements, and ``c1, c2``
otherwise, so that ``df1 = rank - c1`` keeps absolute accuracy ``eps x min(df1, c1)``: the fixed point of
ridge regression near the interpolation threshold (``kappa`` far below the spectrum) is decided by
``c1``, not by ``df1 ~ rank``. The derivative ``d df1/du = df2 - df1 = -q`` with
:math:`q = \sum_i r_i(1 - r_i)` is interpolated as a sum of its own (no cancellation when ``kappa`` sits in
a gap of the spectrum, where ``df1 ~ df2``).

Outside the table (``u`` beyond ``[u0, u1]``) every method falls back to the exact O(P) sums; at
``kappa = 0`` the sums are exact constants (``df1 = df2 = rank``, ``W = 0``).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import _validate
from ..backend import namespace_of, to_numpy

__all__ = ["SpectralSums", "chebyshev_degree", "error_bound", "exact_sums", "newton_log", "table_for"]

#: default panel half-width in u = log kappa (chosen by measurement: fewer nodes vs shorter series)
HALF_WIDTH = 1.0
#: default relative interpolation error bound
RTOL = 1e-15
# elements of one (nodes x spectrum) block when evaluating exact sums (cache-sized on the CPU)
_BLOCK_CPU = 1 << 17
_BLOCK = 1 << 22
# points per block when evaluating interpolants on the CPU (the (degree+1) x block basis stays in cache)
_INTERP_BLOCK_CPU = 2048
# points per block of the interpolated solver on the CPU
_SOLVE_BLOCK_CPU = 5120
# tables never extend beyond |u| = _U_LIMIT (exp overflows at ~709)
_U_LIMIT = 690.0


def _bound_curve(h: float, power: int):
    """(y, rho, K) over a grid of semi-minor axes y in (0, pi)."""
    y = np.linspace(0.02, math.pi - 0.02, 800)
    rho = y / h + np.sqrt((y / h) ** 2 + 1.0)
    # e^{delta} per unit of power from the terms, and e^{power delta} from the scaling e^{s(u-c)}
    k = (np.exp(2.0 * (h + np.sqrt(h * h + y * y))) / np.cos(y / 2)) ** power
    return y, rho, k


@functools.lru_cache(maxsize=64)
def error_bound(h: float, d: int, power: int = 2) -> float:
    r"""The proven bound on ``|F - p_d| / F`` on a panel of half-width ``h`` with degree ``d``:
    :math:`\min_y 4K\rho^{-d}/(\rho-1)` (module docstring); ``power`` is 1 for ``df1, c1`` and 2 for
    ``df2, c2, W``."""
    _, rho, k = _bound_curve(float(h), power)
    return float(np.min(4.0 * k * rho ** (-float(d)) / (rho - 1.0)))


@functools.lru_cache(maxsize=64)
def chebyshev_degree(h: float, rtol: float = RTOL, power: int = 2) -> int:
    """Smallest even degree whose :func:`error_bound` on a panel of half-width ``h`` is ``<= rtol``."""
    if not (0 < h < 50) or not (0 < rtol < 1):
        raise ValueError(f"need 0 < h < 50 and 0 < rtol < 1, got h={h!r}, rtol={rtol!r}")
    _, rho, k = _bound_curve(float(h), power)
    d = np.log(4.0 * k / ((rho - 1.0) * rtol)) / np.log(rho)
    d = max(2, int(math.ceil(float(np.min(d)))))
    return d + (d % 2)


def exact_sums(spec, kappa, xp, weights=None):
    """Exact ``df1, c1, df2, q, c2`` (and, with ``weights``, ``W = sum w (1-r)^2`` and
    ``Wc = sum w r (1-r)``) at every ``kappa`` (1-D, >= 0), in blocks; arrays on ``xp``.

    The one implementation of the spectral sums of the book: ridge, random features, distillation,
    weak-to-strong and scaling laws all evaluate them here (or through :class:`SpectralSums`).
    ``spec`` holds positive eigenvalues only. With ``inv = 1/(lambda + kappa)``: ``r = lambda inv``,
    ``1 - r = kappa inv``; the sums are matrix products of ``inv`` and ``inv^2`` with short columns.
    """
    m, p = kappa.shape[0], spec.shape[0]
    out = {key: xp.empty(m) for key in ("df1", "c1", "df2", "q")}
    if weights is not None:
        out["W"] = xp.empty(m)
        out["Wc"] = xp.empty(m)
    step = max(1, min(m, (_BLOCK_CPU if xp is np else _BLOCK) // max(p, 1)))
    buf = xp.empty((step, p))
    cols1 = xp.stack([spec, xp.ones_like(spec)], axis=1)  # (P, 2)
    cols2 = xp.stack([spec * spec, spec] + ([weights, weights * spec] if weights is not None else []),
                     axis=1)
    for s in range(0, m, step):
        k = kappa[s:s + step]
        inv = buf[:k.shape[0]]
        xp.add(spec, k[:, None], out=inv)
        xp.reciprocal(inv, out=inv)
        a = inv @ cols1
        out["df1"][s:s + step] = a[:, 0]
        out["c1"][s:s + step] = k * a[:, 1]
        xp.multiply(inv, inv, out=inv)
        b = inv @ cols2
        out["df2"][s:s + step] = b[:, 0]
        out["q"][s:s + step] = k * b[:, 1]
        if weights is not None:
            out["W"][s:s + step] = (k * k) * b[:, 2]
            out["Wc"][s:s + step] = k * b[:, 3]
    out["c2"] = out["c1"] + out["q"]
    return out


@functools.lru_cache(maxsize=8)
def _cell_matrices(d: int, k: int) -> np.ndarray:
    """``((k+1) d, d+1)``: row ``j d + i`` applied to the coefficients ``c`` of a panel series gives the
    coefficient of ``T_j(s)`` of the degree-``k`` interpolant of that series at ``k + 1`` Lobatto points of
    cell ``i`` (between the ascending panel nodes ``t_i = -cos(i pi/d)`` and ``t_{i+1}``; ``s`` in
    [-1, 1] is the cell's own variable). The interpolation matrix has bounded entries
    (``|T_j| <= 1`` on the panel), so rounding stays at a few eps of the series' size."""
    t = -np.cos(np.pi * np.arange(d + 1) / d)
    centre, rad = 0.5 * (t[1:] + t[:-1]), 0.5 * (t[1:] - t[:-1])
    x = np.cos(np.pi * np.arange(k + 1) / k)
    pts = centre[:, None] + rad[:, None] * x[None, :]  # (d cells, k+1 points)
    vander = np.polynomial.chebyshev.chebvander(pts, d)  # (d, k+1 points, d+1 terms)
    mats = _lobatto_matrix(k)[None] @ vander  # (d cells, k+1 local terms, d+1 panel terms)
    return _frozen(np.ascontiguousarray(mats.transpose(1, 0, 2).reshape((k + 1) * d, d + 1)))


@functools.lru_cache(maxsize=8)
def _cheb_to_powers(k: int) -> np.ndarray:
    """``(k+1, k+1)``: ``A @ c`` are the coefficients of ``sum_j c_j T_j(s)`` in powers of ``s``."""
    out = np.zeros((k + 1, k + 1))
    for j in range(k + 1):
        col = np.polynomial.chebyshev.cheb2poly(np.eye(k + 1)[j])
        out[:col.size, j] = col
    return _frozen(out)


def _frozen(a: np.ndarray) -> np.ndarray:
    """``a`` made read-only (the cached matrices are shared by every caller)."""
    a.flags.writeable = False
    return a


@functools.lru_cache(maxsize=16)
def _lobatto_matrix(d: int) -> np.ndarray:
    """``M`` with ``coef = M @ values``: Chebyshev coefficients of the interpolant through
    ``values[j] = f(cos(j pi / d))``, j = 0..d (DCT-I). Cached, read-only."""
    j = np.arange(d + 1)
    m = (2.0 / d) * np.cos(np.pi * np.outer(j, j) / d)
    m[:, 0] *= 0.5
    m[:, -1] *= 0.5
    m[0, :] *= 0.5
    m[-1, :] *= 0.5
    return _frozen(m)


class SpectralSums:
    r"""Piecewise Chebyshev interpolants in :math:`u = \log\kappa` of ``df1, df2`` (or their
    complements, whichever is smaller on a panel), of ``q = df1 - df2`` and, with ``weights``, of
    :math:`W = \kappa^2\sum_i w_i/(\lambda_i+\kappa)^2`.

    Parameters
    ----------
    spectrum : (P,) non-negative eigenvalues (zeros are dropped: they add nothing to any sum).
    weights : optional (P,) finite, non-negative weights ``w_i`` (``lambda_i beta_i^2`` for the bias).
    u_range : ``(u0, u1)``, the tabulated range of ``log kappa``; default: the spectrum's range
        ``[log min lambda - 10, log max lambda + 10]``.
    half_width : panel half-width ``h`` in ``u``.
    rtol : target relative error bound; the degree comes from :func:`chebyshev_degree`.

    The build costs one exact evaluation of all sums at ``nodes = panels x degree + 1`` points. All
    arrays live on the namespace (NumPy or CuPy) of ``spectrum``; methods accept ``kappa`` of any
    shape and return arrays of that shape.
    """

    def __init__(self, spectrum, weights=None, u_range=None, half_width=HALF_WIDTH, rtol=RTOL):
        full = _validate.spectrum(spectrum)
        xp = namespace_of(full)
        self.xp = xp
        mask = full > 0
        self.spec = full[mask]
        self.rank = int(self.spec.shape[0])
        if weights is not None:
            w = _validate.vector_like(weights, full, "weights", xp=xp)
            if np.any(to_numpy(w) < 0):
                raise ValueError("weights must be non-negative (the error bound needs positive terms)")
            weights = w[mask]
        self.weights = weights
        logs = np.log(to_numpy(self.spec))
        if u_range is None:
            u_range = (float(logs.min()) - 10.0, float(logs.max()) + 10.0)
        u0, u1 = (float(v) for v in u_range)
        if not (np.isfinite(u0) and np.isfinite(u1)) or u0 > u1:
            raise ValueError(f"u_range must be finite with u0 <= u1, got {u_range!r}")
        if max(abs(u0), abs(u1)) > _U_LIMIT:
            raise ValueError(f"u_range must lie within [-{_U_LIMIT}, {_U_LIMIT}] (exp overflows)")
        h_nom = float(half_width)
        self.degree = d = chebyshev_degree(h_nom, rtol)
        panels = max(1, int(math.ceil((u1 - u0) / (2.0 * h_nom) - 1e-9)))
        if u1 - u0 < 2.0 * h_nom:  # a single panel of the nominal width, centred on the range
            mid = 0.5 * (u0 + u1)
            u0, u1 = mid - h_nom, mid + h_nom
        self.h = h = (u1 - u0) / (2 * panels)
        self.u0, self.u1, self.panels = u0, u1, panels
        # Global ascending nodes: panel p holds u = c_p + h cos(j pi/d), j = d..0; shared ends.
        centres = u0 + h * (2 * np.arange(panels) + 1)
        x = np.cos(np.pi * np.arange(d + 1) / d)  # descending, x[0] = 1
        local = centres[:, None] + h * x[None, ::-1]  # (panels, d+1), ascending in each row
        nodes = np.concatenate([local[:, :-1].ravel(), [u1]])
        nodes[0] = u0
        self.nodes = nodes  # host copy, ascending, size panels*d + 1
        self.centres = centres
        sums = exact_sums(self.spec, xp.asarray(np.exp(nodes)), xp, weights)
        self.node_sums = sums
        # per panel: complements where smaller (decided at the centre node)
        mid = np.arange(panels) * d + d // 2
        df1_mid = to_numpy(sums["df1"])[mid]
        c1_mid = to_numpy(sums["c1"])[mid]
        high = c1_mid < df1_mid
        self.high = xp.asarray(high)
        # values at x_j = cos(j pi/d), j = 0..d, i.e. global index p*d + d - j
        gidx = xp.asarray(np.arange(panels)[:, None] * d + d - np.arange(d + 1)[None, :])
        mat = xp.asarray(_lobatto_matrix(d))
        hi = self.high[:, None]
        # functions: 0 = df1 or c1, 1 = q, 2 = df2 or c2, 3 = W
        vals = [xp.where(hi, sums["c1"][gidx], sums["df1"][gidx]), sums["q"][gidx],
                xp.where(hi, sums["c2"][gidx], sums["df2"][gidx])]
        powers = [1, 2, 2]
        if weights is not None:
            vals.append(sums["W"][gidx])
            powers.append(2)
        # Interpolate G = F e^{s (u - c)}, s the mean log-slope of F over the panel (|s| <= power):
        # G is nearly flat, so rounding stays at a few eps of the local value (not of the panel max).
        xh = xp.asarray(x * h)
        coefs, slopes = [], []
        for v, k in zip(vals, powers):
            left, right = v[:, d], v[:, 0]
            ok = (left > 0) & (right > 0)
            ratio = xp.where(ok, right, 1.0) / xp.where(ok, left, 1.0)
            s = xp.clip(-xp.log(ratio) / (2.0 * h), -float(k), float(k))
            g = v * xp.exp(s[:, None] * xh[None, :])
            coefs.append(g @ mat.T)  # (panels, d+1)
            slopes.append(s)
        # (panels, d+1, F): one gather serves every function
        self.coef = xp.ascontiguousarray(xp.stack(coefs, axis=2))
        self.slope = xp.ascontiguousarray(xp.stack(slopes, axis=1))  # (panels, F)
        self.centres_x = xp.asarray(centres)

    @property
    def bound(self) -> float:
        """The proven relative interpolation error bound (before rounding) of this table."""
        return error_bound(self.h, self.degree)

    def _cells(self):
        """Local polynomials of functions 0 and 1 (as ``G``, before the factor ``e^{-s(u-c)}``) on every
        cell between adjacent nodes, for :meth:`solve`, whose Newton steps never leave a cell.

        On each cell (half-width at most ``h sin(pi/2d)`` in ``u``) the panel series is interpolated at
        ``K + 1`` Lobatto points, ``K = chebyshev_degree(cell half-width)``: the error against the exact
        ``G`` is at most ``Lambda_K`` times the panel's bound plus :func:`error_bound` of the cell
        (``Lambda_K <= 1 + 2 log(K + 1)/pi`` the Lebesgue constant), about ``2.5e-15`` relative for the
        default table. Stored in powers of the cell variable (Horner); built on first use and
        indexed by the cell's left node."""
        if getattr(self, "_cell_table", None) is not None:
            return self._cell_table
        xp = self.xp
        d, panels = self.degree, self.panels
        degree = chebyshev_degree(self.h * math.sin(math.pi / (2 * d)), RTOL)
        mats = xp.asarray(_cell_matrices(d, degree))  # ((K+1) d, d+1)
        coef = xp.moveaxis(self.coef[:, :, :2], 1, 0).reshape(d + 1, panels * 2)  # (d+1, (p, f))
        cheb = (mats @ coef).reshape(degree + 1, d, panels, 2)  # (term, cell in panel, panel, f)
        cheb = xp.ascontiguousarray(cheb.transpose(0, 3, 2, 1)).reshape(degree + 1, 2 * panels * d)
        # to powers of s on the data's coefficients, which fall by ~100 per degree on a cell this
        # small, so the change of basis costs no accuracy
        power = (xp.asarray(_cheb_to_powers(degree)) @ cheb).reshape(degree + 1, 2, panels * d)
        nodes = xp.asarray(self.nodes)
        panel = xp.asarray(np.repeat(np.arange(panels), d))
        self._cell_table = {
            "degree": degree,
            "coef": power,  # (K+1, 2, cells): coefficients of s^k, functions 0 and 1
            "centre": 0.5 * (nodes[1:] + nodes[:-1]),
            "rad": 0.5 * (nodes[1:] - nodes[:-1]),
            "slope": xp.ascontiguousarray(self.slope[panel][:, :2].T),  # (2, cells)
            "pcentre": self.centres_x[panel],
            "high": self.high[panel],
        }
        return self._cell_table

    # -- evaluation ---------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of nodes at which the sums were evaluated exactly."""
        return int(self.nodes.size)

    def inside(self, u):
        """Mask of the ``u`` (xp array) evaluated by interpolation."""
        slack = 1e-9 * self.h
        return (u >= self.u0 - slack) & (u <= self.u1 + slack)

    def interpolate(self, u, which=(0, 1)):
        """Raw interpolants ``(vals (m, len(which)), high (m,))`` at ``u`` (xp, 1-D, inside the table):
        function 0 is ``df1`` (``c1`` where ``high``), 1 is ``q = df1 - df2``, 2 is ``df2`` (``c2`` where
        ``high``), 3 is ``W``.

        Points are sorted by panel, so that each panel is one small matrix product of its Chebyshev
        coefficients with the basis ``T_k(t)`` of its points (no per-point gather of coefficients);
        on the CPU in blocks whose basis stays in cache.
        """
        xp = self.xp
        which = list(which)
        m = u.shape[0]
        block = _INTERP_BLOCK_CPU if xp is np else m
        if m <= block:
            return self._interpolate(u, which)
        vals = xp.empty((m, len(which)))
        high = xp.empty(m, dtype=bool)
        for s in range(0, m, block):
            vals[s:s + block], high[s:s + block] = self._interpolate(u[s:s + block], which)
        return vals, high

    def _interpolate(self, u, which):
        xp = self.xp
        nfun = len(which)
        d = self.degree
        m = u.shape[0]
        p = xp.clip(xp.floor((u - self.u0) / (2.0 * self.h)).astype(xp.int64), 0, self.panels - 1)
        order = xp.argsort(p, kind="stable")
        ps = p[order]
        t = (u[order] - self.centres_x[ps]) / self.h
        basis = xp.empty((d + 1, m))  # rows contiguous: the recurrence runs on whole rows
        basis[0] = 1.0
        basis[1] = t
        t2 = 2.0 * t
        for k in range(2, d + 1):
            xp.multiply(t2, basis[k - 1], out=basis[k])
            basis[k] -= basis[k - 2]
        scaled = xp.exp(self.slope[ps][:, which] * (-self.h * t)[:, None])  # (m, nfun)
        vals = xp.empty((m, nfun))
        bounds = to_numpy(xp.searchsorted(ps, xp.arange(self.panels + 1)))
        for q in np.flatnonzero(np.diff(bounds)):
            a, b = int(bounds[q]), int(bounds[q + 1])
            vals[a:b] = basis[:, a:b].T @ self.coef[q][:, which]
        vals *= scaled
        out = xp.empty_like(vals)
        out[order] = vals
        return out, self.high[p]

    def _flat_kappa(self, kappa):
        """``kappa`` as a flat float array on the table's namespace, and its original shape."""
        k = self.xp.asarray(kappa, dtype=self.xp.float64)
        host = to_numpy(k)
        if np.any(host < 0) or not np.all(np.isfinite(host)):
            raise ValueError("kappa must be finite and >= 0")
        return k.reshape(-1), k.shape

    def moments(self, kappa, complements=False):
        """``(df1, df2, W)`` at every ``kappa >= 0`` (``W`` is ``None`` without weights); with
        ``complements``, also ``(c1, c2) = (rank - df1, rank - df2)``, each accurate relative to itself."""
        xp = self.xp
        k, shape = self._flat_kappa(kappa)
        which = [0, 2, 3] if self.weights is not None else [0, 2]
        df1, df2, c1, c2 = (xp.empty(k.shape) for _ in range(4))
        w = xp.empty(k.shape) if self.weights is not None else None
        zero = k == 0
        with np.errstate(divide="ignore"):
            u = xp.log(k)
        ins = self.inside(u) & ~zero
        i_in = xp.flatnonzero(ins)
        if i_in.size:
            vals, high = self.interpolate(u[i_in], which)
            va, vb = vals[:, 0], vals[:, 1]
            df1[i_in] = xp.where(high, self.rank - va, va)
            df2[i_in] = xp.where(high, self.rank - vb, vb)
            c1[i_in] = xp.where(high, va, self.rank - va)
            c2[i_in] = xp.where(high, vb, self.rank - vb)
            if w is not None:
                w[i_in] = vals[:, 2]
        i_zero = xp.flatnonzero(zero)
        if i_zero.size:
            df1[i_zero] = float(self.rank)
            df2[i_zero] = float(self.rank)
            c1[i_zero] = 0.0
            c2[i_zero] = 0.0
            if w is not None:
                w[i_zero] = 0.0
        i_out = xp.flatnonzero(~ins & ~zero)
        if i_out.size:
            ex = exact_sums(self.spec, k[i_out], xp, self.weights)
            df1[i_out] = ex["df1"]
            df2[i_out] = ex["df2"]
            c1[i_out] = ex["c1"]
            c2[i_out] = ex["c2"]
            if w is not None:
                w[i_out] = ex["W"]
        out = (df1.reshape(shape), df2.reshape(shape), None if w is None else w.reshape(shape))
        return out + (c1.reshape(shape), c2.reshape(shape)) if complements else out

    def df1(self, kappa):
        r""":math:`\sum_i \lambda_i/(\lambda_i+\kappa)`."""
        return self.moments(kappa)[0]

    def df2(self, kappa):
        r""":math:`\sum_i \lambda_i^2/(\lambda_i+\kappa)^2`."""
        return self.moments(kappa)[1]

    def weighted(self, kappa):
        r""":math:`\kappa^2\sum_i w_i/(\lambda_i+\kappa)^2` (requires ``weights``)."""
        if self.weights is None:
            raise ValueError("weighted() needs the weights given at construction")
        return self.moments(kappa)[2]

    def ddf1_du(self, kappa):
        r""":math:`d\,\mathrm{df}_1/d\log\kappa = \mathrm{df}_2 - \mathrm{df}_1` (computed as ``-q``
        without cancellation)."""
        xp = self.xp
        k, shape = self._flat_kappa(kappa)
        out = xp.empty(k.shape)
        with np.errstate(divide="ignore"):
            u = xp.log(k)
        ins = self.inside(u) & (k > 0)
        i_in = xp.flatnonzero(ins)
        if i_in.size:
            out[i_in] = -self.interpolate(u[i_in], (1,))[0][:, 0]
        i_out = xp.flatnonzero(~ins)
        if i_out.size:
            out[i_out] = -exact_sums(self.spec, k[i_out], xp)["q"]
        return out.reshape(shape)

    # -- the fixed point of ridge regression --------------------------------------------------
    def solve(self, n, lam, tol=1e-14, max_iter=100):
        r"""``u = log kappa`` solving :math:`1 - \lambda e^{-u} = \mathrm{df}_1(e^u)/n` for every point
        whose root lies in the table, by safeguarded Newton on the interpolated sums.

        ``n > 0``, ``lam >= 0`` are 1-D xp arrays. Returns ``(u, found)``: ``found`` marks the points whose
        root lies in ``[u0, u1]`` (``g(u0) < 0 <= g(u1)``); ``u`` is meaningless elsewhere.

        1. The exact node values give ``n g`` at every node; ``g`` is increasing, so its sign at the
           panel ends picks each root's panel, and a vectorised binary search over that panel's nodes
           brackets the root in one cell between *exactly evaluated* nodes.
        2. A cubic Hermite interpolant of ``n g`` on the cell (exact values and slopes) gives the start.
        3. Newton on the interpolated ``g`` with the exact-solver's safeguard (bisection when a step leaves
           the bracket) and stopping rule (a step ``d <= 0.1`` lands within ``1.3 d^2`` of the root).
           The steps never leave the cell, so they evaluate the cell's short local polynomial
           (:meth:`_cells`, degree ~10, as accurate as the panel series) instead of the panel series:
           no sorting by panel and a third of the arithmetic.
           A root within interpolation error of a node can make the interpolated root fall just outside
           the exact bracket: the steps there are tiny, so the stopping rule accepts them before the
           safeguard is consulted, and the answer is within ``~1e-15`` of the node either way.
        """
        xp = self.xp
        m = n.shape[0]
        # On the CPU, blocks of points keep every temporary small (large temporaries, freed and
        # re-allocated many times per call, cost page faults); equal blocks of at most
        # _SOLVE_BLOCK_CPU points, so that no small last block pays the per-block overhead.
        if xp is np:
            block = -(-m // max(1, -(-m // _SOLVE_BLOCK_CPU)))
        else:
            block = max(m, 1)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # lam e^{-u} = inf is fine
            if m <= block:
                return self._solve(n, lam, tol, max_iter)
            u = xp.empty(m)
            found = xp.empty(m, dtype=bool)
            for s in range(0, m, block):
                u[s:s + block], found[s:s + block] = self._solve(n[s:s + block], lam[s:s + block],
                                                                 tol, max_iter)
            return u, found

    def _solve(self, n, lam, tol, max_iter):
        xp = self.xp
        sums = self.node_sums
        rank = float(self.rank)
        nodes = xp.asarray(self.nodes)
        em = xp.exp(-nodes)
        use_c = sums["c1"] < sums["df1"]
        # n g = (n - shift) + y - n lam e^{-u}: shift = rank, y = c1 with the complement (evaluated
        # as (n - rank) + c1, no cancellation), shift = 0, y = -df1 otherwise
        y = xp.where(use_c, sums["c1"], -sums["df1"])
        shift = xp.where(use_c, rank, 0.0)
        q = sums["q"]
        g_count = self.nodes.size
        m = n.shape[0]

        def ng_at(j, nn_, nmr_, nl_):
            return (nn_ - xp.take(shift, j)) + xp.take(y, j) - nl_ * xp.take(em, j)

        nmr = n - rank
        nl = n * lam
        first = ng_at(0, n, nmr, nl)
        last = ng_at(g_count - 1, n, nmr, nl)
        found = (first < 0) & (last >= 0)
        u_out = xp.full(m, xp.nan)
        idx = xp.flatnonzero(found)
        if idx.size == 0:
            return u_out, found
        nn, nmr, nl = n[idx], nmr[idx], nl[idx]
        # Bracket each root between two adjacent nodes a < b = a + 1 with n g(a) < 0 <= n g(b): n g
        # increases along the nodes, so the panel comes from its sign at the panel ends (one
        # (panels x points) evaluation, negative on a prefix), then a binary search over the offsets
        # 0..d-1 within the panel in steps of 2^k (a step landing on a node where n g >= 0, possibly
        # past the panel, is refused).
        d = self.degree
        ends = xp.asarray(np.arange(self.panels + 1) * d)
        neg_ends = ((nn[None, :] - shift[ends][:, None]) + y[ends][:, None]
                    - nl[None, :] * em[ends][:, None]) < 0  # (panels + 1, points)
        # (a sum down the short axis, in int32: numpy's reductions along it are fast)
        count = xp.clip(neg_ends.sum(axis=0, dtype=xp.int32), 1, self.panels).astype(xp.int64)
        a = (count - 1) * d
        step = 1 << max(0, (d - 1).bit_length() - 1)  # steps 2^k, ..., 1 reach every offset < d
        while step >= 1:
            cand = xp.minimum(a + step, g_count - 1)
            a = xp.where(ng_at(cand, nn, nmr, nl) < 0, cand, a)
            step //= 2
        b = a + 1
        ua, ub = nodes[a], nodes[b]
        width = ub - ua
        ga, gb = ng_at(a, nn, nmr, nl), ng_at(b, nn, nmr, nl)
        sa = width * (nl * em[a] + q[a])  # d(n g)/dt, t in [0, 1] across the cell
        sb = width * (nl * em[b] + q[b])
        # cubic Hermite c0 + c1 t + c2 t^2 + c3 t^3 of n g on the cell; Newton from the secant root
        c2 = 3.0 * (gb - ga) - 2.0 * sa - sb
        c3 = 2.0 * (ga - gb) + sa + sb
        t = -ga / (gb - ga)  # ga < 0 <= gb
        for _ in range(2):  # the secant root is within ~1e-3 of the cell: 2 steps reach ~1e-12
            val = ((c3 * t + c2) * t + sa) * t + ga
            der = (3.0 * c3 * t + 2.0 * c2) * t + sa
            with np.errstate(divide="ignore", invalid="ignore"):
                t = xp.where(der > 0, xp.clip(t - val / der, 0.0, 1.0), t)
        lo, hi = ua, ub
        u = ua + width * t
        # Newton on the interpolant, on the cell's local polynomial (the steps stay in the cell)
        cells = self._cells()
        deg = cells["degree"]
        take = xp.take  # much faster than fancy indexing on the CPU
        coef = take(cells["coef"], a, axis=2)  # (deg+1, 2, points), powers of the cell variable
        ctr, rad = take(cells["centre"], a), take(cells["rad"], a)
        slope = take(cells["slope"], a, axis=1)  # (2, points)
        pcen, high = take(cells["pcentre"], a), take(cells["high"], a)
        todo = None  # all points, first pass without index bookkeeping
        for _ in range(max_iter):
            if todo is None:
                uu, nn_t, nmr_t, nl_t, lo_t, hi_t = u, nn, nmr, nl, lo, hi
                co, ct, rd, sl, pc, hg = coef, ctr, rad, slope, pcen, high
            else:
                uu, nn_t, nmr_t, nl_t = u[todo], nn[todo], nmr[todo], nl[todo]
                lo_t, hi_t = lo[todo], hi[todo]
                co, ct, rd, sl, pc, hg = (take(coef, todo, axis=2), ctr[todo], rad[todo],
                                          take(slope, todo, axis=1), pcen[todo], high[todo])
            sc = (uu - ct) / rd
            vals = co[deg].copy()  # (2, points)
            for k in range(deg - 1, -1, -1):
                vals *= sc
                vals += co[k]
            vals *= xp.exp(sl * (pc - uu))
            va = vals[0]
            shrink = nl_t * xp.exp(-uu)
            ng = xp.where(hg, nmr_t + va, nn_t - va) - shrink
            dng = shrink + vals[1]
            neg = ng < 0
            lo_t = xp.where(neg, uu, lo_t)
            hi_t = xp.where(neg, hi_t, uu)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = ng / dng
            exact = ng == 0
            new = xp.where(exact, uu, uu - step)
            scale = tol * xp.maximum(1.0, xp.abs(uu))
            accept = exact | (1.3 * step * step <= scale)
            outside = ~((new > lo_t) & (new < hi_t)) & ~accept  # also catches nan
            new = xp.where(outside, 0.5 * (lo_t + hi_t), new)
            done = accept | (xp.abs(new - uu) <= scale)
            if todo is None:
                u, lo, hi = new, lo_t, hi_t
                todo = xp.flatnonzero(~done)
            else:
                u[todo], lo[todo], hi[todo] = new, lo_t, hi_t
                todo = todo[~done]
            if todo.size == 0:
                break
        else:  # pragma: no cover - bisection halves the bracket: converges well before this
            raise RuntimeError("SpectralSums.solve did not converge")
        u_out[idx] = u
        return u_out, found


# The interpolated path (hdreg.theory.spectral): tabulate the sums once at ``G`` nodes (about G exact
# evaluations), then O(degree) per point. It pays when ``points >= G max(1, _INTERP_SHARE / P)`` and
# ``P >= _INTERP_MIN_P``: measured on a 2-core Xeon with one BLAS thread, the two paths break even at
# about points = 1.2 G for P = 1000-5000 and 5 G for P = 100, and the exact path always wins for P <= 32.
_INTERP_SHARE = 400.0
_INTERP_MIN_P = 64
# Tables extend at most this far (in log kappa) beyond the spectrum, and only for spectra whose entries
# keep 1/(lambda + kappa)^2 finite at every node; other points use the exact path.
_INTERP_MARGIN = 40.0
_INTERP_SPAN = 1e150


def table_for(spec, lo, hi, points, weights=None, force=False):
    """A :class:`SpectralSums` over the brackets ``[lo, hi]`` (log kappa, host arrays) for a solve
    at ``points`` points, or ``None`` where exact passes are cheaper (or the spectrum's range is
    extreme). Used by every fixed-point solver (ridge, random features)."""
    host = to_numpy(spec)
    s_min, s_max = float(host.min()), float(host.max())
    if not (1.0 / _INTERP_SPAN < s_min and s_max < _INTERP_SPAN):
        return None
    u0 = max(float(lo.min()), np.log(s_min) - _INTERP_MARGIN)
    u1 = min(float(hi.max()), np.log(s_max) + _INTERP_MARGIN)
    if not u0 < u1:
        return None
    h = HALF_WIDTH
    nodes = (np.ceil((u1 - u0) / (2 * h)) * chebyshev_degree(h) + 1)
    if not force and (host.size < _INTERP_MIN_P
                      or points < nodes * max(1.0, _INTERP_SHARE / host.size)):
        return None
    return SpectralSums(spec, weights=weights, u_range=(u0, u1), half_width=h)


def newton_log(fun, lo, hi, xp, tol=1e-13, max_iter=200, u0=None, quadratic_stop=False):
    """Vectorised safeguarded Newton for an increasing ``g(u)`` on the bracket ``[lo, hi]`` (log scale).

    The one bracketed Newton solver of the theory modules for fixed points written in
    ``u = log kappa`` (random features, weak-to-strong; ridge runs the same safeguard with its own
    stopping rule in :meth:`SpectralSums.solve`). ``fun(u, idx)`` returns ``(g, dg)`` at ``u`` for the
    points ``idx``; ``g`` may be ``-inf`` (below the root) where the equation is not defined. A Newton
    step leaving the bracket is replaced by a secant step between the bracket ends when both values
    of ``g`` there are known and finite, and by bisection otherwise, so every iteration keeps the
    root bracketed. ``lo``, ``hi`` (updated in place) and the result are 1-D arrays on ``xp``.

    ``quadratic_stop``: for equations with ``|g''| <= g'`` (ridge: see
    :func:`hdreg.theory.ridge._solve_kappa`), a Newton step ``d`` lands within ``1.3 d^2`` of the root,
    so a point stops as soon as that bound is below ``tol max(1, |u|)`` (one iteration earlier).
    """
    u = 0.5 * (lo + hi) if u0 is None else xp.minimum(xp.maximum(u0, lo), hi)
    glo = xp.full(u.shape, xp.nan)
    ghi = xp.full(u.shape, xp.nan)
    todo = xp.arange(u.shape[0])
    for _ in range(max_iter):
        g, dg = fun(u[todo], todo)
        neg = g < 0
        lo[todo] = xp.where(neg, u[todo], lo[todo])
        glo[todo] = xp.where(neg, g, glo[todo])
        hi[todo] = xp.where(neg, hi[todo], u[todo])
        ghi[todo] = xp.where(neg, ghi[todo], g)
        l, h, gl, gh = lo[todo], hi[todo], glo[todo], ghi[todo]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            step = g / dg
            new = u[todo] - step
            secant = l - gl * (h - l) / (gh - gl)
        if quadratic_stop:
            accept = (g == 0) | (1.3 * step * step <= tol * xp.maximum(1.0, xp.abs(u[todo])))
            bad = ~accept & (~xp.isfinite(new) | (new <= l) | (new >= h))
        else:
            accept = None
            bad = ~xp.isfinite(new) | (new < l) | (new > h)  # new == u when g == 0: converged
        sec_ok = xp.isfinite(secant) & (secant > l) & (secant < h)
        new = xp.where(bad, xp.where(sec_ok, secant, 0.5 * (l + h)), new)
        change = xp.abs(new - u[todo])
        u[todo] = new
        scale = tol * xp.maximum(1.0, xp.abs(new))
        keep = (change > scale) & (h - l > scale)
        if accept is not None:
            keep = keep & ~accept
        todo = todo[keep]
        if todo.shape[0] == 0:
            break
    else:  # pragma: no cover - the bracketed iteration always converges well before this
        raise RuntimeError("fixed point did not converge")
    return u

"""The GPU path, proven on a CPU: every public theory, simulation and selection function runs under a
strict CuPy stand-in (``fake_cupy``: implicit host conversion and host/device mixing raise,
device-to-host copies are counted) and returns host (NumPy) results, with NumPy inputs and, where an
argument is an array, with device inputs too. Simulators copy to the host a number of times that
grows with the number of chunks, not with the problem size or the number of iterations; theory moves
large spectra to the device.

The rule, everywhere: **public functions return host arrays** (NumPy arrays, Python floats, or
dataclasses/tuples of them); internally, everything runs on the active backend.
"""

from __future__ import annotations

import dataclasses

import fake_cupy
import numpy as np
import pytest
from _hdreg_fixtures import clean_env, power_law  # noqa: F401

import hdreg
from hdreg import selection as sel
from hdreg.sim import distillation as sdist
from hdreg.sim import gradient_flow as sgf
from hdreg.sim import icl as sicl
from hdreg.sim import random_features as srf
from hdreg.sim import ridge as sridge
from hdreg.sim import synthetic as ssyn
from hdreg.sim import universality as suni
from hdreg.sim import weak_to_strong as sw2s
from hdreg.theory import (distillation, gradient_flow, icl, isotropic, marchenko_pastur,
                          random_features, ridge, scaling, synthetic, ttt, weak_to_strong)


@pytest.fixture
def gpu(monkeypatch):
    """The stand-in as the active backend (and as ``sys.modules['cupy']``) for one test."""
    mod = fake_cupy.install(monkeypatch)
    assert hdreg.backend.get_backend().name == "cupy"
    return mod


def assert_host(obj, where="result"):
    """Every array in ``obj`` (recursively through dataclasses, tuples, lists, dicts) is host."""
    if isinstance(obj, fake_cupy.DeviceArray):
        raise AssertionError(f"{where} is a device array")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            assert_host(getattr(obj, f.name), f"{where}.{f.name}")
    elif isinstance(obj, (tuple, list)):
        for i, v in enumerate(obj):
            assert_host(v, f"{where}[{i}]")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            assert_host(v, f"{where}[{k!r}]")
    else:
        assert obj is None or callable(obj) or isinstance(
            obj, (np.ndarray, np.generic, float, int, bool, str)), f"{where}: {type(obj)}"


P = 40
SPEC = power_law(P, 1.3)
BETA = np.sqrt(np.arange(1, P + 1) ** -1.8 / SPEC)
ISO = np.ones(20)
SX, SB = np.diag(np.linspace(1.0, 0.3, 5)), np.eye(5) / 5


def _digits_like(seed=0, n_real=40, n_syn=120, d=10):
    g = np.random.default_rng(seed)
    real = g.standard_normal((n_real, d))
    syn = g.standard_normal((n_syn, d)) * 1.3
    return real, syn, np.arange(n_real) % 2, np.arange(n_syn) % 2


def _cases(dev):
    """(name, thunk) pairs; ``dev`` converts an array argument (identity: NumPy inputs; the
    stand-in's ``asarray``: device inputs)."""
    spec, beta, iso = dev(SPEC), dev(BETA), dev(ISO)
    sx, sb = dev(SX), dev(SB)
    real, syn, yr, ys = _digits_like()
    big = dev(power_law(1 << 15, 1.5))  # a large spectrum: theory runs on the device
    big_beta = dev(np.ones(1 << 15) * 1e-2)
    return [
        # theory.ridge
        ("ridge.degrees_of_freedom", lambda: ridge.degrees_of_freedom(spec, [0.01, 0.1])),
        ("ridge.effective_regularization", lambda: ridge.effective_regularization(spec, [20, 60], 0.01)),
        ("ridge.ridge_risk", lambda: ridge.ridge_risk(spec, beta, np.array([20.0, 60.0]), 0.0, 0.2)),
        ("ridge.ridge_risk large", lambda: ridge.ridge_risk(big, big_beta, [100.0, 1000.0], 1e-3, 0.1)),
        ("ridge.ridge_risk many points", lambda: ridge.ridge_risk(
            spec, beta, np.geomspace(5, 100, 3000), 1e-3, 0.1)),
        ("ridge.ridgeless_tau", lambda: ridge.ridgeless_tau(spec, 20)),
        # theory.isotropic, marchenko_pastur
        ("isotropic.isotropic_kappa", lambda: isotropic.isotropic_kappa(dev(np.array([0.5, 2.0])), 0.1)),
        ("isotropic.isotropic_risk", lambda: isotropic.isotropic_risk(dev(np.array([0.5, 2.0])), 0.1, 1.0, 0.2)),
        ("isotropic.ridgeless_isotropic_risk", lambda: isotropic.ridgeless_isotropic_risk(
            dev(np.array([0.5, 2.0])), 1.0, 0.2)),
        ("isotropic.isotropic_risk_finite_n", lambda: isotropic.isotropic_risk_finite_n(
            20, 40, dev(np.array([0.0, 0.1])), 1.0, 0.2)),
        ("isotropic.optimal_lambda", lambda: isotropic.optimal_lambda(2.0, 1.0, 0.2)),
        ("marchenko_pastur.mp_edges", lambda: marchenko_pastur.mp_edges(0.5)),
        ("marchenko_pastur.mp_density", lambda: marchenko_pastur.mp_density(dev(np.linspace(0.1, 2, 9)), 0.5)),
        ("marchenko_pastur.mp_stieltjes", lambda: marchenko_pastur.mp_stieltjes(dev(np.array([0.1, 1.0])), 0.5)),
        ("marchenko_pastur.mp_stieltjes_correction", lambda: marchenko_pastur.mp_stieltjes_correction(
            dev(np.array([0.1, 1.0])), 0.5)),
        # theory.scaling
        ("scaling.power_law_problem", lambda: scaling.power_law_problem(100, 1.5, 0.5)),
        ("scaling.capacity_constant", lambda: scaling.capacity_constant(1.5)),
        ("scaling.bias_constant", lambda: scaling.bias_constant(1.5, 0.5)),
        ("scaling.predicted_rate", lambda: scaling.predicted_rate(1.5, 0.5, "tuned")),
        ("scaling.optimal_lambda_exponent", lambda: scaling.optimal_lambda_exponent(1.5, 0.5)),
        ("scaling.tempered_variance", lambda: scaling.tempered_variance(1.5, 0.1)),
        ("scaling.risk_at_kappa", lambda: scaling.risk_at_kappa(spec, beta, 30.0, 0.05, 0.1)),
        ("scaling.optimal_lambda", lambda: scaling.optimal_lambda(spec, beta, [20.0, 60.0], 0.1, grid=9, rounds=2)),
        ("scaling.optimal_lambda large", lambda: scaling.optimal_lambda(big, big_beta, [200.0], 0.1, grid=9,
                                                                        rounds=2)),
        ("scaling.ridgeless_window", lambda: scaling.ridgeless_window(1.5, 0.5, 10**7, delta=0.05)),
        ("scaling.fit_rate", lambda: scaling.fit_rate(dev(np.array([10.0, 20, 40, 80])),
                                                      dev(np.array([1.0, 0.5, 0.26, 0.12])))),
        ("scaling.bias_variance_crossover", lambda: scaling.bias_variance_crossover(
            np.array([10.0, 20, 40]), np.array([1.0, 0.5, 0.2]), np.array([0.1, 0.3, 0.6]))),
        ("scaling.fit_capacity_source", lambda: scaling.fit_capacity_source(
            dev(np.arange(1, 400.0) ** -1.5), dev(np.arange(1, 400.0) ** -2.5))),
        ("scaling.kernel_spectrum_and_source", lambda: scaling.kernel_spectrum_and_source(
            dev(real[:20] @ real[:20].T), dev(real[:20, 0]))),
        # theory.random_features
        ("rf.rf_effective_regularization", lambda: random_features.rf_effective_regularization(
            spec, 30, [10, 60], 0.01)),
        ("rf.rf_risk", lambda: random_features.rf_risk(spec, beta, 30, [10, 60], [0.0, 0.01], 0.1)),
        ("rf.rf_risk grid", lambda: random_features.rf_risk(spec, beta, np.full(2000, 30.0),
                                                            np.geomspace(5, 200, 2000), 1e-3, 0.1)),
        ("rf.rf_risk_at_nu", lambda: random_features.rf_risk_at_nu(spec, beta, 30, 60, 0.1, 0.1)),
        ("rf.rf_tuned_risk", lambda: random_features.rf_tuned_risk(spec, beta, 30, 60, 0.1, grid=20)),
        ("rf.rf_min_nu", lambda: random_features.rf_min_nu(spec, 30, 60)),
        ("rf.rf_approximation_error", lambda: random_features.rf_approximation_error(spec, beta, 10)),
        ("rf.features_needed", lambda: random_features.features_needed(
            spec, beta, [30, 60], 0.1, p_grid=np.geomspace(2, 200, 12), grid=20)),
        ("rf.compute_optimal_split", lambda: random_features.compute_optimal_split(
            spec, beta, [1e3], 0.1, splits=7, grid=20)),
        ("rf.relu_coefficients", lambda: random_features.relu_coefficients()),
        ("rf.relu_gaussian_equivalent", lambda: random_features.relu_gaussian_equivalent(iso, iso / 4)),
        # theory.distillation
        ("dist.surrogate_risk", lambda: distillation.surrogate_risk(spec, beta, 0.5 * beta, [20, 60], 0.1)),
        ("dist.surrogate_risk large", lambda: distillation.surrogate_risk(big, big_beta, big_beta,
                                                                          [300, 3000], 0.0)),
        ("dist.surrogate_risk_terms", lambda: distillation.surrogate_risk_terms(spec, beta, beta, 20, 0.1)),
        ("dist.optimal_surrogate", lambda: distillation.optimal_surrogate(spec, beta, 20)),
        ("dist.optimal_surrogate_risk", lambda: distillation.optimal_surrogate_risk(spec, beta, 20, 0.1)),
        ("dist.amplification_threshold", lambda: distillation.amplification_threshold(spec, 20)),
        ("dist.mask_threshold", lambda: distillation.mask_threshold(spec, 20)),
        ("dist.optimal_mask", lambda: distillation.optimal_mask(spec, 20, beta_star=beta)),
        ("dist.teacher_moments", lambda: distillation.teacher_moments(spec, beta, 30, 0.1, features=10)),
        ("dist.two_stage_risk", lambda: distillation.two_stage_risk(spec, beta, 30, 20, 0.1, features=10)),
        ("dist.power_law_ratio_limit", lambda: distillation.power_law_ratio_limit(1.5, 2.0)),
        # theory.weak_to_strong
        ("w2s.teacher_state", lambda: weak_to_strong.teacher_state(spec, beta, 0.1, 30, 0.01, p_teacher=20)),
        ("w2s.student_risk", lambda: weak_to_strong.student_risk(spec, beta, 0.1, 30, 0.01, 25,
                                                                 [0.0, 0.01], p_teacher=20, p_student=50)),
        ("w2s.tuned_student", lambda: weak_to_strong.tuned_student(spec, beta, 0.1, 30, 0.01, 25)),
        ("w2s.predicted_rates", lambda: weak_to_strong.predicted_rates(1.5, 0.5)),
        ("w2s.rate_scan", lambda: weak_to_strong.rate_scan(1.5, 0.5, 2000, [50, 100, 200], 0.1)),
        # theory.icl
        ("icl.pretrained_weights", lambda: icl.pretrained_weights(sx, sb, 8, 0.1)),
        ("icl.icl_loss", lambda: icl.icl_loss(dev(np.eye(5) / 8), sx, sb, 8, 0.1)),
        ("icl.fixed_task_loss", lambda: icl.fixed_task_loss(dev(np.eye(5) / 8), sx, dev(np.ones(5)), 8, 0.1)),
        ("icl.isotropic_icl_loss", lambda: icl.isotropic_icl_loss(dev(np.array([5.0, 20.0])), 5, 0.1)),
        ("icl.context_second_moment", lambda: icl.context_second_moment(sx, sb, 8, 0.1)),
        # theory.ttt
        ("ttt.isotropic_losses", lambda: ttt.isotropic_losses(dev(np.array([0.5, 2.0])), 1.0)),
        ("ttt.warm_start_threshold", lambda: ttt.warm_start_threshold(dev(np.array([0.5, 2.0])))),
        ("ttt.isotropic_ttt", lambda: ttt.isotropic_ttt(20, 10, 20)),
        ("ttt.shifted_ttt", lambda: ttt.shifted_ttt(dev(np.array([10.0, 20.0])), 10, 20, 1.5, 0.2, "warm",
                                                    "same")),
        ("ttt.diagonal_ttt", lambda: ttt.diagonal_ttt(spec, dev(np.ones(P) / 30), beta / 5, 30, 10)),
        ("ttt.context_length_for_loss", lambda: ttt.context_length_for_loss(0.8, 20, 10)),
        ("ttt.cold_context_length", lambda: ttt.cold_context_length(0.8, 20, 10)),
        # theory.synthetic
        ("syn.kms_covariance", lambda: synthetic.kms_covariance(6, 0.5)),
        ("syn.shift_spectrum", lambda: synthetic.shift_spectrum(dev(np.eye(4)), dev(np.diag([1.0, 2, 3, 4])))),
        ("syn.trace_normalised", lambda: synthetic.trace_normalised(dev(np.eye(4)), dev(np.diag([1.0, 2, 3, 4])))),
        ("syn.mixed_fixed_point", lambda: synthetic.mixed_fixed_point(dev(np.linspace(0.5, 2, 6)), 20, 30)),
        ("syn.mixed_risk_from_shift", lambda: synthetic.mixed_risk_from_shift(
            dev(np.linspace(0.5, 2, 6)), 20, 30, 0.5)),
        ("syn.mixed_training_risk", lambda: synthetic.mixed_training_risk(
            dev(np.eye(6)), dev(np.diag(np.linspace(0.5, 2, 6))), 20, 30, 0.5)),
        ("syn.synthetic_only_risk", lambda: synthetic.synthetic_only_risk(
            dev(np.eye(6)), dev(np.eye(6)), dev(np.zeros(6)), dev(np.ones(6) / 3), 30, 0.5)),
        ("syn.overparameterised_risk", lambda: synthetic.overparameterised_risk(
            spec, spec, beta, 10, 15, 0.3)),
        # simulators
        ("sim.simulate_ridge_path", lambda: sridge.simulate_ridge_path(spec, beta, 20, [0.0, 0.1], 0.2, 3)),
        ("sim.simulate_ridge_path_given_design", lambda: sridge.simulate_ridge_path_given_design(
            spec, beta, 20, [0.0, 0.1], 0.2, 3, return_coef=True)),
        ("sim.simulate_ridge_path_designs", lambda: suni.simulate_ridge_path_designs(
            "student", spec, beta, 20, [0.0, 0.1], 0.2, 3)),
        ("sim.simulate_ridge_path_designs elliptical", lambda: suni.simulate_ridge_path_designs(
            "elliptical", spec, beta, 20, [0.1], 0.2, 3)),
        ("sim.sample_covariance_eigenvalues", lambda: sridge.sample_covariance_eigenvalues(spec, 20, 3)),
        ("sim.simulate_rf_path", lambda: srf.simulate_rf_path(spec, beta, 20, 12, [0.0, 0.1], 0.2, 3)),
        ("sim.simulate_rf_path relu", lambda: srf.simulate_rf_path(iso, iso / 4, 20, 12, [0.1], 0.2, 3,
                                                                   features="relu")),
        ("sim.simulate_projection_error", lambda: srf.simulate_projection_error(spec, beta, 10, 3)),
        ("sim.simulate_surrogate_target", lambda: sdist.simulate_surrogate_target(
            spec, beta, dev(np.stack([BETA, BETA / 2])), 20, 0.2, 3, lams=[0.0, 0.1], return_mean_coef=True)),
        ("sim.simulate_two_stage", lambda: sdist.simulate_two_stage(spec, beta, 25, 20, 0.2, 3, features=10,
                                                                    lams=[0.0, 0.1])),
        ("sim.simulate_w2s", lambda: sw2s.simulate_w2s(spec, beta, 0.2, 25, 0.01, 20, [0.0, 0.1], 3,
                                                       p_teacher=10, p_student=30)),
        ("sim.simulate_w2s relu", lambda: sw2s.simulate_w2s(iso, iso / 4, 0.2, 25, 0.01, 20, [0.1], 3,
                                                            p_teacher=10, p_student=30, features="relu")),
        ("sim.sample_contexts", lambda: sicl.sample_contexts(sx, dev(np.ones((4, 5))), 8, 0.1)),
        ("sim.pretrain_sgd", lambda: sicl.pretrain_sgd(sx, sb, 8, 0.1, steps=30, batch=4, runs=2,
                                                        record=10)),
        ("sim.simulate_ttt", lambda: sicl.simulate_ttt(spec, dev(np.eye(P) / 30), beta / 5, 12, 6,
                                                       [0.0, 0.01], 3)),
        ("sim.simulate_ttt same", lambda: sicl.simulate_ttt(spec, dev(np.eye(P) / 30), beta / 5, 12, 6,
                                                            [0.01], 3, protocol="same")),
        ("sim.simulate_ttt sampled", lambda: sicl.simulate_ttt(spec, dev(np.eye(P) / 30), beta / 5, 12, 6,
                                                               [0.01], 3, fresh_prompts=2)),
        ("sim.simulate_ttt_multistep", lambda: sicl.simulate_ttt_multistep(
            spec, dev(np.eye(P) / 30), beta / 5, 12, 6, [[0.01, 0.01]], 3)),
        ("sim.simulate_mixed_training", lambda: ssyn.simulate_mixed_training(
            spec, dev(2 * SPEC), beta, 10, 8, 0.3, 3)),
        ("sim.means_with_cosine", lambda: ssyn.means_with_cosine(6, [0.0, 0.5], 1.0)),
        ("sim.ridge_classifier_accuracy", lambda: ssyn.ridge_classifier_accuracy(real, yr, syn, ys, 0.1)),
        # gradient flow (theory and simulator)
        ("gf.risk", lambda: gradient_flow.risk(spec, beta, 20, dev(np.array([0.5, 5.0])), 0.2)),
        ("gf.isotropic_risk", lambda: gradient_flow.isotropic_risk(0.5, dev(np.array([1.0, 10.0])), 1.0, 0.2)),
        ("gf.population_risk", lambda: gradient_flow.population_risk(spec, beta, dev(np.array([1.0, 10.0])))),
        ("sim.simulate_gradient_flow", lambda: sgf.simulate_gradient_flow(spec, beta, 20, [0.0, 1.0, 10.0],
                                                                          0.2, 3)),
        # selection
        ("sel.pca_basis", lambda: sel.pca_basis(dev(real), 4)),
        ("sel.covariance_matching", lambda: sel.covariance_matching(dev(real), dev(syn), 10, n_components=4)),
        ("sel.covariance_matching_naive", lambda: sel.covariance_matching_naive(dev(real), dev(syn), 10,
                                                                                n_components=4)),
        ("sel.random_selection", lambda: sel.random_selection(dev(real), dev(syn), 10)),
        ("sel.center_matching", lambda: sel.center_matching(dev(real), dev(syn), 10, n_components=4)),
        ("sel.kmeans_selection", lambda: sel.kmeans_selection(dev(real), dev(syn), 10, n_components=4)),
        ("sel.cluster_selection", lambda: sel.cluster_selection(dev(real), dev(syn), 10, n_components=4)),
        ("sel.covariance_gap", lambda: sel.covariance_gap(dev(real), yr, dev(syn), ys, 4)),
        ("sel.select_per_class", lambda: sel.select_per_class(dev(real), yr, dev(syn), ys, 5,
                                                              n_components=4)),
    ]


NAMES = [name for name, _ in _cases(lambda a: a)]


@pytest.mark.parametrize("inputs", ["host", "device"])
@pytest.mark.parametrize("name", NAMES)
def test_runs_under_the_strict_standin_and_returns_host_arrays(gpu, name, inputs):
    dev = (lambda a: a) if inputs == "host" else (lambda a: gpu.asarray(np.asarray(a)))
    thunk = dict(_cases(dev))[name]
    assert_host(thunk(), name)


def test_standin_is_strict(gpu):
    d = gpu.asarray(np.ones(3))
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(d)
    with pytest.raises(TypeError, match="mixed"):
        d + np.ones(3)
    with pytest.raises(TypeError, match="mixed"):
        np.ones(3) * d
    with pytest.raises(TypeError, match="mixed"):
        gpu.concatenate([d, np.ones(2)])
    fake_cupy.reset_counts()
    assert float(d.sum()) == 3.0 and hdreg.to_numpy(d).shape == (3,)
    assert fake_cupy.COUNTS["d2h"] == 2


def test_theory_moves_large_spectra_to_the_device(gpu, monkeypatch):
    seen = []
    real = ridge.spectral.exact_sums

    def spy(spec, kappa, xp, weights=None):
        seen.append(xp)
        return real(spec, kappa, xp, weights)

    monkeypatch.setattr(ridge.spectral, "exact_sums", spy)
    ridge.ridge_risk(power_law(1 << 15), np.ones(1 << 15) * 1e-2, [100.0, 1000.0], 1e-3, 0.1)
    assert seen and all(xp is gpu for xp in seen)
    seen.clear()
    ridge.ridge_risk(power_law(50), np.ones(50), [10.0], 1e-3, 0.1)  # small: stays on the host
    assert seen and all(xp is np for xp in seen)


def test_interpolated_kappa_solver_runs_on_the_device_and_matches_numpy(monkeypatch):
    """Many points take the tabulated solver (panel series, cell polynomials); on the stand-in it
    runs on the device and gives the NumPy answer."""
    spec, beta = power_law(200, 1.5), np.ones(200) * 0.1
    n = np.geomspace(10, 2000, 40)[:, None]
    lam = np.concatenate([[0.0], np.logspace(-4, 1, 39)])[None, :]
    built = []
    real = ridge.spectral.SpectralSums._cells

    def spy(self):
        built.append(self.xp)
        return real(self)

    monkeypatch.setattr(ridge.spectral.SpectralSums, "_cells", spy)
    k_host = ridge.effective_regularization(spec, n, lam)
    r_host = ridge.ridge_risk(spec, beta, n, lam, 0.1)
    assert built and all(xp is np for xp in built)
    built.clear()
    dev = fake_cupy.install(monkeypatch)
    k_dev = ridge.effective_regularization(dev.asarray(spec), n, lam)
    r_dev = ridge.ridge_risk(dev.asarray(spec), dev.asarray(beta), n, lam, 0.1)
    assert built and all(xp is dev for xp in built)
    assert_host(k_dev)
    assert_host(r_dev)
    np.testing.assert_allclose(k_dev, k_host, rtol=1e-13, atol=0)
    np.testing.assert_allclose(r_dev.risk, r_host.risk, rtol=1e-12, atol=0)


@pytest.mark.parametrize("n", [12, 40, 60])
def test_sim_kernels_stay_on_the_device_and_match_numpy(gpu, n):
    """The batched kernels of :mod:`hdreg.sim.ridge` take device arrays, return device arrays (no
    host copy) and give NumPy's numbers."""
    rng_ = np.random.default_rng(1)
    X, b, spec = rng_.standard_normal((2, n, P)), rng_.standard_normal(P), power_law(P)
    nlam = n * np.array([0.0, 0.1]) if n != P else n * np.array([0.1])
    kernels = {
        "ridge_path": lambda xp_in: sridge.ridge_path(xp_in(X), xp_in(X @ b), xp_in(nlam), train=True),
        "ridge_path_given_design": lambda xp_in: sridge.ridge_path_given_design(
            xp_in(X), xp_in(b), xp_in(nlam), 0.3, xp_in(spec)),
        "gram_eigensystem": lambda xp_in: sridge.gram_eigensystem(xp_in(X)),
    }
    for name, run in kernels.items():
        fake_cupy.reset_counts()
        dev_out = run(lambda a: gpu.asarray(a))
        assert fake_cupy.COUNTS["d2h"] == 0, name
        assert all(isinstance(a, fake_cupy.DeviceArray) for a in dev_out), name
        monkey_host = [gpu.asnumpy(a) for a in dev_out]
        for a, h in zip(monkey_host, run(lambda a: a)):
            np.testing.assert_allclose(a, h, rtol=1e-12, atol=1e-12, err_msg=name)


def _copies(run):
    fake_cupy.reset_counts()
    run()
    return fake_cupy.COUNTS["d2h"]


@pytest.mark.parametrize("name, make", [
    ("ridge", lambda P_, t: lambda: sridge.simulate_ridge_path(power_law(P_), np.ones(P_) / P_, 15,
                                                               [0.0, 0.1, 1.0], 0.2, t)),
    ("rf", lambda P_, t: lambda: srf.simulate_rf_path(power_law(P_), np.ones(P_) / P_, 15, 12,
                                                      [0.0, 0.1], 0.2, t)),
    ("two_stage", lambda P_, t: lambda: sdist.simulate_two_stage(power_law(P_), np.ones(P_) / P_, 25, 20,
                                                                 0.2, t, features=10, lams=[0.0, 0.1])),
    ("w2s", lambda P_, t: lambda: sw2s.simulate_w2s(power_law(P_), np.ones(P_) / P_, 0.2, 25, 0.01, 20,
                                                    [0.0, 0.1], t, p_teacher=10, p_student=30)),
    ("ttt", lambda P_, t: lambda: sicl.simulate_ttt(power_law(P_), np.eye(P_) / 30, np.ones(P_) / P_, 12, 6,
                                                    [0.0, 0.01], t)),
    ("gradient_flow", lambda P_, t: lambda: sgf.simulate_gradient_flow(
        power_law(P_), np.ones(P_) / P_, 15, [0.0, 1.0, 10.0], 0.2, t, init_var=0.5)),
    ("designs", lambda P_, t: lambda: suni.simulate_ridge_path_designs(
        "sparse", power_law(P_), np.ones(P_) / P_, 15, [0.0, 0.1], 0.2, t)),
    ("mixed", lambda P_, t: lambda: ssyn.simulate_mixed_training(power_law(P_), 2 * power_law(P_),
                                                                 np.ones(P_) / P_, 10, 8, 0.3, t)),
])
def test_device_to_host_copies_grow_with_chunks_not_size(gpu, monkeypatch, name, make):
    one_chunk_small = _copies(make(30, 4))
    one_chunk_large = _copies(make(60, 8))  # bigger problem, more trials, still one chunk
    assert one_chunk_large == one_chunk_small, (one_chunk_small, one_chunk_large)
    assert one_chunk_small <= 12
    for budget in (2e3, 2e4, 4e4, 2e5):  # the smallest that holds one trial: about one trial per chunk
        monkeypatch.setenv("HDREG_MEM_BUDGET_GB", str(budget / 2**30))
        try:
            many = _copies(make(30, 8))
            break
        except MemoryError:
            continue
    # at most the per-chunk copies times the number of chunks (8 trials: at most 8 chunks)
    assert one_chunk_small < many <= one_chunk_small * 8


def test_pretrain_copies_do_not_grow_with_iterations(gpu):
    short = _copies(lambda: sicl.pretrain_sgd(SX, SB, 8, 0.1, steps=20, batch=4, runs=2, record=5))
    long = _copies(lambda: sicl.pretrain_sgd(SX, SB, 8, 0.1, steps=200, batch=4, runs=2, record=5))
    assert long == short

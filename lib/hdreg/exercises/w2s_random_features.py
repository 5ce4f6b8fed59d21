"""Checks for the exercises of the weak-to-strong random-features chapter
(``chapters/w2s_random_features.md``)."""

from __future__ import annotations

import numpy as np

from ..theory import weak_to_strong as w2s
from . import attempt, close, expect

__all__ = ["check_linear_part_error", "check_unlabelled_student"]
__all__ += ["check_width_for"]


def check_linear_part_error(linear_part_error, spectrum, beta) -> None:
    """``linear_part_error(state, spectrum, beta)``: the error of the teacher's linear part,
    ``sum_i lambda_i [(1 - t_i)^2 beta_i^2 + Var beta_T,i]``, from a ``TeacherState``."""
    spec = np.asarray(spectrum, dtype=float)
    b = np.asarray(beta, dtype=float)
    for n_t, lam, p_t in ((100, 0.0, 60), (100, 1e-2, 150), (80, 0.0, None)):
        st = w2s.teacher_state(spec, b, 0.2, n_t, lam, p_teacher=p_t)
        got = attempt(linear_part_error, st, spec, b)
        want = float(np.sum(spec * ((b - st.mean) ** 2 + st.var)))
        close(got, want, rtol=1e-9, what=f"your error at n_T={n_t}, lambda_T={lam}, p_T={p_t}",
              hint="st.mean is E beta_T (so 1 - t_i = 1 - st.mean/beta) and st.var its variance, "
                   "both per coordinate; weight each by lambda_i")
        close(got, st.risk, rtol=1e-8, what="your error compared with the teacher's risk",
              hint="for linear features the nonlinear energy N_T is zero")
    expect(True, "the linear part carries the whole risk of a linear-feature teacher (N_T = 0)", "")


def check_unlabelled_student(tuned_risks, spectrum, beta, noise_var, n_teacher) -> None:
    """``tuned_risks(n_students)``: the tuned student's risk for each student sample size (ridgeless
    teacher on ``n_teacher`` samples)."""
    n_s = np.array([1e3, 1e4, 1e5])
    got = np.asarray(attempt(tuned_risks, n_s), dtype=float).reshape(-1)
    want = np.array([w2s.tuned_student(spectrum, beta, noise_var, n_teacher, 0.0, v)[0] for v in n_s])
    expect(got.shape == want.shape, "", f"return one risk per student sample size ({n_s.size})")
    close(got, want, rtol=1e-6, what="your tuned risks",
          hint="w2s.tuned_student(spectrum, beta, noise_var, n_teacher, 0.0, n_student) returns "
               "(risk, penalty); keep the teacher ridgeless")
    expect(bool(np.all(np.diff(got) < 0)), "the risk keeps decreasing with more unlabelled inputs", "")


def check_width_for(width_for, spectrum, beta, noise_var) -> None:
    """``width_for(n, eps)``: the student width at which the first-order relative correction of
    Proposition ``prop-w2s-width`` equals ``eps`` (ridgeless teacher, ``n_S = n_T = n``, the kernel
    student's tuned penalty)."""
    spec = np.asarray(spectrum, dtype=float)
    b = np.asarray(beta, dtype=float)
    ns = np.array([100.0, 400.0, 1600.0])
    want, lams = [], []
    for n in ns:
        lam = w2s.tuned_student(spec, b, noise_var, n, 0.0, n)[1]
        wc = w2s.width_correction(spec, b, noise_var, n, 0.0, n, lam, 1.0)
        want.append(wc.first_order / (0.1 * wc.kernel))
        lams.append(lam)
    want = np.array(want)
    got = np.array([float(np.squeeze(attempt(width_for, n, 0.1))) for n in ns])
    close(got, want, rtol=0.02, what="your width for each n at eps = 0.1",
          hint="tune the kernel student (w2s.tuned_student with p_student=None), then use "
               "w2s.width_correction at that penalty: its first_order is proportional to 1/p_S, "
               "so one evaluation at p_S = 1 is enough; the correction is relative to .kernel")
    half = np.array([float(np.squeeze(attempt(width_for, n, 0.05))) for n in ns])
    close(half, 2 * want, rtol=0.02, what="your width for each n at eps = 0.05",
          hint="the first-order correction is proportional to 1/p_S")
    exact = np.array([float(w2s.width_correction(spec, b, noise_var, n, 0.0, n, lam, p).exact)
                      / w2s.width_correction(spec, b, noise_var, n, 0.0, n, lam, p).kernel
                      for n, lam, p in zip(ns, lams, got)])
    grow = float(np.polyfit(np.log(ns), np.log(got), 1)[0])
    expect(bool(np.all(np.abs(exact / 0.1 - 1) < 0.5)),
           f"at these widths the exact relative corrections are {np.round(exact, 3)} (first order: "
           f"0.1), and the width grows like n^{grow:.2f} over n = 100..1600 "
           f"(q* = 1/(2 alpha m + 1) asymptotically)", "")

"""PiSSA and OLoRA initialisations and their conversion to a plain LoRA adapter, from PEFT's published definitions
(PyTorch 1.13, no PEFT needed), for PrincipalInitParityTests.

    /usr/bin/python3 principal_init_reference.py      # writes principal_init.safetensors next to this script

Definitions (PEFT's LoraLayer.pissa_init / olora_init and LoraModel.subtract_mutated_init, peft/tuners/lora):
  PiSSA       W0 [out, in] = V diag(S) U^T (thin SVD); S_r = S[:r] / s;  A = diag(sqrt(S_r)) U_r^T,  B = V_r diag(sqrt(S_r));
              W_res = W0 - s B A.  s = lora_alpha / r.
  pissa_niter_k  the same with (V_r, S, U_r) = torch.svd_lowrank(W0, q=r, niter=k): Halko et al. 2009 on the tall one of
              W0 / W0^T: Q = orth(M Omega), k times Q = orth(M^T Q), Q = orth(M Q); B_q = Q^T M = U_b S Vh; U = Q U_b.
              Omega is random, so it is written here and the test feeds the same Omega to the C# code.
  OLoRA       W0 = Q R (reduced QR);  B = Q[:, :r],  A = R[:r];  W_res = W0 - s B A.
  conversion  after training (A, B), with the initial (A0, B0): A' = [A; A0], B' = [B, -B0] (rank 2r, alpha doubled),
              so W0 + s B' A' = W_res + s B A.
SVD and QR factors are unique up to the sign of each component; the test aligns signs before comparing.
"""
import os
import torch
import safetensors_io

HERE = os.path.dirname(os.path.abspath(__file__))
R, ALPHA = 3, 6.0
S = ALPHA / R


def pissa(w, r, s, omega=None, niter=None):
    if niter is None:
        v, sv, uh = torch.linalg.svd(w, full_matrices=False)
        v, sv, uh = v[:, :r], sv[:r], uh[:r]
    else:
        v, sv, u = randomized_svd(w, r, niter, omega)
        uh = u.t()
    root = torch.sqrt(sv / s)
    a = torch.diag(root) @ uh
    b = v @ torch.diag(root)
    return a, b, w - s * (b @ a)


def randomized_svd(w, q, niter, omega):
    # current torch.svd_lowrank: work on the tall orientation, then swap U and V back
    wide = w.shape[0] < w.shape[1]
    m = w.t() if wide else w
    basis = torch.linalg.qr(m @ omega).Q
    for _ in range(niter):
        basis = torch.linalg.qr(m.t() @ basis).Q
        basis = torch.linalg.qr(m @ basis).Q
    ub, sv, vh = torch.linalg.svd(basis.t() @ m, full_matrices=False)
    u, v = basis @ ub, vh.t()
    return (v, sv, u) if wide else (u, sv, v)


def olora(w, r, s):
    q, rr = torch.linalg.qr(w)
    b, a = q[:, :r], rr[:r]
    return a, b, w - s * (b @ a)


def main():
    g = torch.Generator().manual_seed(2026)
    tall = torch.randn(12, 10, generator=g)          # out >= in
    wide = torch.randn(6, 10, generator=g)           # out < in
    omega_tall = torch.randn(10, R, generator=g)     # [in, q] for a tall W0
    omega_wide = torch.randn(6, R, generator=g)      # [out, q] for a wide W0 (its transpose is tall)
    out = {"tall": tall, "wide": wide, "omega_tall": omega_tall, "omega_wide": omega_wide}

    for name, w in (("tall", tall), ("wide", wide)):
        a, b, res = pissa(w, R, S)
        out.update({f"pissa_{name}_A": a, f"pissa_{name}_B": b, f"pissa_{name}_residual": res})
        a, b, res = pissa(w, R, S, omega=out[f"omega_{name}"], niter=2)
        out.update({f"pissa_niter2_{name}_A": a, f"pissa_niter2_{name}_B": b, f"pissa_niter2_{name}_residual": res})
        a, b, res = olora(w, R, S)
        out.update({f"olora_{name}_A": a, f"olora_{name}_B": b, f"olora_{name}_residual": res})

    # Conversion of a "trained" PiSSA adapter on the tall weight.
    a0, b0, res = out["pissa_tall_A"], out["pissa_tall_B"], out["pissa_tall_residual"]
    a_trained = a0 + 0.1 * torch.randn(a0.shape, generator=g)
    b_trained = b0 + 0.1 * torch.randn(b0.shape, generator=g)
    a_conv = torch.cat([a_trained, a0], dim=0)
    b_conv = torch.cat([b_trained, -b0], dim=1)
    assert torch.allclose(tall + S * (b_conv @ a_conv), res + S * (b_trained @ a_trained), atol=1e-5)
    out.update({"trained_A": a_trained, "trained_B": b_trained, "converted_A": a_conv, "converted_B": b_conv})

    safetensors_io.write(os.path.join(HERE, "principal_init.safetensors"), out)


if __name__ == "__main__":
    main()

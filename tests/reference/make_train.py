"""PyTorch reference values for the train layer: losses and optimisers.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_train.py

train_loss.txt   torch.nn.MSELoss / CrossEntropyLoss (class indices and
                 probability targets) values and gradients w.r.t. the prediction.
train_optim.txt  parameters after each of a few torch.optim.SGD / Adam steps
                 driven by a fixed sequence of gradients.
"""
import os

import numpy as np
import torch

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "data")
torch.manual_seed(0)


def f32(t):
    """Rounds to float32 (what the fixture stores) and computes in float64."""
    return t.float().double()


# ---- losses -------------------------------------------------------------------
loss = {}
pred = f32(torch.randn(3, 4)).requires_grad_()
target = f32(torch.randn(3, 4))
v = torch.nn.MSELoss()(pred, target)
v.backward()
loss.update(mse_pred=pred.detach(), mse_target=target, mse_value=v.detach().reshape(1),
            mse_grad=pred.grad)

logits = torch.randn(6, 5) * 3
logits[2] *= 40          # large spread: log-sum-exp must not overflow
logits[3] += 1000.0      # large offset: exp(1000) overflows without the max shift
logits = f32(logits).requires_grad_()
labels = torch.tensor([0, 4, 2, 1, 3, 4])
v = torch.nn.CrossEntropyLoss()(logits, labels)
v.backward()
loss.update(ce_logits=logits.detach(), ce_labels=labels.double(), ce_value=v.detach().reshape(1),
            ce_grad=logits.grad)

logits.grad = None
probs = f32(torch.softmax(torch.randn(6, 5), dim=1))
probs[5] *= 0.5          # rows need not sum to one
v = torch.nn.CrossEntropyLoss()(logits, probs)
v.backward()
loss.update(ce_probs=probs, ce_soft_value=v.detach().reshape(1), ce_soft_grad=logits.grad)
write_fixture(os.path.join(data, "train_loss.txt"), loss,
              comment="torch.nn.MSELoss() and CrossEntropyLoss() (mean reduction), computed in\n"
                      "float64 from the float32 inputs stored here; *_grad = d loss / d prediction")

# ---- optimisers ---------------------------------------------------------------
steps = 5
p0 = torch.randn(3, 4)
p1 = torch.randn(5)
g0 = [torch.randn(3, 4) for _ in range(steps)]
g1 = [torch.randn(5) * 0.1 for _ in range(steps)]
g1[1][2] = 0.0           # a zero gradient element
optim = {"p0": p0, "p1": p1}
for k in range(steps):
    optim["g0_%d" % k] = g0[k]
    optim["g1_%d" % k] = g1[k]

configs = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1,
                                               weight_decay=0.01),
    "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, weight_decay=0.05,
                                               nesterov=True),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
    "adam_wd": lambda ps: torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=1e-6,
                                           weight_decay=0.1),
}
for name, make in configs.items():
    q0 = p0.clone().requires_grad_()
    q1 = p1.clone().requires_grad_()
    opt = make([q0, q1])
    for k in range(steps):
        q0.grad = g0[k].clone()
        q1.grad = g1[k].clone()
        opt.step()
        optim["%s_p0_%d" % (name, k)] = q0.detach().clone()
        optim["%s_p1_%d" % (name, k)] = q1.detach().clone()
write_fixture(os.path.join(data, "train_optim.txt"), optim,
              comment="float32 parameters p0, p1 after each torch.optim step k driven by the\n"
                      "gradients g0_k, g1_k; configurations as in make_train.py")

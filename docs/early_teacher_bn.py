# Same question with training: SGD (lr 0.03, Nesterov 0.9) on 32 random faces with
# random labels per step; the teacher is the EMA of the student with Mean Teacher's
# warm-up (m_t = min(0.999, 1 - 1/(t+1))), BN statistics averaged too, as fer-cl does.
# Teacher confidence on a fresh batch of 96 in eval mode (running stats) vs with
# batch statistics, for BN momentum 0.1 (PyTorch default) and a cumulative average
# in the first steps (momentum = max(0.1, 1/(n+1))).
import copy, sys, torch, torchvision
torch.set_num_threads(1)
def make():
    m = torchvision.models.resnet18(num_classes=7)
    m.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    return m
def run(cumulative):
    torch.manual_seed(0)
    s = make(); t = copy.deepcopy(s)
    opt = torch.optim.SGD(s.parameters(), lr=0.03, momentum=0.9, nesterov=True, weight_decay=5e-4)
    bns = [m for m in s.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    g = torch.Generator().manual_seed(1)
    for step in range(60):
        u = torch.randn(96, 1, 48, 48, generator=g)
        if step in (0, 1, 2, 5, 10, 20, 40, 59):
            t.eval()
            with torch.no_grad(): ce = torch.softmax(t(u), 1).max(1).values
            t.train()
            with torch.no_grad():
                tt = copy.deepcopy(t); cb = torch.softmax(tt(u), 1).max(1).values
            t.eval()
            print(f"{'cumulative' if cumulative else 'momentum 0.1'} step {step:2d}: teacher eval-mode conf {ce.mean():.3f} (>0.8: {(ce>0.8).float().mean():.2f}), with batch stats {cb.mean():.3f} (>0.8: {(cb>0.8).float().mean():.2f})", flush=True)
        for b in bns: b.momentum = max(0.1, 1.0 / (step + 1)) if cumulative else 0.1
        x = torch.randn(32, 1, 48, 48, generator=g); y = torch.randint(0, 7, (32,), generator=g)
        s.train(); loss = torch.nn.functional.cross_entropy(s(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        m = min(0.999, 1 - 1 / (step + 1))
        with torch.no_grad():
            for pt, ps in zip(t.state_dict().values(), s.state_dict().values()):
                if pt.dtype.is_floating_point: pt.mul_(m).add_(ps, alpha=1 - m)
                else: pt.copy_(ps)
run(False); run(True)

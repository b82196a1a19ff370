#!/usr/bin/env python3
"""PyTorch's side of `cargo bench -p solutions --bench forward`: one eval-mode
forward pass of FCN-32s, 16s and 8s (the release's layers, 21 classes) on a
500x500 image, timed the same way (one warm-up, then the mean of 3 runs).

    python3 scripts/bench-forward.py [cuda]
"""
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

BLOCKS = [(3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3)]


class Fcn(nn.Module):
    def __init__(self, skips, classes=21):
        super().__init__()
        self.skips = skips
        layers = []
        for i, (cin, cout, n) in enumerate(BLOCKS):
            for j in range(n):
                pad = 100 if (i, j) == (0, 0) else 1
                layers.append(nn.Conv2d(cin if j == 0 else cout, cout, 3, padding=pad))
            layers.append(None)
        self.convs = nn.ModuleList([l for l in layers if l is not None])
        self.plan = [l is None for l in layers]
        self.fc6 = nn.Conv2d(512, 4096, 7)
        self.fc7 = nn.Conv2d(4096, 4096, 1)
        self.score_fr = nn.Conv2d(4096, classes, 1)
        self.score_pool4 = nn.Conv2d(512, classes, 1)
        self.score_pool3 = nn.Conv2d(256, classes, 1)
        k = {0: 64, 1: 32, 2: 16}[skips]
        self.up_final = nn.ConvTranspose2d(classes, classes, k, stride=k // 2, bias=False)
        self.up2 = nn.ConvTranspose2d(classes, classes, 4, stride=2, bias=False)
        self.up_pool4 = nn.ConvTranspose2d(classes, classes, 4, stride=2, bias=False)

    def forward(self, x):
        h, pools, convs = x, [], iter(self.convs)
        for is_pool in self.plan:
            h = F.max_pool2d(h, 2, 2, ceil_mode=True) if is_pool else F.relu(next(convs)(h))
            if is_pool:
                pools.append(h)
        h = F.dropout(F.relu(self.fc6(h)), 0.5, self.training)
        h = F.dropout(F.relu(self.fc7(h)), 0.5, self.training)
        h = self.score_fr(h)
        crop = lambda t, o, like: t[:, :, o:o + like.shape[2], o:o + like.shape[3]]
        if self.skips >= 1:
            h = self.up2(h)
            scale = 0.01 if self.skips == 2 else 1.0
            h = h + crop(self.score_pool4(pools[3] * scale), 5, h)
        if self.skips == 2:
            h = self.up_pool4(h)
            h = h + crop(self.score_pool3(pools[2] * 0.0001), 9, h)
        offset = {0: 19, 1: 27, 2: 31}[self.skips]
        return crop(self.up_final(h), offset, x)


def main():
    device = torch.device("cuda" if "cuda" in sys.argv[1:] else "cpu")
    print(f"device {device}, {torch.get_num_threads()} threads, input 1x3x500x500, eval mode, torch {torch.__version__}")
    for name, skips in [("FCN-32s", 0), ("FCN-16s", 1), ("FCN-8s", 2)]:
        net = Fcn(skips).to(device).eval()
        xs = torch.randn(1, 3, 500, 500, device=device) * 50.0
        with torch.no_grad():
            assert net(xs).shape == (1, 21, 500, 500)
            runs = 3
            started = time.perf_counter()
            for _ in range(runs):
                scores = net(xs)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                del scores
            print(f"{name}: {(time.perf_counter() - started) * 1000 / runs:.0f} ms per forward pass")


if __name__ == "__main__":
    main()

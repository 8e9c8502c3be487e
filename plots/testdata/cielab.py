# CIE 1976 L*a*b* (D65) of sRGB colours, the reference values of TestCIELAB
# (plots/manylang_test.go): sRGB decoding and matrix of IEC 61966-2-1, L*a*b* of CIE 15.
# Run: /usr/bin/python3 plots/testdata/cielab.py (Python 3, numpy 1.24.2).
import numpy as np
def lab(h):
    c = np.array([int(h[i:i+2], 16) for i in (1, 3, 5)]) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    M = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]])
    t = M @ c / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6/29)**3, np.cbrt(t), t / (3*(6/29)**2) + 4/29)
    return 116*f[1] - 16, 500*(f[0] - f[1]), 200*(f[1] - f[2])
for h in ["#ffffff", "#000000", "#ff0000", "#00ff00", "#0000ff", "#808080", "#bc6459"]:
    print(h, ["%.4f" % v for v in lab(h)])

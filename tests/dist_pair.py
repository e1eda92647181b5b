"""Builds the tiny random pair for tests/test_distributed.py: python tests/dist_pair.py out_dir."""
import sys

from vold_train.toy.models import make_tiny_pair

if __name__ == "__main__":
    s, t = make_tiny_pair(sys.argv[1], seed=0)
    print(s)
    print(t)

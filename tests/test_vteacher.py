"""The shipped toy-vteacher (vold_train/toy/vteacher.py) needs the picture exactly where VA-OPD
says it does: its visual advantage is far larger on the digits it transcribes from the picture
than on the rest of a worked trace. Skips when the vteacher is not there."""
import pytest

from vold_train.toy import models_dir

VT = models_dir() / "vteacher"
pytestmark = pytest.mark.skipif(not (VT / "config.json").exists(),
                                reason="toy-vteacher not built (vold toy build --vteacher)")


def test_visual_advantage_is_largest_on_image_bound_tokens():
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from vold_train.toy.vteacher import image_bound_va

    proc = AutoProcessor.from_pretrained(VT)
    model = AutoModelForImageTextToText.from_pretrained(VT).eval()
    r = image_bound_va(model, proc, n=8)
    bound, rest = r["bound"], r["rest"]
    assert len(bound) >= 16 and len(rest) > len(bound)
    mb, mr = sum(bound) / len(bound), sum(rest) / len(rest)
    assert mb > 1.0 and mb > 10 * mr, (mb, mr)
